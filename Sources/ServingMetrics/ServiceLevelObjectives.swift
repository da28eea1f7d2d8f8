import DiscreteEvent

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
