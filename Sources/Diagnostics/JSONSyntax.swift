import Foundation

/// A strict JSON (RFC 8259) syntax check that runs before decoding, so that a malformed file is
/// reported at its line and column with what was expected and what was found, and so that a key
/// given twice in one object is an error rather than a silent override (`JSONSerialization` keeps
/// one of the two values without a word).
///
/// Also bounds nesting (`maximumDepth`), so no input can exhaust the stack of a recursive parser.
/// Lines and columns are 1-based; a column counts bytes of UTF-8 from the line's start.
public enum JSONSyntax {
    /// The deepest nesting of arrays and objects accepted. InferSim's files nest at most 6 deep.
    public static let maximumDepth = 128

    /// - Throws: `InputError` at the line and column of the first syntax error, or at the JSON
    ///   path of the first duplicate key.
    public static func check(_ bytes: UnsafeRawBufferPointer, file: String) throws(InputError) {
        var scanner = Scanner(p: bytes, file: file)
        try scanner.document()
    }

    /// Convenience over `Data`, `[UInt8]` and other contiguous bytes.
    public static func check<Bytes: ContiguousBytes>(_ bytes: Bytes, file: String) throws {
        var failure: InputError?
        bytes.withUnsafeBytes { raw in
            var scanner = Scanner(p: raw, file: file)
            do { try scanner.document() } catch { failure = error as? InputError }
        }
        if let failure { throw failure }
    }

    struct Scanner {
        let p: UnsafeRawBufferPointer
        let file: String
        var i = 0
        var depth = 0
        /// The JSON path of the value being scanned, for duplicate-key errors.
        var path: [Step] = []
        enum Step { case key(String), index(Int) }

        init(p: UnsafeRawBufferPointer, file: String) {
            self.p = p
            self.file = file
        }

        mutating func document() throws(InputError) {
            if p.count >= 3, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF { i = 3 }  // UTF-8 byte-order mark
            skipSpace()
            guard i < p.count else { throw problem(at: i, "expected a JSON value, found an empty file") }
            try value()
            skipSpace()
            guard i == p.count else { throw problem(at: i, "expected the end of the file after the JSON value, found \(found(i))") }
        }

        mutating func skipSpace() {
            while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        }

        mutating func value() throws(InputError) {
            guard i < p.count else { throw problem(at: i, "expected a value, found the end of the file") }
            switch p[i] {
            case 0x7B: try object()
            case 0x5B: try array()
            case 0x22: _ = try string(keepingText: false)
            case 0x74: try literal("true")
            case 0x66: try literal("false")
            case 0x6E: try literal("null")
            case 0x2D, 0x30...0x39: try number()
            default: throw problem(at: i, "expected a value (object, array, string, number, true, false or null), found \(found(i))")
            }
        }

        mutating func enter() throws(InputError) {
            depth += 1
            guard depth <= JSONSyntax.maximumDepth else {
                throw problem(at: i, "nested deeper than \(JSONSyntax.maximumDepth) levels of arrays and objects")
            }
        }

        mutating func object() throws(InputError) {
            try enter()
            i += 1
            var keys: [String: Int] = [:]
            skipSpace()
            if i < p.count, p[i] == 0x7D { i += 1; depth -= 1; return }
            while true {
                skipSpace()
                guard i < p.count, p[i] == 0x22 else {
                    throw problem(at: i, "expected a key (a string in double quotes), found \(found(i))")
                }
                let keyStart = i
                let key = try string(keepingText: true)
                if let first = keys[key] {
                    let (line, column) = lineAndColumn(first)
                    throw InputError(file: file, jsonPath: render(path + [.key(key)]),
                                     "duplicate key \(JSONText.quoted(key)) (first at line \(line), column \(column)); give each key once")
                }
                keys[key] = keyStart
                skipSpace()
                guard i < p.count, p[i] == 0x3A else { throw problem(at: i, "expected ':' after the key \(JSONText.quoted(key)), found \(found(i))") }
                i += 1
                skipSpace()
                path.append(.key(key))
                try value()
                path.removeLast()
                skipSpace()
                guard i < p.count else { throw problem(at: i, "expected ',' or '}', found the end of the file") }
                if p[i] == 0x2C { i += 1; continue }
                if p[i] == 0x7D { i += 1; depth -= 1; return }
                throw problem(at: i, "expected ',' or '}' after the value of \(JSONText.quoted(key)), found \(found(i))")
            }
        }

        mutating func array() throws(InputError) {
            try enter()
            i += 1
            skipSpace()
            if i < p.count, p[i] == 0x5D { i += 1; depth -= 1; return }
            var index = 0
            while true {
                skipSpace()
                path.append(.index(index))
                try value()
                path.removeLast()
                skipSpace()
                guard i < p.count else { throw problem(at: i, "expected ',' or ']', found the end of the file") }
                if p[i] == 0x2C { i += 1; index += 1; continue }
                if p[i] == 0x5D { i += 1; depth -= 1; return }
                throw problem(at: i, "expected ',' or ']' after an array element, found \(found(i))")
            }
        }

        /// Scans a string starting at its opening quote; returns its decoded text if asked.
        mutating func string(keepingText: Bool) throws(InputError) -> String {
            let start = i
            i += 1
            var text: [UInt8] = []
            while true {
                guard i < p.count else { throw problem(at: start, "unterminated string (no closing '\"')") }
                let c = p[i]
                switch c {
                case 0x22:
                    i += 1
                    return keepingText ? String(decoding: text, as: UTF8.self) : ""
                case 0x5C:
                    guard i + 1 < p.count else { throw problem(at: i, "unterminated escape sequence") }
                    let e = p[i + 1]
                    switch e {
                    case 0x22, 0x5C, 0x2F: text.append(e); i += 2
                    case 0x62: text.append(0x08); i += 2
                    case 0x66: text.append(0x0C); i += 2
                    case 0x6E: text.append(0x0A); i += 2
                    case 0x72: text.append(0x0D); i += 2
                    case 0x74: text.append(0x09); i += 2
                    case 0x75:
                        var unit = try hex4(at: i + 2)
                        i += 6
                        if (0xD800..<0xDC00).contains(unit), i + 5 < p.count, p[i] == 0x5C, p[i + 1] == 0x75 {
                            let low = try hex4(at: i + 2)
                            if (0xDC00..<0xE000).contains(low) {
                                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                                i += 6
                            }
                        }
                        if keepingText { text.append(contentsOf: Array(String(Unicode.Scalar(unit) ?? "\u{FFFD}").utf8)) }
                    default:
                        throw problem(at: i, "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), found \(found(i))")
                    }
                default:
                    guard c >= 0x20 else { throw problem(at: i, "a control character must be escaped inside a string, found \(found(i))") }
                    if keepingText { text.append(c) }
                    i += 1
                }
            }
        }

        func hex4(at j: Int) throws(InputError) -> UInt32 {
            guard j + 4 <= p.count else { throw problem(at: j - 2, "expected \\u and four hex digits") }
            var v: UInt32 = 0
            for k in j..<(j + 4) {
                let c = p[k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw problem(at: k, "expected a hex digit in \\uXXXX, found \(found(k))")
                }
                v = v << 4 | d
            }
            return v
        }

        mutating func literal(_ word: String) throws(InputError) {
            let bytes = Array(word.utf8)
            let n = bytes.count
            var matches = i + n <= p.count
            if matches { for k in 0..<n where p[i + k] != bytes[k] { matches = false } }
            guard matches else { throw problem(at: i, "expected a value (object, array, string, number, true, false or null), found \(found(i))") }
            i += n
        }

        mutating func number() throws(InputError) {
            let start = i
            if p[i] == 0x2D { i += 1 }
            guard i < p.count, isDigit(p[i]) else { throw problem(at: start, "expected a digit in the number, found \(found(i))") }
            if p[i] == 0x30 {
                i += 1
                if i < p.count, isDigit(p[i]) { throw problem(at: start, "a number must not start with 0 (found a leading zero)") }
            } else {
                while i < p.count, isDigit(p[i]) { i += 1 }
            }
            if i < p.count, p[i] == 0x2E {
                i += 1
                guard i < p.count, isDigit(p[i]) else { throw problem(at: i, "expected a digit after the decimal point, found \(found(i))") }
                while i < p.count, isDigit(p[i]) { i += 1 }
            }
            if i < p.count, p[i] == 0x65 || p[i] == 0x45 {
                i += 1
                if i < p.count, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
                guard i < p.count, isDigit(p[i]) else { throw problem(at: i, "expected a digit in the exponent, found \(found(i))") }
                while i < p.count, isDigit(p[i]) { i += 1 }
            }
        }

        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        /// What is at `j`, for a message: a quoted character or a few characters, or the end.
        func found(_ j: Int) -> String {
            guard j < p.count else { return "the end of the file" }
            var end = j
            while end < p.count, end - j < 12, p[end] != 0x0A, p[end] != 0x0D { end += 1 }
            if end == j { return "a line break" }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: p[j..<end]), as: UTF8.self)
            return JSONText.quoted(text)
        }

        func lineAndColumn(_ offset: Int) -> (Int, Int) {
            var line = 1
            var lineStart = 0
            var k = 0
            let end = min(offset, p.count)
            while k < end {
                if p[k] == 0x0A { line += 1; lineStart = k + 1 }
                k += 1
            }
            return (line, offset - lineStart + 1)
        }

        func problem(at offset: Int, _ message: String) -> InputError {
            let (line, column) = lineAndColumn(offset)
            return InputError(file: file, line: line, column: column, "not valid JSON: " + message)
        }

        func render(_ steps: [Step]) -> String {
            var out = "$"
            for s in steps {
                switch s {
                case .key(let k): out += "." + k
                case .index(let n): out += "[\(n)]"
                }
            }
            return out
        }
    }
}
