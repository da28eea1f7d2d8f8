import DiscreteEvent

/// Priority classes with deadline-aware admission, on top of chunked prefill.
///
/// Waiting requests are kept in one FIFO per class and admitted most-urgent class first
/// (class 0 = `priority` 0). Before admitting, any request that has waited longer than
/// `admissionDeadline` without starting is shed with `deadlineExceeded`: under overload it
/// would miss its TTFT SLO anyway, and serving it late would only delay the requests behind it.
public struct PriorityClasses: BatchScheduler {
    public let priorityClasses: Int
    public let admissionDeadline: SimDuration?
    public init(classes: Int, admissionDeadline: SimDuration?) {
        precondition(classes >= 1)
        self.priorityClasses = classes
        self.admissionDeadline = admissionDeadline
    }
    public var releasesOnCompletion: Bool { true }
    public var reformsDecodeBatches: Bool { true }

    public mutating func formBatch<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant) {
        if let deadline = admissionDeadline { replica.dropExpired(now: now, deadline: deadline, table: table) }
        ChunkedPrefill.fill(&replica, table: &table, now: now)
    }
}
