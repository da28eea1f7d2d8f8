import CPUExecutor
import Foundation

/// Times the real executor on the quantities `infersim validate --model` compares with the
/// cost model, one sample set per call, so that calls can be interleaved with calibration rounds
/// (`ModelValidation.observe`): on a shared host the machine's state drifts by 10-20% within a
/// minute, and quantities measured in one stretch each saw a different machine.
///
/// Each quantity keeps its own session: prefilled once and warmed up with one untimed run of its
/// steps, then truncated back to the same cached context before every call
/// (`InferenceSession.truncate`), so a call times the same steps over the same context without
/// prefilling again. Sessions time their operator classes (`clock`; about 400 clock reads of
/// ~25 ns per step, 0.3% of a 4 ms decode step). Token ids are deterministic and irrelevant to
/// the work done.
public final class ExecutorMeasurements {
    public let model: LlamaModel
    public let threads: Int
    public let clock: any ExecutorClock
    /// One session per quantity, keyed by what it measures (see `measure`).
    private var sessions: [[Int]: InferenceSession] = [:]

    public init(model: LlamaModel, threads: Int, clock: any ExecutorClock = MonotonicClock()) {
        self.model = model
        self.threads = threads
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

    /// `run` on the session kept under `key`, with that run's operator split. The first call for a
    /// key makes the session (`make`), readies it (`prepare`: a prefill) and warms it up with one
    /// untimed `run`.
    private func measure<R>(_ key: [Int], make: () -> InferenceSession, prepare: (InferenceSession) throws -> Void = { _ in },
                            run: (InferenceSession) throws -> R) throws -> (R, OperatorTimings) {
        let session: InferenceSession
        if let s = sessions[key] {
            session = s
        } else {
            session = make()
            try prepare(session)
            _ = try run(session)  // warm-up
            sessions[key] = session
        }
        session.resetTimings()
        let result = try run(session)
        return (result, session.timings)
    }

    /// Seconds of each of `steps` single-token steps whose context (including the new token) runs
    /// from `context − steps/2` to `context + steps/2 − 1` (mean ≈ `context`): the sequence holds
    /// `context − steps/2 − 1` prompt tokens, then the steps run. Also their operator split.
    public func decodeSteps(context: Int, steps: Int = 16) throws -> (samples: [Double], timings: OperatorTimings) {
        precondition(context > steps)
        let prefix = context - steps / 2 - 1
        let ids = tokens(steps, offset: prefix)
        func runSteps(_ session: InferenceSession) throws -> [Double] {
            try session.truncate(sequence: 0, to: prefix)
            return try ids.map { t in try seconds { try session.decodeBatch(tokens: [t], sequences: [0]) } }
        }
        return try measure([0, context, steps], make: {
            InferenceSession(model: model, options: .init(contextLength: context + steps, maxBatchTokens: 512, threads: threads), clock: clock)
        }, prepare: { try $0.forward(tokens: tokens(prefix), positions: 0 ..< prefix, sequence: 0) }, run: runSteps)
    }

    /// Seconds of one prefill of `count` tokens from an empty cache (chunks of 512), and its
    /// operator split. The first call for a length runs it once untimed first.
    public func prefill(count: Int) throws -> (seconds: Double, timings: OperatorTimings) {
        let ids = tokens(count)
        func once(_ session: InferenceSession) throws -> Double {
            session.reset(sequence: 0)
            return try seconds { try session.forward(tokens: ids, positions: 0 ..< count, sequence: 0) }
        }
        return try measure([1, count], make: {
            InferenceSession(model: model, options: .init(contextLength: count, maxBatchTokens: 512, threads: threads), clock: clock)
        }, run: once)
    }

    /// Seconds of each of `steps` batched decode steps of `batch` sequences, each holding
    /// `context` tokens before the first step (so the new tokens' contexts run from `context + 1`
    /// to `context + steps`), and their operator split.
    public func batchedDecodeSteps(batch: Int, context: Int, steps: Int = 8) throws -> (samples: [Double], timings: OperatorTimings) {
        let sequences = Array(0 ..< batch)
        func ids(_ step: Int) -> [Int32] { sequences.map { Int32(($0 * 31 + step) % model.config.vocabularySize) } }
        func runSteps(_ session: InferenceSession) throws -> [Double] {
            for s in sequences { try session.truncate(sequence: s, to: context) }
            return try (0 ..< steps).map { step in try seconds { try session.decodeBatch(tokens: ids(step), sequences: sequences) } }
        }
        return try measure([2, batch, context, steps], make: {
            InferenceSession(model: model, options: .init(maxSequences: batch, contextLength: context + steps + 1,
                                                          maxBatchTokens: max(batch, 512), threads: threads), clock: clock)
        }, prepare: { session in
            for s in sequences { try session.forward(tokens: tokens(context, offset: s), positions: 0 ..< context, sequence: s) }
        }, run: runSteps)
    }
}
