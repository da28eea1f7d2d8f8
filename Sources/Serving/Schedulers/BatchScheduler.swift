import DiscreteEvent

/// Decides, at each scheduling pass of an idle replica, which requests run in the next forward
/// step and with how many tokens. Implementations fill `replica.plan` using the
/// `ReplicaState` helpers (admission with KV reservation, decodes with preemption, chunks).
public protocol BatchScheduler: Sendable {
    /// Priority classes the waiting queue keeps; 1 means plain first-come-first-served.
    var priorityClasses: Int { get }
    /// False when a finished request keeps its batch slot and KV until its whole batch ends.
    var releasesOnCompletion: Bool { get }
    /// Fills `replica.plan` (left empty when there is nothing to run).
    mutating func formBatch<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant)
    /// True when, with nothing waiting and every running request decoding, `formBatch` decodes
    /// all of them again in the same order and changes nothing else (so the simulator may
    /// fast-forward such a batch). Default false.
    var reformsDecodeBatches: Bool { get }
}

extension BatchScheduler {
    public var reformsDecodeBatches: Bool { false }
}

/// The batching policies InferSim simulates. `SchedulerConfiguration.kind` picks one.
public enum SchedulerKind: String, Codable, Sendable, CaseIterable {
    /// A batch is formed, prefilled, and decoded until its last request finishes (request-level batching).
    case staticBatching
    /// Iteration-level batching; waiting prompts are prefilled in their own steps before decoding resumes (Orca, vLLM v0).
    case continuousBatching
    /// Decodes first, then prompt chunks fill the token budget of every step (Sarathi-Serve).
    case chunkedPrefill
    /// Decodes never wait: a prompt joins a step only if it fits whole in the budget left by the decodes.
    case decodePriority
    /// Chunked prefill that admits the most urgent priority class first and sheds requests past their admission deadline.
    case priorityClasses
}

/// A scheduler kind plus its parameters.
public struct SchedulerConfiguration: Hashable, Sendable {
    public var kind: SchedulerKind
    /// Priority classes kept by `priorityClasses` (requests with a larger priority value use the last class).
    public var classes: Int
    /// `priorityClasses` drops a request that has waited this long without starting.
    public var admissionDeadline: SimDuration?

    public init(kind: SchedulerKind, classes: Int = 3, admissionDeadline: SimDuration? = nil) {
        precondition(classes >= 1)
        self.kind = kind
        self.classes = classes
        self.admissionDeadline = admissionDeadline
    }
}
