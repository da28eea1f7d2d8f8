import Diagnostics
import CPUExecutor
import CostModel
import HardwareModel
import Serving

/// Runs the simulator's steps on the real CPU executor and reports each step's measured wall
/// time as its duration, so that a served trace is scheduled by exactly the code the simulator
/// uses (`ServingSimulator` with any `BatchScheduler` and KV policy).
///
/// - Each step is one fused pass (`InferenceSession.forward(_ entries:)`): the scheduler's
///   decodes and prompt chunks together, as `StepWorkload` prices them.
/// - Request ids map to executor sequence slots: a slot is taken at a request's first prefill
///   and given back when its KV is released (completion or preemption). The session holds
///   `maxBatchSize` slots, the most requests a replica runs at once.
/// - Prompts are synthetic token ids (a fixed function of request id and position); every step
///   that yields a request's next token samples it greedily (argmax), and decodes feed it back.
///   After a recompute preemption the request re-feeds its prompt and the tokens it generated.
/// - The measured time covers the forward pass and the greedy sampling of the step, read from
///   `clock`; the bookkeeping around it (microseconds) is not timed, and the simulator skips
///   idle time between arrivals instead of sleeping through it. Measured TTFT and TPOT
///   therefore equal real-time serving's as long as scheduling is negligible next to a pass.
///
/// Limits, checked by `unsupported(_:)`: one replica, paged or contiguous KV (a prefix cache
/// would skip prefill the executor has not done) and recompute preemption (the executor cannot
/// swap a sequence out).
public struct ExecutorStepRunner: StepRunner {
    public let session: InferenceSession
    private let clock: any ExecutorClock
    /// Executor sequence slot of every request that holds KV.
    private var slotOf: [Int: Int] = [:]
    private var freeSlots: [Int]
    /// Tokens of every unfinished request that has run: its prompt ids, then its generated tokens.
    private var tokens: [Int: [Int32]] = [:]
    /// Steps executed.
    public private(set) var steps = 0
    /// Every step executed, in order: what it did and how long it took.
    public private(set) var log: [MeasuredStep] = []

    public var needsEntries: Bool { true }
    /// Sequence slots held now (0 once every request has completed).
    public var sequencesInUse: Int { slotOf.count }

    /// - Parameters:
    ///   - contextLength: positions per sequence slot: the longest `prompt + output` to serve.
    /// - Throws: `InputError` naming the configuration field the executor cannot serve.
    public init(model: LlamaModel, configuration: ClusterConfiguration, contextLength: Int, threads: Int,
                clock: any ExecutorClock = MonotonicClock()) throws {
        if let (field, message) = Self.unsupported(configuration) {
            throw InputError(file: "serving configuration", jsonPath: "$." + field, message)
        }
        let limits = configuration.limits
        // Every step fits one pass: the token budget, or a whole prompt that unchunked schedulers
        // admit past the budget, or a full batch of decodes plus one chunk token.
        let rows = max(limits.maxTokensPerStep, contextLength, limits.maxBatchSize + 1)
        session = InferenceSession(model: model, options: .init(maxSequences: limits.maxBatchSize, contextLength: contextLength,
                                                                maxBatchTokens: rows, threads: threads))
        self.clock = clock
        freeSlots = Array((0 ..< limits.maxBatchSize).reversed())
    }

    /// The field of `configuration` the executor cannot serve and why, or nil if it can.
    public static func unsupported(_ configuration: ClusterConfiguration) -> (field: String, message: String)? {
        if configuration.replicas != 1 {
            return ("replicas", "the executor is one replica, found \(configuration.replicas)")
        }
        if configuration.kvCache.kind == .prefixCaching {
            return ("kvCache.kind", "the executor has no prefix cache; use paged or contiguous")
        }
        if configuration.kvCache.preemption == .swap {
            return ("kvCache.preemption", "the executor cannot swap sequences to host memory; use recompute")
        }
        return nil
    }

    /// Bytes of KV per token the executor keeps (F16 keys and values of every layer).
    public static func kvBytesPerToken(_ config: LlamaConfig) -> Double {
        Double(2 * config.layerCount * config.kvDim * 2)
    }

    /// The synthetic prompt token of `request` at `position`: deterministic, spread over the vocabulary.
    static func promptToken(request: Int, position: Int, vocabulary: Int) -> Int32 {
        Int32((position &* 7919 &+ request &* 104_729 &+ 13).magnitude % UInt(vocabulary))
    }

    /// - Throws: `ExecutorError` when the step does not fit the session (more sequences than
    ///   slots, positions that do not continue a sequence, more rows than one pass holds).
    public mutating func run(_ step: ScheduledStep) throws -> StepCost {
        let vocabulary = session.model.config.vocabularySize
        var batch: [InferenceSession.BatchEntry] = []
        batch.reserveCapacity(step.entries.count)
        for e in step.entries {
            let slot: Int
            if let s = slotOf[e.requestID] {
                slot = s
            } else {
                guard let s = freeSlots.popLast() else {
                    throw ExecutorError.batchTooLarge(requested: slotOf.count + 1, capacity: session.options.maxSequences)
                }
                slot = s
                slotOf[e.requestID] = s
            }
            if tokens[e.requestID] == nil {
                tokens[e.requestID] = (0 ..< e.promptTokens).map {
                    Self.promptToken(request: e.requestID, position: $0, vocabulary: vocabulary)
                }
            }
            let known = tokens[e.requestID]!
            let end = e.contextBefore + e.newTokens
            guard end <= known.count else {
                // Only a scheduler that skipped tokens (a prefix cache) gets here; `unsupported` rules it out.
                throw ExecutorError.badPositions(sequence: slot, expectedStart: known.count, found: end - 1)
            }
            batch.append(.init(sequence: slot, tokens: Array(known[e.contextBefore ..< end]), startPosition: e.contextBefore))
        }
        let start = clock.nowNanoseconds()
        try session.forward(batch)
        for (i, e) in step.entries.enumerated() where e.producesToken {
            tokens[e.requestID]!.append(Sampler.argmax(session.logits(row: i)))
        }
        let elapsed = clock.nowNanoseconds() &- start
        steps += 1
        let seconds = Double(elapsed) * 1e-9
        log.append(MeasuredStep(workload: step.workload, seconds: seconds))
        // Energy and bound are not measured; the serving metrics read the duration only.
        return StepCost(duration: Seconds(seconds), energy: Joules(0), boundBy: .overhead)
    }

    public mutating func released(requestID: Int, reason: KVReleaseReason) {
        if let slot = slotOf.removeValue(forKey: requestID) {
            session.reset(sequence: slot)
            freeSlots.append(slot)
        }
        // A preempted request keeps its tokens: it prefills them again when it is readmitted.
        if reason == .completed { tokens[requestID] = nil }
    }
}

/// One step run on the executor: the workload the scheduler gave it and its measured wall time.
public struct MeasuredStep: Sendable, Hashable {
    public var workload: StepWorkload
    public var seconds: Double
}
