/// Splits text into the chunks that BPE runs on independently (the "pre-tokenizer").
///
/// For llama.cpp's `smollm` (and `starcoder`, `refact`, ...) pre-type two regexes run in turn:
/// first `\p{N}` isolates every digit, then each piece is split by the GPT-2 pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
/// Both are hand-written here over Unicode scalars: `\p{L}` is a letter category
/// (Lu Ll Lt Lm Lo), `\p{N}` a number category (Nd Nl No), `\s` the White_Space property.
/// Source: llama.cpp `llama-vocab.cpp` (pre-type table) and `unicode.cpp`
/// (`unicode_regex_split_custom_gpt2`); HF tokenizers `Digits(individual_digits)` + `ByteLevel`.
public enum PreTokenizerKind: String, Sendable {
    /// GPT-2 pattern only (`gpt2`, `mpt`, `olmo`, and the default for unknown names).
    case gpt2
    /// Single digits first, then the GPT-2 pattern (`smollm`, `starcoder`, `refact`, `codeshell`, ...).
    case digitsThenGPT2

    /// The kind for a `tokenizer.ggml.pre` name.
    public init(preName: String?) {
        switch preName {
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            self = .digitsThenGPT2
        default:
            self = .gpt2
        }
    }
}

enum ScalarClass {
    case letter, number, whitespace, other

    init(_ s: Unicode.Scalar) {
        if s.properties.isWhitespace { self = .whitespace; return }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }
}

enum PreTokenizer {
    /// The chunks of `text` for `kind`; concatenated they give back `text` exactly.
    static func split(_ text: Substring, kind: PreTokenizerKind) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(ScalarClass.init)
        // Scalar index → String.Index, so chunks can be returned as substrings of `text`.
        var indices: [String.Index] = []
        indices.reserveCapacity(scalars.count + 1)
        var i = text.unicodeScalars.startIndex
        while i != text.unicodeScalars.endIndex {
            indices.append(i)
            i = text.unicodeScalars.index(after: i)
        }
        indices.append(text.endIndex)

        var ranges: [Range<Int>] = []
        switch kind {
        case .gpt2:
            gpt2Split(scalars, classes, 0 ..< scalars.count, into: &ranges)
        case .digitsThenGPT2:
            var start = 0
            for k in 0 ..< scalars.count where classes[k] == .number {
                if start < k { gpt2Split(scalars, classes, start ..< k, into: &ranges) }
                ranges.append(k ..< k + 1)
                start = k + 1
            }
            if start < scalars.count { gpt2Split(scalars, classes, start ..< scalars.count, into: &ranges) }
        }
        return ranges.map { text.unicodeScalars[indices[$0.lowerBound] ..< indices[$0.upperBound]] }
            .map { Substring($0) }
    }

    /// Appends the GPT-2 regex matches inside `range` (which is treated as the whole input,
    /// so look-ahead stops at its end).
    static func gpt2Split(_ s: [Unicode.Scalar], _ c: [ScalarClass], _ range: Range<Int>, into out: inout [Range<Int>]) {
        let end = range.upperBound
        var pos = range.lowerBound
        func cls(_ k: Int) -> ScalarClass? { k < end ? c[k] : nil }
        while pos < end {
            // 's 't 're 've 'm 'll 'd (case-sensitive, as in GPT-2)
            if s[pos] == "'", pos + 1 < end {
                let a = s[pos + 1]
                if a == "s" || a == "t" || a == "m" || a == "d" {
                    out.append(pos ..< pos + 2); pos += 2; continue
                }
                if pos + 2 < end {
                    let b = s[pos + 2]
                    if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") {
                        out.append(pos ..< pos + 3); pos += 3; continue
                    }
                }
            }
            // optional single space, then a run of letters / numbers / other symbols
            let lead = (s[pos] == " ") ? pos + 1 : pos
            if let kind = cls(lead), kind != .whitespace {
                var k = lead + 1
                while let next = cls(k), next == kind { k += 1 }
                out.append(pos ..< k); pos = k; continue
            }
            // whitespace: \s+(?!\S) then \s+
            var k = pos
            while let next = cls(k), next == .whitespace { k += 1 }
            if k == end || k - pos == 1 {
                out.append(pos ..< k); pos = k
            } else {
                // leave the last whitespace to prefix the following non-space run
                out.append(pos ..< k - 1); pos = k - 1
            }
        }
    }
}
