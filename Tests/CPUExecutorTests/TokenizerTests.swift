import Foundation
import GGUF
import TestSupport
import Testing

@testable import CPUExecutor

/// Byte-level BPE tokenizer: pre-tokenizer splits, merges, special tokens, round trips on the
/// generated tiny vocabulary, and exact agreement with llama.cpp on SmolLM2 (when present).
struct TokenizerTests {
    static let tiny: BPETokenizer = {
        let file = try! GGUFFile(bytes: TinyLlama.make(seed: 1))
        return try! BPETokenizer(gguf: file)
    }()

    func chunks(_ text: String, _ kind: PreTokenizerKind = .digitsThenGPT2) -> [String] {
        PreTokenizer.split(Substring(text), kind: kind).map(String.init)
    }

    @Test func gpt2PatternSplitsWordsPunctuationAndSpaces() {
        #expect(chunks("Hello world", .gpt2) == ["Hello", " world"])
        #expect(chunks("it's they're I'll", .gpt2) == ["it", "'s", " they", "'re", " I", "'ll"])
        #expect(chunks("a  b", .gpt2) == ["a", " ", " b"])
        #expect(chunks("a\n\nb", .gpt2) == ["a", "\n", "\n", "b"])
        #expect(chunks("x   \n  y", .gpt2) == ["x", "   \n ", " y"])
        #expect(chunks("end  ", .gpt2) == ["end", "  "])
        #expect(chunks("hi!!! ?? ok", .gpt2) == ["hi", "!!!", " ??", " ok"])
        #expect(chunks("año 2024", .gpt2) == ["año", " 2024"])
        #expect(chunks("'S", .gpt2) == ["'", "S"])  // contractions are case-sensitive
    }

    @Test func smolLMSplitsDigitsIndividually() {
        #expect(chunks("año 2024!") == ["año", " ", "2", "0", "2", "4", "!"])
        #expect(chunks("x1y") == ["x", "1", "y"])
        #expect(chunks("½ and Ⅻ") == ["½", " and", " ", "Ⅻ"])
    }

    @Test func preTokenizerChunksConcatenateToTheInput() {
        var rng = SplitMix64(seed: 5)
        let alphabet: [Character] = ["a", "Z", " ", " ", "\n", "\t", "'", "s", "1", "9", "!", ".", "é", "日", "🙂", "\u{0301}", "\u{00A0}", "٣"]
        for _ in 0 ..< 300 {
            let text = String((0 ..< Int(rng.next() % 40)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            for kind in [PreTokenizerKind.gpt2, .digitsThenGPT2] {
                let parts = chunks(text, kind)
                #expect(parts.joined() == text)
                #expect(!parts.contains(""))
            }
        }
    }

    @Test func mergesApplyInRankOrder() throws {
        let t = Self.tiny
        // " the" → Ġ t h e → (Ġt)(he) → (Ġthe)
        #expect(t.encode(" the") == [try #require(t.tokenID("Ġthe"))])
        // "and" has no Ġ: a n d → (an) d
        #expect(t.encode("and") == [try #require(t.tokenID("an")), try #require(t.tokenID("d"))])
        #expect(t.encode(" and") == [try #require(t.tokenID("Ġand"))])
        #expect(t.encode("") == [])
        #expect(t.vocabularySize == TinyLlama.tokens.count)
        #expect(t.bosTokenID == 1 && t.eosTokenID == 2 && !t.addsBOS)
    }

    @Test func heapMergeMatchesQuadraticReference() {
        var rng = SplitMix64(seed: 31)
        let alphabet = Array("the and in ing is of to  \n".utf8)
        for _ in 0 ..< 500 {
            let bytes = (0 ..< Int(rng.next() % 60)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let symbols = Self.tiny.byteSymbols(bytes)
            #expect(Self.tiny.merge(symbols) == Self.tiny.mergeReference(symbols))
        }
    }

    @Test func specialTokensAreMatchedOnlyWhenParsingSpecial() throws {
        let t = Self.tiny
        let text = "<|im_start|>user\nhi<|im_end|>"
        let parsed = t.encode(text)
        #expect(parsed.first == 1 && parsed.last == 2)
        #expect(t.decode(parsed) == text)
        let literal = t.encode(text, parseSpecial: false)
        #expect(!literal.contains(1) && !literal.contains(2))
        #expect(t.decode(literal) == text)
        #expect(t.decode(parsed, renderSpecial: false) == "user\nhi")
        #expect(t.piece(2) == "<|im_end|>")
        #expect(t.piece(try #require(t.tokenID("Ġthe"))) == " the")
        #expect(t.piece(-1) == "" && t.piece(100_000) == "")
    }

    @Test func endOfGenerationTokensFollowLlamaCpp() throws {
        let t = Self.tiny
        #expect(t.endOfGenerationTokenIDs == [0, 2])  // <|endoftext|>, <|im_end|> (eos)
        #expect(t.isEndOfGeneration(2) && t.isEndOfGeneration(0))
        let the = try #require(t.tokenID("Ġthe"))
        #expect(!t.isEndOfGeneration(1) && !t.isEndOfGeneration(the) && !t.isEndOfGeneration(-5))
    }

    @Test func randomStringsRoundTrip() {
        var rng = SplitMix64(seed: 2024)
        let pieces = ["the", " the", " and", "in", "ing", " ", "  ", "\n", "\n\n", "'s", "12", "é", "日本", "🙂", "\u{0301}", "!", "<|im_end|>", "<|im", "\t"]
        for _ in 0 ..< 300 {
            let text = (0 ..< Int(rng.next() % 20)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
            let ids = Self.tiny.encode(text)
            #expect(Self.tiny.decode(ids) == text, "\(text.debugDescription) → \(ids)")
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < Self.tiny.vocabularySize })
        }
    }

    @Test func randomBytesRoundTripThroughDecodeBytes() {
        var rng = SplitMix64(seed: 77)
        for _ in 0 ..< 200 {
            let bytes = rng.bytes(count: Int(rng.next() % 64))
            let text = String(decoding: bytes, as: UTF8.self)  // lossy: invalid sequences become U+FFFD
            let ids = Self.tiny.encode(text, parseSpecial: false)
            #expect(Self.tiny.decodeBytes(ids) == Array(text.utf8))
        }
    }

    @Test func chatTemplateUsesDefaultSystemPrompt() {
        let t = Self.tiny
        #expect(t.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let withDefault = t.applyChatTemplate(messages: [(role: "user", content: "Hi")], addGenerationPrompt: true)
        #expect(withDefault == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let own = t.applyChatTemplate(messages: [(role: "system", content: "Be brief."), (role: "user", content: "Hi")], addGenerationPrompt: false)
        #expect(own == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
    }

    @Test func missingVocabularyIsReportedByKey() throws {
        var writer = TinyGGUFWriter()
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        #expect(throws: TokenizerError.invalidMetadata(key: "tokenizer.ggml.tokens", reason: "expected a non-empty array of strings")) {
            try BPETokenizer(gguf: GGUFFile(bytes: writer.bytes()))
        }
        var llama = TinyGGUFWriter()
        llama.add("tokenizer.ggml.model", .string("llama"))
        #expect(throws: TokenizerError.unsupportedModel("llama")) { try BPETokenizer(gguf: GGUFFile(bytes: llama.bytes())) }
    }
}

/// Exact agreement with llama.cpp's tokenization of the three reference prompts.
@Suite(.enabled(if: SmolLM2Tokenizer.isAvailable, "models/SmolLM2-135M-Instruct.Q4_1.gguf is absent"))
struct SmolLM2TokenizerTests {
    struct Prompt { var id: String; var text: String; var ids: [Int32]; var pieces: [String]; var messages: [(role: String, content: String)]?; var greedyIDs: [Int32]; var greedyText: String }

    static func prompts() throws -> [Prompt] {
        let data = try Data(contentsOf: URL(fileURLWithPath: SmolLM2Tokenizer.referencePath))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try #require(json["prompts"] as? [[String: Any]])
        return try list.map { p in
            let messages = (p["messages"] as? [[String: String]])?.map { (role: $0["role"]!, content: $0["content"]!) }
            return Prompt(id: try #require(p["id"] as? String), text: try #require(p["text"] as? String),
                          ids: try #require(p["prompt_token_ids"] as? [Int]).map { Int32($0) },
                          pieces: try #require(p["prompt_token_pieces"] as? [String]), messages: messages,
                          greedyIDs: try #require(p["greedy_token_ids"] as? [Int]).map { Int32($0) },
                          greedyText: try #require(p["greedy_text"] as? String))
        }
    }

    @Test func promptTokenIDsMatchLlamaCpp() throws {
        let t = try SmolLM2Tokenizer.shared()
        let prompts = try Self.prompts()
        #expect(prompts.count == 3)
        for p in prompts {
            let text = p.messages.map { t.applyChatTemplate(messages: $0, addGenerationPrompt: true) } ?? p.text
            #expect(text == p.text, "template for \(p.id)")
            let ids = t.encode(text)
            #expect(ids == p.ids, "prompt \(p.id)")
            #expect(ids.map { t.piece($0) } == p.pieces, "pieces \(p.id)")
            #expect(t.decode(ids) == p.text)
        }
    }

    @Test func heapMergeMatchesQuadraticReferenceOnRealVocabulary() throws {
        let t = try SmolLM2Tokenizer.shared()
        var rng = SplitMix64(seed: 8)
        let words = ["the", "ing", "tion", " ", "  ", "\n", "ab", "er", "Hugging", "Face", "é", "日本", "!!", "."]
        for _ in 0 ..< 300 {
            let text = (0 ..< Int(rng.next() % 12)).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined()
            let symbols = t.byteSymbols(Array(text.utf8))
            #expect(t.merge(symbols) == t.mergeReference(symbols), "\(text.debugDescription)")
        }
    }

    @Test func longRunsOfOneCharacterClassRoundTrip() throws {
        let t = try SmolLM2Tokenizer.shared()
        let text = String(repeating: " ", count: 4_000) + String(repeating: "ab", count: 2_000)
        let ids = t.encode(text)
        #expect(t.decode(ids) == text)
    }

    @Test func greedyOutputsDecodeAndReencode() throws {
        let t = try SmolLM2Tokenizer.shared()
        for p in try Self.prompts() {
            // llama.cpp's text of the 32 greedy tokens, byte for byte; and re-encoding it is lossless.
            #expect(t.decode(p.greedyIDs, renderSpecial: false) == p.greedyText, "\(p.id)")
            #expect(t.decode(t.encode(p.greedyText)) == p.greedyText)
        }
        #expect(t.vocabularySize == 49152)
        #expect(t.endOfGenerationTokenIDs == [0, 2])  // <|endoftext|>, <|im_end|>
        #expect(t.preTokenizer == .digitsThenGPT2)
        // smollm isolates digits, so no token spans two digits or a space and a digit.
        #expect(t.encode("In 2024, 1234 cats").map { t.piece($0) } == ["In", " ", "2", "0", "2", "4", ",", " ", "1", "2", "3", "4", " cats"])
    }
}

/// Loads the SmolLM2 tokenizer once (it reads 49,152 tokens and 48,900 merges).
enum SmolLM2Tokenizer {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let referencePath = root.appendingPathComponent("data/references/smollm2.json").path
    static var isAvailable: Bool { FileManager.default.fileExists(atPath: modelPath) }

    nonisolated(unsafe) private static var cached: BPETokenizer?
    private static let lock = NSLock()

    static func shared() throws -> BPETokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let t = cached { return t }
        let t = try BPETokenizer(gguf: GGUFFile(path: modelPath))
        cached = t
        return t
    }
}
