import GGUF

/// Prompt → tokens → prefill → decode loop, reporting tokens per second for each phase.
/// Used by `infersim run`; time comes from the injected clock.
public struct GenerationResult: Sendable {
    public var promptTokens: [Int32]
    public var generatedTokens: [Int32]
    public var text: String
    public var prefillNanoseconds: UInt64
    public var decodeNanoseconds: UInt64
    /// `promptTokens.count / prefill time`.
    public var prefillTokensPerSecond: Double {
        prefillNanoseconds == 0 ? 0 : Double(promptTokens.count) / (Double(prefillNanoseconds) * 1e-9)
    }
    /// Decode steps after the first generated token: `(generated − 1) / decode time`.
    public var decodeTokensPerSecond: Double {
        decodeNanoseconds == 0 || generatedTokens.count < 2 ? 0 : Double(generatedTokens.count - 1) / (Double(decodeNanoseconds) * 1e-9)
    }
}

public final class TextGenerator {
    public let session: InferenceSession
    public let tokenizer: BPETokenizer
    let clock: any ExecutorClock

    public init(session: InferenceSession, tokenizer: BPETokenizer, clock: any ExecutorClock = MonotonicClock()) {
        self.session = session
        self.tokenizer = tokenizer
        self.clock = clock
    }

    /// Generates up to `maxTokens` tokens after `promptTokens` (stopping after an end-of-generation
    /// token), calling `onToken` with each token id and its text piece as it is produced.
    /// - Throws: `ExecutorError.contextOverflow` when the prompt does not fit the context.
    public func generate(promptTokens: [Int32], maxTokens: Int, sampler: Sampler,
                         onToken: (Int32, String) -> Void = { _, _ in }) throws -> GenerationResult {
        var sampler = sampler
        session.reset(sequence: 0)
        guard promptTokens.count + 1 <= session.contextLength else {
            throw ExecutorError.contextOverflow(sequence: 0, needed: promptTokens.count + 1, capacity: session.contextLength)
        }
        let t0 = clock.nowNanoseconds()
        try session.forward(tokens: promptTokens, positions: 0 ..< promptTokens.count, sequence: 0)
        let t1 = clock.nowNanoseconds()
        var generated: [Int32] = []
        var bytes: [UInt8] = []
        var next = sampler.sample(session.logits(row: 0))
        let stopIDs = Set([tokenizer.eosTokenID, tokenizer.tokenID("<|im_end|>"), tokenizer.tokenID("<|endoftext|>")].compactMap { $0 })
        var decodeStart = clock.nowNanoseconds()
        while generated.count < maxTokens {
            generated.append(next)
            onToken(next, tokenizer.piece(next))
            bytes += tokenizer.decodeBytes([next], renderSpecial: false)
            if stopIDs.contains(next) || generated.count == maxTokens || session.sequenceLengths[0] >= session.contextLength { break }
            if generated.count == 1 { decodeStart = clock.nowNanoseconds() }
            try session.decodeBatch(tokens: [next], sequences: [0])
            next = sampler.sample(session.logits(row: 0))
        }
        let t2 = clock.nowNanoseconds()
        return GenerationResult(promptTokens: promptTokens, generatedTokens: generated,
                                text: String(decoding: bytes, as: UTF8.self),
                                prefillNanoseconds: t1 - t0, decodeNanoseconds: generated.count > 1 ? t2 - decodeStart : 0)
    }
}
