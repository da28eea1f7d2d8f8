import CPUExecutor
import Foundation

/// Times the real executor on the quantities `infersim validate --model` compares with the
/// cost model. Each figure is a median over repetitions after a warm-up; token ids are
/// deterministic and irrelevant to the work done.
public struct ExecutorMeasurements {
    public let model: LlamaModel
    public let threads: Int
    public var repetitions: Int
    public let clock: any ExecutorClock

    public init(model: LlamaModel, threads: Int, repetitions: Int = 5, clock: any ExecutorClock = MonotonicClock()) {
        self.model = model
        self.threads = threads
        self.repetitions = repetitions
        self.clock = clock
    }

    func tokens(_ count: Int, offset: Int = 0) -> [Int32] {
        let v = model.config.vocabularySize
        return (0 ..< count).map { Int32((($0 + offset) &* 7919 &+ 13) % v) }
    }

    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = clock.nowNanoseconds()
        try body()
        return Double(clock.nowNanoseconds() &- t0) * 1e-9
    }

    /// Seconds of one decode step whose context (including the new token) is about `context`:
    /// the sequence is prefilled to `context − steps/2 − 1` tokens, then `steps` single-token
    /// steps run; the result is the median step time over all repetitions.
    /// With `clock` timing on, `timings` returns the per-operator-class split of the timed steps.
    public func decodeStepSeconds(context: Int, steps: Int = 16) throws -> (seconds: Double, timings: OperatorTimings) {
        precondition(context > steps)
        let prefix = context - steps / 2 - 1
        let session = InferenceSession(model: model, options: .init(contextLength: context + steps, maxBatchTokens: 512, threads: threads))
        let timed = InferenceSession(model: model, options: .init(contextLength: context + steps, maxBatchTokens: 512, threads: threads), clock: clock)
        var samples: [Double] = []
        for rep in 0 ... repetitions {
            session.reset(sequence: 0)
            try session.forward(tokens: tokens(prefix), positions: 0 ..< prefix, sequence: 0)
            for (i, t) in tokens(steps, offset: prefix).enumerated() {
                let s = try seconds { try session.decodeBatch(tokens: [t], sequences: [0]) }
                if rep > 0 || i >= steps / 2 { samples.append(s) }
            }
        }
        // Operator split: one timed pass.
        try timed.forward(tokens: tokens(prefix), positions: 0 ..< prefix, sequence: 0)
        timed.resetTimings()
        for t in tokens(steps, offset: prefix) { try timed.decodeBatch(tokens: [t], sequences: [0]) }
        return (median(samples), timed.timings)
    }

    /// Seconds of one prefill of `count` tokens from an empty cache (chunks of 512), and the
    /// per-operator-class split of one timed run.
    public func prefillSeconds(count: Int) throws -> (seconds: Double, timings: OperatorTimings) {
        let session = InferenceSession(model: model, options: .init(contextLength: count, maxBatchTokens: 512, threads: threads))
        let ids = tokens(count)
        var samples: [Double] = []
        for rep in 0 ... repetitions {
            session.reset(sequence: 0)
            let s = try seconds { try session.forward(tokens: ids, positions: 0 ..< count, sequence: 0) }
            if rep > 0 { samples.append(s) }
        }
        let timed = InferenceSession(model: model, options: .init(contextLength: count, maxBatchTokens: 512, threads: threads), clock: clock)
        try timed.forward(tokens: ids, positions: 0 ..< count, sequence: 0)
        return (median(samples), timed.timings)
    }

    /// Seconds of one batched decode step of `batch` sequences, each with `context` tokens
    /// already cached (so each new token's context is `context + 1`, growing by one per step),
    /// and the per-operator-class split of one timed run of `steps` steps.
    public func batchedDecodeStepSeconds(batch: Int, context: Int, steps: Int = 8) throws -> (seconds: Double, timings: OperatorTimings) {
        func session(clock: (any ExecutorClock)?) -> InferenceSession {
            InferenceSession(model: model, options: .init(maxSequences: batch, contextLength: context + steps + 1,
                                                          maxBatchTokens: max(batch, 512), threads: threads), clock: clock)
        }
        let sequences = Array(0 ..< batch)
        func prefill(_ session: InferenceSession) throws {
            for s in sequences {
                session.reset(sequence: s)
                try session.forward(tokens: tokens(context, offset: s), positions: 0 ..< context, sequence: s)
            }
        }
        func ids(_ step: Int) -> [Int32] { sequences.map { Int32(($0 * 31 + step) % model.config.vocabularySize) } }
        let untimed = session(clock: nil)
        var samples: [Double] = []
        for rep in 0 ... max(1, repetitions / 2) {
            try prefill(untimed)
            for step in 0 ..< steps {
                let s = try seconds { try untimed.decodeBatch(tokens: ids(step), sequences: sequences) }
                if rep > 0 || step >= steps / 2 { samples.append(s) }
            }
        }
        let timed = session(clock: clock)
        try prefill(timed)
        timed.resetTimings()
        for step in 0 ..< steps { try timed.decodeBatch(tokens: ids(step), sequences: sequences) }
        return (median(samples), timed.timings)
    }
}
