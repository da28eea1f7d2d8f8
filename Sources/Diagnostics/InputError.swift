/// InputError: the one error type for bad input anywhere in InferSim (profiles, scenarios,
/// traces, GGUF files, command-line options). It carries where the problem is, as a typed
/// `Origin`, and what was expected versus found; the CLI prints `description`, one line, and
/// exits with code 2.
///
/// This target sits at the bottom of the layering (no dependencies), so every target raises the
/// same type and no caller has to recognise an error by its text.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where in the input a problem is.
    public enum Origin: Equatable, Sendable {
        /// A file as a whole, or a named input that is not a file (`INFERSIM_HOME`, a built-in id).
        case file(String)
        /// A line, and where known a column (both 1-based), of a text file: a trace or JSON file.
        case line(file: String, line: Int, column: Int?)
        /// A JSON path inside a JSON file: `$.memoryTiers[0].capacityBytes`.
        case jsonPath(file: String, path: String)
        /// A command-line option: `--batch`.
        case option(String)
        /// A byte offset in a binary file (GGUF).
        case offset(file: String, Int)
        /// Raised inside the workload (a generator or a transformer) by code that does not know
        /// which file described it; `detail` is, e.g., `request 12`. The caller that does know
        /// places it with `placedInWorkload(file:)`.
        case workload(detail: String?)
    }

    public var origin: Origin
    /// What was expected and what was found.
    public var message: String

    public init(origin: Origin, _ message: String) {
        self.origin = origin
        self.message = message
    }

    /// A problem with a file as a whole.
    public init(file: String, _ message: String) { self.init(origin: .file(file), message) }
    /// A problem at a JSON path of a file.
    public init(file: String, jsonPath: String, _ message: String) { self.init(origin: .jsonPath(file: file, path: jsonPath), message) }
    /// A problem at a line (and column) of a text file.
    public init(file: String, line: Int, column: Int? = nil, _ message: String) {
        self.init(origin: .line(file: file, line: line, column: column), message)
    }
    /// A problem at a byte offset of a binary file.
    public init(file: String, offset: Int, _ message: String) { self.init(origin: .offset(file: file, offset), message) }
    /// A problem with a command-line option's value.
    public init(option: String, _ message: String) { self.init(origin: .option(option), message) }

    /// The file (or option) the problem is in, as printed.
    public var file: String {
        switch origin {
        case .file(let f), .line(let f, _, _), .jsonPath(let f, _), .offset(let f, _), .option(let f): return f
        case .workload: return "workload"
        }
    }

    /// Where in `file`, as printed: `line 3, column 7`, `$.seed`, `byte 1024`, or empty.
    public var location: String {
        switch origin {
        case .file, .option: return ""
        case .line(_, let line, let column): return column.map { "line \(line), column \($0)" } ?? "line \(line)"
        case .jsonPath(_, let path): return path
        case .offset(_, let offset): return "byte \(offset)"
        case .workload(let detail): return detail ?? ""
        }
    }

    /// A workload error placed at `$.workload` of the scenario file that described it; any
    /// other error is returned unchanged.
    public func placedInWorkload(file: String) -> InputError {
        guard case .workload(let detail) = origin else { return self }
        return InputError(file: file, jsonPath: "$.workload" + (detail.map { " (\($0))" } ?? ""), message)
    }

    /// The same error with its file renamed (e.g. a sweep point's label added); options and
    /// workload errors are unchanged.
    public func renamingFile(_ rename: (String) -> String) -> InputError {
        var copy = self
        switch origin {
        case .file(let f): copy.origin = .file(rename(f))
        case .line(let f, let l, let c): copy.origin = .line(file: rename(f), line: l, column: c)
        case .jsonPath(let f, let p): copy.origin = .jsonPath(file: rename(f), path: p)
        case .offset(let f, let o): copy.origin = .offset(file: rename(f), o)
        case .option, .workload: break
        }
        return copy
    }

    /// One line: control characters from the input (a newline inside a quoted value) are escaped.
    public var description: String {
        let location = self.location
        return (location.isEmpty ? "\(file): \(message)" : "\(file): \(location): \(message)").escapingControlCharacters
    }
}

extension String {
    /// The text on one line: newlines, tabs and other control characters written as escapes
    /// (`\n`, `\t`, `\u{1}`), for messages that quote names read from an input file.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return self }
        var out = ""
        for c in unicodeScalars {
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
