import DiscreteEvent

/// Why the simulator refused a request. An open set of names (a struct, not an enum) so that
/// schedulers can add reasons without touching this module; reports sort reasons by name.
public struct RejectionReason: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var name: String
    /// Whether this reason means "the system is saturated" (used by the overload rule).
    public var indicatesOverload: Bool

    public init(_ name: String, indicatesOverload: Bool = false) {
        self.name = name
        self.indicatesOverload = indicatesOverload
    }

    /// The prompt (plus output) exceeds the model's context window.
    public static let exceedsContextWindow = RejectionReason("exceedsContextWindow")
    /// The request can never fit in the KV cache, even alone.
    public static let exceedsKVCapacity = RejectionReason("exceedsKVCapacity")
    /// The waiting queue was full (admission control).
    public static let queueFull = RejectionReason("queueFull", indicatesOverload: true)
    /// The request waited past its deadline and was dropped.
    public static let deadlineExceeded = RejectionReason("deadlineExceeded", indicatesOverload: true)

    public static func < (a: RejectionReason, b: RejectionReason) -> Bool { a.name < b.name }
    public var description: String { name }
}

/// Latency targets. A request meets the SLOs when every target that is set holds; a request
/// with one output token has no TPOT and meets any TPOT target.
public struct ServiceLevelObjectives: Hashable, Sendable {
    public var timeToFirstToken: SimDuration?
    public var timePerOutputToken: SimDuration?
    public var endToEnd: SimDuration?

    public init(timeToFirstToken: SimDuration? = nil, timePerOutputToken: SimDuration? = nil, endToEnd: SimDuration? = nil) {
        self.timeToFirstToken = timeToFirstToken
        self.timePerOutputToken = timePerOutputToken
        self.endToEnd = endToEnd
    }

    public static let none = ServiceLevelObjectives()
    public var isEmpty: Bool { timeToFirstToken == nil && timePerOutputToken == nil && endToEnd == nil }

    /// Whether durations in nanoseconds meet every set target (`tpot < 0` means undefined).
    @inlinable func isMet(ttft: Int64, tpot: Int64, e2e: Int64) -> Bool {
        if let t = timeToFirstToken, ttft > t.nanoseconds { return false }
        if let t = timePerOutputToken, tpot >= 0, tpot > t.nanoseconds { return false }
        if let t = endToEnd, e2e > t.nanoseconds { return false }
        return true
    }
}
