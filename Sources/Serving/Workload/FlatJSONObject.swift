/// A minimal scanner for one-line JSON objects whose values are numbers, `null`, or arrays
/// of integers: the shape of Mooncake and InferSim JSONL rows.
///
/// Scans bytes in place (no `JSONSerialization`, no allocation except for arrays), which is
/// what makes JSONL replay run at file-read speed. Anything outside that shape (strings,
/// nested objects, escapes in keys) is reported as a `RowProblem` naming the offset.
struct FlatJSONObject {
    enum Value {
        case number(lo: Int, hi: Int)
        /// The bytes between `[` and `]`.
        case array(lo: Int, hi: Int)
        case null
    }

    let p: UnsafeRawBufferPointer
    private var i = 0
    private var done = false
    private var members = 0
    /// Bit k is set once the row's parser has read the key it numbers k (see `once`).
    private var seen: UInt32 = 0

    init(_ line: UnsafeRawBufferPointer) throws(RowProblem) {
        p = line
        skipSpace()
        guard i < p.count, p[i] == 0x7B else { throw problem("expected '{' to open a JSON object") }
        i += 1
    }

    @inline(__always) private mutating func skipSpace() {
        while i < p.count, p[i] == 0x20 || p[i] == 0x09 { i += 1 }
    }

    private func problem(_ text: String) -> RowProblem {
        let found = i < p.count ? FieldParsing.quoted(p, i, min(p.count, i + 12)) : "end of line"
        return RowProblem(message: "\(text), found \(found)", column: i + 1)
    }

    /// The next member (key byte range and value), or `nil` after the closing `}`.
    mutating func next() throws(RowProblem) -> (keyLo: Int, keyHi: Int, value: Value)? {
        guard !done else { return nil }
        skipSpace()
        if members > 0 {
            if i < p.count, p[i] == 0x2C { i += 1; skipSpace() }
            else if i < p.count, p[i] == 0x7D { return try close() }
            else { throw problem("expected ',' or '}'") }
        } else if i < p.count, p[i] == 0x7D {
            return try close()
        }
        guard i < p.count, p[i] == 0x22 else { throw problem("expected '\"' to open a key") }
        i += 1
        let keyLo = i
        while i < p.count, p[i] != 0x22 {
            if p[i] == 0x5C { throw problem("escape sequences in keys are not supported") }
            i += 1
        }
        guard i < p.count else { throw problem("unterminated key") }
        let keyHi = i
        i += 1
        skipSpace()
        guard i < p.count, p[i] == 0x3A else { throw problem("expected ':' after key") }
        i += 1
        skipSpace()
        guard i < p.count else { throw problem("expected a value") }
        let value: Value
        switch p[i] {
        case 0x5B: // [
            i += 1
            let lo = i
            while i < p.count, p[i] != 0x5D {
                if p[i] == 0x5B || p[i] == 0x7B || p[i] == 0x22 { throw problem("expected an array of integers") }
                i += 1
            }
            guard i < p.count else { throw problem("unterminated array") }
            value = .array(lo: lo, hi: i)
            i += 1
        case 0x6E: // n
            guard i + 4 <= p.count, FieldParsing.equals(p, i, i + 4, "null") else { throw problem("expected a value") }
            i += 4
            value = .null
        case 0x22, 0x7B, 0x74, 0x66: // " { t f
            throw problem("expected a number, null, or an array of integers")
        default:
            let lo = i
            while i < p.count, p[i] != 0x2C, p[i] != 0x7D, p[i] != 0x20, p[i] != 0x09 { i += 1 }
            value = .number(lo: lo, hi: i)
        }
        members += 1
        return (keyLo, keyHi, value)
    }

    /// Marks key number `bit` (0..<32, the parser's own numbering) as read; a key given twice
    /// in one row is an error, as in a JSON file (a later value would silently win).
    mutating func once(_ bit: Int, _ name: String) throws(RowProblem) {
        let mask: UInt32 = 1 << UInt32(bit)
        guard seen & mask == 0 else { throw RowProblem(message: "duplicate key '\(name)'; give each key once") }
        seen |= mask
    }

    private mutating func close() throws(RowProblem) -> (keyLo: Int, keyHi: Int, value: Value)? {
        i += 1
        skipSpace()
        guard i == p.count else { throw problem("expected the end of the line after '}'") }
        done = true
        return nil
    }

    /// Parses the integers of an array value (`lo..<hi` between the brackets).
    func integers(_ name: String, lo: Int, hi: Int) throws(RowProblem) -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity((hi - lo) / 3 + 1)
        var cursor = lo
        var start = lo
        var anyContent = false
        while cursor <= hi {
            if cursor == hi || p[cursor] == 0x2C {
                var a = start
                var b = cursor
                FieldParsing.trim(p, &a, &b)
                if a == b {
                    if cursor == hi && !anyContent { break } // empty array
                    throw RowProblem(message: "field '\(name)': expected an integer array element, found an empty element")
                }
                guard case .value(let v) = FieldParsing.integer(p, a, b) else {
                    throw RowProblem(message: "field '\(name)': expected a non-negative integer array element, found \(FieldParsing.quoted(p, a, b))")
                }
                out.append(UInt64(v))
                anyContent = true
                start = cursor + 1
            }
            cursor += 1
        }
        return out
    }
}
