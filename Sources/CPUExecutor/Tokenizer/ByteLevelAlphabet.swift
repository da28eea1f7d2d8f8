/// GPT-2's reversible byte ↔ printable-character map (OpenAI `bytes_to_unicode`).
///
/// Bytes that are already printable and not whitespace (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to
/// the character with the same code point; the remaining 68 bytes map, in increasing
/// order, to U+0100, U+0101, …. So a space (0x20) becomes "Ġ" (U+0120) and a newline
/// (0x0A) becomes "Ċ" (U+010A). Byte-level BPE vocabularies are written in this alphabet.
enum ByteLevelAlphabet {
    /// `scalarForByte[b]` is the character that stands for byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0 ..< 256 {
            if (33 ... 126).contains(b) || (161 ... 172).contains(b) || (174 ... 255).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte`, keyed by code point.
    static let byteForScalar: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in scalarForByte.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The byte-level spelling of `bytes` (one character per byte).
    static func encode<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }

    /// The bytes a byte-level spelling stands for; characters outside the alphabet
    /// contribute their own UTF-8 bytes (as llama.cpp does for such pieces).
    static func decode(_ text: String, into bytes: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            if let b = byteForScalar[scalar.value] {
                bytes.append(b)
            } else {
                bytes.append(contentsOf: Array(String(scalar).utf8))
            }
        }
    }
}
