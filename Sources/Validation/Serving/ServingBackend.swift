import CPUExecutor
import CostModel
import Foundation
import HardwareModel

/// What the serving loop drives: something that runs (or prices) forward passes and owns a clock.
///
/// Two conformers share one loop (`TraceReplay`), so measured and predicted trace metrics
/// differ only in how long each forward pass takes:
/// - `ExecutorBackend`: the real CPU executor, on the wall clock;
/// - `CostModelBackend`: `InferenceCostModel` prices, on a virtual clock.
public protocol ServingBackend {
    /// Seconds since the replay started.
    var now: Double { get }
    /// Waits (or jumps) until `now >= seconds`.
    mutating func wait(until seconds: Double)
    /// One prompt chunk of `tokens` new tokens of `sequence`, after `contextBefore` cached ones.
    mutating func prefill(sequence: Int, tokens: Int, contextBefore: Int) throws
    /// One decode token for each of `sequences`; `contexts[i]` counts the new token.
    mutating func decode(sequences: [Int], contexts: [Int]) throws
    /// Frees `sequence`'s cache slot.
    mutating func release(sequence: Int)
}

/// The real executor on the wall clock (`ExecutorClock`). Prompts are synthetic token ids; each
/// decode feeds back the greedy (argmax) token of the previous step.
public final class ExecutorBackend: ServingBackend {
    public let session: InferenceSession
    private let clock: any ExecutorClock
    private let start: UInt64
    private var lastToken: [Int32]

    /// - Parameters:
    ///   - slots: sequences held at once; `contextLength`: the longest prompt + output.
    public init(model: LlamaModel, slots: Int, contextLength: Int, maxChunkTokens: Int, threads: Int,
                clock: any ExecutorClock = MonotonicClock()) {
        session = InferenceSession(model: model, options: .init(maxSequences: slots, contextLength: contextLength,
                                                                maxBatchTokens: max(maxChunkTokens, slots), threads: threads))
        self.clock = clock
        lastToken = Array(repeating: 0, count: slots)
        start = clock.nowNanoseconds()
    }

    public var now: Double { Double(clock.nowNanoseconds() &- start) * 1e-9 }

    public func wait(until seconds: Double) {
        let remaining = seconds - now
        if remaining > 0 { usleep(useconds_t(min(remaining, 1000) * 1e6)) }
    }

    public func prefill(sequence: Int, tokens: Int, contextBefore: Int) throws {
        let v = session.model.config.vocabularySize
        let ids = (0 ..< tokens).map { Int32((($0 + contextBefore) * 7919 + sequence * 104_729 + 13) % v) }
        try session.forward(tokens: ids, positions: contextBefore ..< contextBefore + tokens, sequence: sequence)
        lastToken[sequence] = argmax(session.logits(row: 0))
    }

    public func decode(sequences: [Int], contexts: [Int]) throws {
        try session.decodeBatch(tokens: sequences.map { lastToken[$0] }, sequences: sequences)
        for (i, s) in sequences.enumerated() { lastToken[s] = argmax(session.logits(row: i)) }
    }

    public func release(sequence: Int) { session.reset(sequence: sequence) }

    private func argmax(_ row: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in 1 ..< row.count where row[i] > row[best] { best = i }
        return Int32(best)
    }
}

/// `InferenceCostModel` on a virtual clock: each call advances time by the price of the forward
/// pass the executor would run for it (one pass per prefill chunk, one per decode batch).
public struct CostModelBackend: ServingBackend {
    public let costModel: InferenceCostModel
    public private(set) var now: Double = 0

    public init(costModel: InferenceCostModel) { self.costModel = costModel }

    public mutating func wait(until seconds: Double) { now = max(now, seconds) }

    public mutating func prefill(sequence: Int, tokens: Int, contextBefore: Int) throws {
        var w = StepWorkload()
        w.addPrefillChunk(tokens: tokens, contextBefore: contextBefore)
        now += costModel.cost(of: w).duration.value
    }

    public mutating func decode(sequences: [Int], contexts: [Int]) throws {
        var w = StepWorkload()
        for c in contexts { w.addDecode(contextLength: c) }
        now += costModel.cost(of: w).duration.value
    }

    public mutating func release(sequence: Int) {}
}
