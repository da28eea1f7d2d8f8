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

    /// One line: control characters from the input (a newline inside a quoted value) are escaped.
    public var description: String {
        let line = location.isEmpty ? "\(file): \(message)" : "\(file): \(location): \(message)"
        guard line.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return line }
        var out = ""
        for c in line.unicodeScalars {
            switch c {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7f { out += "\\u{" + String(c.value, radix: 16) + "}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
