import Diagnostics
import GGUF

/// GPT-2-style byte-level BPE tokenizer built from a GGUF file's `tokenizer.ggml.*` metadata.
///
/// Encoding, as llama.cpp's `llm_tokenizer_bpe` does it:
/// 1. Special tokens (control and user-defined token types) are cut out of the text first,
///    longest match first, when `parseSpecial` is true (user-defined ones always).
/// 2. Each remaining span is pre-tokenized (`PreTokenizer`, chosen by `tokenizer.ggml.pre`).
/// 3. Each chunk's UTF-8 bytes are spelled in the byte-level alphabet (`ByteLevelAlphabet`),
///    one symbol per byte, and adjacent symbols are merged repeatedly, always the pair with the
///    lowest rank in `tokenizer.ggml.merges` (leftmost on ties), until no listed pair remains.
/// 4. Each final symbol is looked up in `tokenizer.ggml.tokens`; a symbol missing from the vocab
///    falls back to its single-byte tokens.
/// Decoding concatenates the token texts and maps the byte-level alphabet back to bytes.
///
/// - Complexity: O(n log n) in the bytes of each pre-tokenized chunk.
public struct BPETokenizer: Sendable {
    /// The GGUF token types (`llama_token_type`).
    public enum TokenType: Int32, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Token texts in the byte-level alphabet, indexed by id.
    public let tokens: [String]
    /// Token types, indexed by id (all `.normal` when the file has none).
    public let tokenTypes: [TokenType]
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let unknownTokenID: Int32?
    public let paddingTokenID: Int32?
    /// Whether `encode` prepends BOS (`tokenizer.ggml.add_bos_token`, default false).
    public let addsBOS: Bool
    /// Whether `encode` appends EOS (`tokenizer.ggml.add_eos_token`, default false).
    public let addsEOS: Bool
    /// `tokenizer.ggml.pre` ("smollm" for SmolLM2).
    public let preTokenizerName: String?
    public let preTokenizer: PreTokenizerKind
    /// `tokenizer.chat_template`, if present.
    public let chatTemplate: String?
    /// `tokenizer.ggml.eot_token_id` and `tokenizer.ggml.eom_token_id`, when present.
    let extraEndOfGenerationIDs: [Int32]

    private let idForToken: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id).
    private let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// Token id of each byte's single-character spelling (-1 if absent).
    private let byteTokenIDs: [Int32]
    /// Special tokens matched literally in the input, longest first.
    private let specialTokens: [(text: [UInt8], id: Int32, alwaysParsed: Bool)]

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// Reads the vocabulary, merges and token types from `gguf`.
    /// - Throws: `TokenizerError` naming the metadata key that is missing or malformed.
    public init(gguf: GGUFFile) throws {
        let model = gguf.metadata["tokenizer.ggml.model"]?.string
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model ?? "(missing tokenizer.ggml.model)") }
        guard let tokens = gguf.metadata["tokenizer.ggml.tokens"]?.stringArray, !tokens.isEmpty else {
            throw TokenizerError.invalidMetadata(key: "tokenizer.ggml.tokens", reason: "expected a non-empty array of strings")
        }
        let mergeList = gguf.metadata["tokenizer.ggml.merges"]?.stringArray
        guard let mergeList else {
            throw TokenizerError.invalidMetadata(key: "tokenizer.ggml.merges", reason: "expected an array of strings")
        }
        var types = [TokenType](repeating: .normal, count: tokens.count)
        if let value = gguf.metadata["tokenizer.ggml.token_type"] {
            guard let raw = value.intArray, raw.count == tokens.count else {
                throw TokenizerError.invalidMetadata(key: "tokenizer.ggml.token_type",
                                                     reason: "expected \(tokens.count) integers, one per token")
            }
            for (i, t) in raw.enumerated() {
                guard let type = Int32(exactly: t).flatMap(TokenType.init(rawValue:)) else {
                    throw TokenizerError.invalidMetadata(key: "tokenizer.ggml.token_type[\(i)]", reason: "unknown token type \(t)")
                }
                types[i] = type
            }
        }
        func optionalID(_ key: String) throws -> Int32? {
            guard let value = gguf.metadata[key] else { return nil }
            guard let i = value.int, i >= 0, i < tokens.count else {
                throw TokenizerError.invalidMetadata(key: key, reason: "expected a token id in 0..<\(tokens.count), found \(value)")
            }
            return Int32(i)
        }
        bosTokenID = try optionalID("tokenizer.ggml.bos_token_id")
        eosTokenID = try optionalID("tokenizer.ggml.eos_token_id")
        unknownTokenID = try optionalID("tokenizer.ggml.unknown_token_id")
        paddingTokenID = try optionalID("tokenizer.ggml.padding_token_id")
        extraEndOfGenerationIDs = try ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"].compactMap(optionalID)
        addsBOS = gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false
        addsEOS = gguf.metadata["tokenizer.ggml.add_eos_token"]?.bool ?? false
        preTokenizerName = gguf.metadata["tokenizer.ggml.pre"]?.string
        preTokenizer = PreTokenizerKind(preName: preTokenizerName)
        chatTemplate = gguf.metadata["tokenizer.chat_template"]?.string

        var idForToken: [String: Int32] = [:]
        idForToken.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where idForToken[t] == nil { idForToken[t] = Int32(i) }

        var merges: [UInt64: (rank: Int32, merged: Int32)] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, line) in mergeList.enumerated() {
            // "left right": split at the first space after the first character (a piece is never empty).
            guard let space = line.dropFirst().firstIndex(of: " ") else {
                throw TokenizerError.invalidMetadata(key: "tokenizer.ggml.merges[\(rank)]", reason: "expected \"left right\", found \"\(line)\"")
            }
            let left = String(line[..<space]), right = String(line[line.index(after: space)...])
            // Pairs whose parts or result are not in the vocab can never apply; skip them.
            guard let l = idForToken[left], let r = idForToken[right], let m = idForToken[left + right] else { continue }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), m) }
        }

        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0 ..< 256 {
            byteIDs[b] = idForToken[String(ByteLevelAlphabet.scalarForByte[b])] ?? -1
        }

        var specials: [(text: [UInt8], id: Int32, alwaysParsed: Bool)] = []
        for (i, type) in types.enumerated() where type == .control || type == .userDefined {
            let text = Array(tokens[i].utf8)
            guard !text.isEmpty else { continue }
            specials.append((text, Int32(i), type == .userDefined))
        }
        specials.sort { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.id < $1.id }

        self.tokens = tokens
        self.tokenTypes = types
        self.idForToken = idForToken
        self.merges = merges
        self.byteTokenIDs = byteIDs
        self.specialTokens = specials
    }

    /// The id of a token given in the byte-level alphabet (e.g. "Ġthe", "<|im_end|>").
    public func tokenID(_ text: String) -> Int32? { idForToken[text] }

    /// Token type of `id`.
    public func tokenType(_ id: Int32) -> TokenType {
        id >= 0 && Int(id) < tokenTypes.count ? tokenTypes[Int(id)] : .undefined
    }

    /// Tokenizes `text`. BOS/EOS are added as the file asks (`add_bos_token`, `add_eos_token`).
    /// With `parseSpecial`, control tokens such as `<|im_start|>` written in the text become their ids.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        if addsBOS, let bos = bosTokenID { ids.append(bos) }
        for segment in splitSpecial(text, parseSpecial: parseSpecial) {
            switch segment {
            case .special(let id): ids.append(id)
            case .text(let span):
                for chunk in PreTokenizer.split(span, kind: preTokenizer) {
                    encodeChunk(Array(chunk.utf8), into: &ids)
                }
            }
        }
        if addsEOS, let eos = eosTokenID { ids.append(eos) }
        return ids
    }

    /// Concatenated bytes of the tokens. Control tokens are rendered as their text when
    /// `renderSpecial` is true (the default), and skipped otherwise (llama.cpp's default).
    public func decodeBytes(_ ids: [Int32], renderSpecial: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { appendBytes(of: id, renderSpecial: renderSpecial, to: &bytes) }
        return bytes
    }

    /// The text of `ids`; invalid UTF-8 (a token sequence cut inside a character) becomes U+FFFD.
    public func decode(_ ids: [Int32], renderSpecial: Bool = true) -> String {
        String(decoding: decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }

    /// The text of one token ("Ġupon" → " upon"; "<|im_end|>" → "<|im_end|>"); "" for an invalid id.
    public func piece(_ id: Int32) -> String {
        var bytes: [UInt8] = []
        appendBytes(of: id, renderSpecial: true, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func appendBytes(of id: Int32, renderSpecial: Bool, to bytes: inout [UInt8]) {
        guard id >= 0, Int(id) < tokens.count else { return }
        switch tokenTypes[Int(id)] {
        case .control, .unknown, .unused:
            if renderSpecial { bytes.append(contentsOf: tokens[Int(id)].utf8) }
        case .userDefined:
            bytes.append(contentsOf: tokens[Int(id)].utf8)
        default:
            ByteLevelAlphabet.decode(tokens[Int(id)], into: &bytes)
        }
    }

    // MARK: - Special-token partition

    private enum Segment { case text(Substring), special(Int32) }

    /// Cuts `text` at special tokens (longest first at each position).
    private func splitSpecial(_ text: String, parseSpecial: Bool) -> [Segment] {
        let candidates = specialTokens.filter { parseSpecial || $0.alwaysParsed }
        guard !candidates.isEmpty else { return [.text(Substring(text))] }
        let utf8 = Array(text.utf8)
        var segments: [Segment] = []
        var textStart = 0
        var pos = 0
        func flush(_ upTo: Int) {
            guard textStart < upTo else { return }
            let lower = text.utf8.index(text.utf8.startIndex, offsetBy: textStart)
            let upper = text.utf8.index(text.utf8.startIndex, offsetBy: upTo)
            segments.append(.text(text[lower ..< upper]))
        }
        while pos < utf8.count {
            var matched: (length: Int, id: Int32)?
            // Special tokens start with a scalar boundary, so `pos` on a continuation byte never matches.
            for candidate in candidates where candidate.text.count <= utf8.count - pos && candidate.text[0] == utf8[pos] {
                if utf8[pos ..< pos + candidate.text.count].elementsEqual(candidate.text) {
                    matched = (candidate.text.count, candidate.id)
                    break
                }
            }
            if let m = matched {
                flush(pos)
                segments.append(.special(m.id))
                pos += m.length
                textStart = pos
            } else {
                pos += 1
            }
        }
        flush(utf8.count)
        return segments
    }

    // MARK: - BPE

    private func encodeChunk(_ bytes: [UInt8], into ids: inout [Int32]) {
        guard !bytes.isEmpty else { return }
        let symbols = merge(bytes.map { byteTokenIDs[Int($0)] })
        for s in symbols {
            if s >= 0 { ids.append(s) } else if let unk = unknownTokenID { ids.append(unk) }
        }
    }

    /// The rank and result of merging `left` and `right`, if the merge list has that pair.
    @inline(__always)
    private func mergeOf(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        guard left >= 0, right >= 0 else { return nil }
        return merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))]
    }

    /// Applies merges to a symbol sequence: repeatedly merge the adjacent pair of lowest rank
    /// (leftmost on ties). Symbols are kept in a linked list and candidate pairs in a min-heap
    /// keyed by (rank, position); stale heap entries are skipped when popped.
    /// - Complexity: O(n log n) for n symbols.
    func merge(_ initial: [Int32]) -> [Int32] {
        let n = initial.count
        guard n > 1 else { return initial }
        var symbol = initial
        var next = Array(1 ... n)        // n = end of list
        var prev = Array(-1 ..< n - 1)   // -1 = start of list
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeQueue()
        for i in 0 ..< n - 1 {
            if let m = mergeOf(symbol[i], symbol[i + 1]) {
                heap.push(.init(rank: m.rank, position: Int32(i), left: symbol[i], right: symbol[i + 1]))
            }
        }
        while let candidate = heap.pop() {
            let i = Int(candidate.position)
            guard alive[i], symbol[i] == candidate.left else { continue }
            let j = next[i]
            guard j < n, symbol[j] == candidate.right, let m = mergeOf(symbol[i], symbol[j]) else { continue }
            symbol[i] = m.merged
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            if prev[i] >= 0, let p = mergeOf(symbol[prev[i]], symbol[i]) {
                heap.push(.init(rank: p.rank, position: Int32(prev[i]), left: symbol[prev[i]], right: symbol[i]))
            }
            if next[i] < n, let q = mergeOf(symbol[i], symbol[next[i]]) {
                heap.push(.init(rank: q.rank, position: Int32(i), left: symbol[i], right: symbol[next[i]]))
            }
        }
        var out: [Int32] = []
        var k = 0
        while k < n { out.append(symbol[k]); k = next[k] }
        return out
    }

    /// The obvious O(n²) form of `merge`, kept as the reference it is tested against.
    func mergeReference(_ initial: [Int32]) -> [Int32] {
        var symbols = initial
        while symbols.count > 1 {
            var bestRank = Int32.max, bestIndex = -1, bestMerged: Int32 = -1
            for i in 0 ..< symbols.count - 1 {
                if let m = mergeOf(symbols[i], symbols[i + 1]), m.rank < bestRank {
                    bestRank = m.rank; bestIndex = i; bestMerged = m.merged
                }
            }
            guard bestIndex >= 0 else { break }
            symbols[bestIndex] = bestMerged
            symbols.remove(at: bestIndex + 1)
        }
        return symbols
    }

    /// Byte-alphabet token ids of `bytes` (-1 where the vocabulary lacks a byte), for tests.
    func byteSymbols(_ bytes: [UInt8]) -> [Int32] { bytes.map { byteTokenIDs[Int($0)] } }
}

/// Why a tokenizer could not be built from a GGUF file.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `tokenizer.ggml.model` is not "gpt2" (byte-level BPE).
    case unsupportedModel(String)
    /// A `tokenizer.*` key is missing or has the wrong shape.
    case invalidMetadata(key: String, reason: String)

    /// One line: names read from the file are quoted as they are, with control characters escaped.
    public var description: String { rawDescription.escapingControlCharacters }

    var rawDescription: String {
        switch self {
        case .unsupportedModel(let m):
            return "Tokenizer: tokenizer.ggml.model is \"\(m)\"; only \"gpt2\" (byte-level BPE) is supported"
        case .invalidMetadata(let key, let reason):
            return "Tokenizer: metadata \(key): \(reason)"
        }
    }
}
