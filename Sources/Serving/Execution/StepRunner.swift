import CostModel

/// Runs (or prices) the forward steps the simulated schedulers form, and learns when a
/// request's KV is given up.
///
/// The simulator decides *what* runs; a runner says *how long* it took. The simulator keeps
/// its own virtual clock and advances it by the duration the runner returns, so the same
/// scheduler, KV-cache and request-table code drives both:
/// - a cost model (`StepCostModelRunner` wraps any `StepCostModel`): the duration is a price;
/// - a real executor (Validation's `ExecutorStepRunner`): the duration is the measured wall
///   time of running the step. Idle gaps between arrivals are skipped rather than slept; this
///   equals serving in real time as long as the scheduling work between steps is negligible
///   next to a forward pass (it takes microseconds, a pass milliseconds).
///
/// A runner that only needs the step's summary (`ScheduledStep.workload`) returns
/// `needsEntries == false`, and the simulator then never builds the per-entry list: pricing
/// stays O(1) per step whatever the batch size.
public protocol StepRunner {
    /// Whether `run(_:)` reads `ScheduledStep.entries`. When false, `entries` is empty.
    var needsEntries: Bool { get }

    /// Whether the simulator may price a replica's future decode-only steps ahead of simulated
    /// time (decode fast-forward): true only for a pure function of `ScheduledStep.workload`.
    var allowsFastForward: Bool { get }

    /// Runs or prices one step of one replica.
    /// - Returns: the step's duration (the simulator adds swap traffic to it), energy and bound.
    /// - Throws: whatever the runner fails with; the error ends the simulation and is rethrown
    ///   by `ServingSimulator.run`.
    mutating func run(_ step: ScheduledStep) throws -> StepCost

    /// Prices a fast-forwarded run of decode-only steps: `step` with `contextGrowth · i` more
    /// context tokens for `i = 1 ... count`, each cost appended to `costs` in order (only called
    /// when `allowsFastForward`). Each equals `run(_:)` of that step.
    mutating func run(decodeRun step: ScheduledStep, contextGrowth: Int, count: Int, into costs: inout [StepCost]) throws

    /// The request's KV has been freed: it completed (or, under static batching, its batch
    /// ended), or it was preempted. After a recompute preemption the request prefills again from
    /// position 0 (`prompt + generated` tokens); after a swap it comes back with its resident
    /// tokens. Requests shed before they ever ran (deadline-aware admission, rejections on
    /// arrival) never held KV and are not reported. Called before the next `run(_:)` of the
    /// request's replica.
    mutating func released(requestID: Int, reason: KVReleaseReason)
}

extension StepRunner {
    public mutating func released(requestID: Int, reason: KVReleaseReason) {}
    public mutating func run(decodeRun step: ScheduledStep, contextGrowth: Int, count: Int, into costs: inout [StepCost]) throws {
        guard count > 0 else { return }
        for i in 1...count {
            var s = step
            s.workload.decodeContextTokens += i * contextGrowth
            costs.append(try run(s))
        }
    }
    public var allowsFastForward: Bool { false }
}

/// Why a request's KV was freed.
public enum KVReleaseReason: String, Sendable, CaseIterable {
    /// All output tokens produced (the request will not run again).
    case completed
    /// Preempted; it will prefill `prompt + generated` tokens again from position 0.
    case preemptedForRecompute
    /// Preempted by copying its KV to host memory; it resumes decoding with the same context.
    case swappedOut
    /// Prefilled here; its KV went to a decode replica (disaggregated serving) and it will not
    /// run here again.
    case transferred
}

/// One sequence's part of a scheduled step, in the terms an executor needs.
public struct StepEntry: Hashable, Sendable {
    /// The request's id (`RequestSpec.id`): stable across preemptions, unique within a run.
    public var requestID: Int
    /// New tokens the step appends: the prefill chunk length, or 1 for a decode.
    public var newTokens: Int
    /// Tokens of the request resident in KV before the step; the new tokens take positions
    /// `contextBefore ..< contextBefore + newTokens`.
    public var contextBefore: Int
    /// The request's prompt length: positions below it hold prompt tokens, the rest generated ones
    /// (a prefill after a recompute preemption re-feeds generated tokens too).
    public var promptTokens: Int
    /// True for a decode (the last generated token fed back), false for a prefill chunk.
    public var isDecode: Bool
    /// True when the step yields the request's next output token: every decode, and the chunk
    /// that finishes a prefill.
    public var producesToken: Bool

    public init(requestID: Int, newTokens: Int, contextBefore: Int, promptTokens: Int, isDecode: Bool, producesToken: Bool) {
        self.requestID = requestID
        self.newTokens = newTokens
        self.contextBefore = contextBefore
        self.promptTokens = promptTokens
        self.isDecode = isDecode
        self.producesToken = producesToken
    }
}

/// One step as the scheduler formed it.
public struct ScheduledStep: Sendable {
    /// The replica that runs it.
    public var replica: Int
    /// The step summarised for pricing (`StepCostModel.cost(of:)`).
    public var workload: StepWorkload
    /// Every batch entry in batch order (decodes and prefill chunks as the scheduler placed
    /// them); empty when the runner's `needsEntries` is false.
    public var entries: [StepEntry]

    public init(replica: Int, workload: StepWorkload, entries: [StepEntry]) {
        self.replica = replica
        self.workload = workload
        self.entries = entries
    }
}

/// Any `StepCostModel` as a runner: prices `step.workload`, ignores releases.
///
/// Prompt-only steps are memoised: a step prefilling one prompt of a given length (after a given
/// cached context) recurs whenever such a prompt arrives alone, and pricing is a pure function
/// of the workload, so a repeat is looked up rather than priced again (the same numbers to the
/// bit). The memo is direct-mapped (`PromptStepMemo`): bounded, and a collision only costs a
/// pricing.
public struct StepCostModelRunner: StepRunner {
    public let costModel: any StepCostModel
    var memo = PromptStepMemo()
    public init(_ costModel: any StepCostModel) { self.costModel = costModel }
    public var needsEntries: Bool { false }
    public var allowsFastForward: Bool { true }
    public mutating func run(_ step: ScheduledStep) -> StepCost {
        let workload = step.workload
        guard workload.decodeTokens == 0 && workload.prefillTokens > 0 else { return costModel.cost(of: workload) }
        let i = PromptStepMemo.index(of: workload)
        if let cost = memo.cost(at: i, of: workload) { return cost }
        let cost = costModel.cost(of: workload)
        memo.store(cost, of: workload, at: i)
        return cost
    }
    public func run(decodeRun step: ScheduledStep, contextGrowth: Int, count: Int, into costs: inout [StepCost]) {
        costModel.costs(ofDecodeRun: step.workload, contextGrowth: contextGrowth, count: count, into: &costs)
    }
}

/// A runner of a type from another module, behind an existential, so that the cluster is still
/// compiled once per scheduler × KV policy here (a generic parameter from outside would leave it
/// unspecialised). A runner that executes real steps costs milliseconds a call; the box is noise.
struct BoxedStepRunner: StepRunner {
    var base: any StepRunner
    var needsEntries: Bool { base.needsEntries }
    var allowsFastForward: Bool { base.allowsFastForward }
    mutating func run(_ step: ScheduledStep) throws -> StepCost { try base.run(step) }
    mutating func run(decodeRun step: ScheduledStep, contextGrowth: Int, count: Int, into costs: inout [StepCost]) throws {
        try base.run(decodeRun: step, contextGrowth: contextGrowth, count: count, into: &costs)
    }
    mutating func released(requestID: Int, reason: KVReleaseReason) { base.released(requestID: requestID, reason: reason) }
}

/// `StepCostModelRunner`'s memo of prompt-only step prices: 16,384 entries, each workload in the
/// one its prompt length and context pick (allocated at the first store; a later workload that
/// picks a taken entry replaces it).
struct PromptStepMemo: Sendable {
    static let entries = 16_384
    var workloads: [StepWorkload] = []
    var costs: [StepCost] = []

    @inline(__always) static func index(of w: StepWorkload) -> Int {
        var h = UInt64(truncatingIfNeeded: w.prefillTokens) &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(truncatingIfNeeded: w.prefillContextTokens) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(truncatingIfNeeded: w.prefillSequences) &* 0x1656_67B1_9E37_79F9
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & (entries - 1)
    }

    @inline(__always) func cost(at i: Int, of w: StepWorkload) -> StepCost? {
        guard !workloads.isEmpty, workloads[i] == w else { return nil }
        return costs[i]
    }

    mutating func store(_ cost: StepCost, of w: StepWorkload, at i: Int) {
        if workloads.isEmpty {
            // An empty workload never matches a prompt step (it has prompt tokens).
            workloads = Array(repeating: StepWorkload(), count: Self.entries)
            costs = Array(repeating: StepCost(duration: .zero, energy: .zero, boundBy: .overhead), count: Self.entries)
        }
        workloads[i] = w
        costs[i] = cost
    }
}
