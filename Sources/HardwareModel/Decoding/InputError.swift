/// A problem with user input: a profile, a scenario, a trace or a command-line value.
///
/// Always says where (file, then a line or a JSON path) and what was expected versus what was
/// found, in one line. The CLI prints `description` and exits with code 2.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file the input came from, or a pseudo-name such as `--batch`.
    public var file: String
    /// Where in the file: `line 12`, or a JSON path such as `$.memoryTiers[0].capacityBytes`.
    /// Empty when the whole file is meant.
    public var location: String
    public var message: String

    public init(file: String, location: String = "", _ message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        location.isEmpty ? "\(file): \(message)" : "\(file): \(location): \(message)"
    }
}
