import HardwareModel
import DiscreteEvent

/// Decides whether a run saturated the system, and says why in one line.
///
/// A run is **overloaded** when any of these holds (checked in this order):
/// 1. **Unfinished work**: more than `unfinishedFraction` of arrived requests were neither
///    completed nor rejected when the run ended (the queue never drained).
/// 2. **Shedding**: more than `rejectedFraction` of arrived requests were rejected for a reason
///    that `indicatesOverload` (queue full, deadline exceeded).
/// 3. **Growing delay**: split the arrival window `[first, last arrival]` into thirds; the
///    median TTFT of completed requests that arrived in the last third exceeds
///    `ttftGrowthFactor ×` the first third's median **plus** `ttftGrowthMinimum`. A stable
///    queue has the same delay distribution in both thirds; a saturated one grows without
///    bound (by the backlog divided by the service rate), so the last third waits much longer.
///    The absolute margin keeps millisecond-level noise from tripping the rule. Needs at least
///    `minimumRequestsPerThird` completed requests in each third; otherwise this test is skipped.
public struct OverloadRule: Hashable, Sendable {
    public var unfinishedFraction = 0.01
    public var rejectedFraction = 0.01
    public var ttftGrowthFactor = 2.0
    public var ttftGrowthMinimum: SimDuration = .seconds(1)
    public var minimumRequestsPerThird = 10

    public init() {}

    func evaluate(arrived: Int, completed: Int, rejections: [String: Int], overloadCauses: Set<String>,
                  firstArrival: SimInstant?, lastArrival: SimInstant?,
                  arrivalNanoseconds: [Int64], ttftNanoseconds: [Int64]) -> (overloaded: Bool, reason: String) {
        guard arrived > 0 else { return (false, "no requests arrived") }
        let rejected = rejections.values.reduce(0, +)
        let unfinished = arrived - completed - rejected
        if Double(unfinished) > unfinishedFraction * Double(arrived) {
            return (true, "\(unfinished) of \(arrived) requests (\(percent(unfinished, arrived))) were still unfinished when the run ended")
        }
        let shed = rejections.filter { overloadCauses.contains($0.key) }.values.reduce(0, +)
        if Double(shed) > rejectedFraction * Double(arrived) {
            return (true, "\(shed) of \(arrived) requests (\(percent(shed, arrived))) were rejected for overload (queue full or deadline)")
        }
        guard let first = firstArrival?.nanoseconds, let last = lastArrival?.nanoseconds, last > first else {
            return (false, "all requests arrived at one instant; TTFT growth not evaluated")
        }
        let third = (last - first) / 3
        var early: [Int64] = []
        var late: [Int64] = []
        for i in 0..<arrivalNanoseconds.count {
            let a = arrivalNanoseconds[i]
            if a <= first + third { early.append(ttftNanoseconds[i]) } else if a >= last - third { late.append(ttftNanoseconds[i]) }
        }
        guard early.count >= minimumRequestsPerThird, late.count >= minimumRequestsPerThird else {
            return (false, "too few completed requests per third of the arrival window (\(early.count), \(late.count)) to judge TTFT growth")
        }
        early.sort()
        late.sort()
        let earlyMedian = Percentiles.interpolated(sorted: early, 0.5)!
        let lateMedian = Percentiles.interpolated(sorted: late, 0.5)!
        let limit = ttftGrowthFactor * earlyMedian + Double(ttftGrowthMinimum.nanoseconds)
        let detail = "median TTFT \(Self.seconds(lateMedian)) s for the last third of arrivals vs \(Self.seconds(earlyMedian)) s for the first third"
        if lateMedian > limit { return (true, detail + " (queueing delay keeps growing)") }
        return (false, detail)
    }

    private func percent(_ part: Int, _ whole: Int) -> String {
        let tenths = (part * 1000 + whole / 2) / whole
        return "\(tenths / 10).\(tenths % 10) %"
    }

    static func seconds(_ ns: Double) -> String { JSONText.number(ns * 1e-9, decimals: 3) }
}
