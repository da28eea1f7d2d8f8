import Diagnostics
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

    /// The TTFTs of completed requests by arrival: every sample, or arrival-time bins of sketches.
    enum TTFTByArrival {
        case exact(arrivalNanoseconds: [Int64], ttftNanoseconds: [Int64])
        case binned(ArrivalBinnedLatency)
    }

    func evaluate(arrived: Int, completed: Int, rejections: [String: Int], overloadCauses: Set<String>,
                  firstArrival: SimInstant?, lastArrival: SimInstant?, ttft: TTFTByArrival) -> (overloaded: Bool, reason: String) {
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
        let earlyMedian: Double, lateMedian: Double
        switch ttft {
        case .exact(let arrivalNanoseconds, let ttftNanoseconds):
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
            earlyMedian = Percentiles.interpolated(sorted: early, 0.5)!
            lateMedian = Percentiles.interpolated(sorted: late, 0.5)!
        case .binned(let bins):
            let early = bins.merged { $0 <= first + third }, late = bins.merged { $0 >= last - third }
            let earlyCount = Int(clamping: early.totalWeight), lateCount = Int(clamping: late.totalWeight)
            guard earlyCount >= minimumRequestsPerThird, lateCount >= minimumRequestsPerThird else {
                return (false, "too few completed requests per third of the arrival window (\(earlyCount), \(lateCount)) to judge TTFT growth")
            }
            earlyMedian = Double(early.percentile(0.5)!.nanoseconds)
            lateMedian = Double(late.percentile(0.5)!.nanoseconds)
        }
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

/// TTFT sketches binned by arrival time, for the overload rule in constant memory: at most
/// `maxBins` bins from instant zero; when an arrival falls beyond them, the bin width doubles
/// and neighbouring bins merge. A third of the arrival window is then judged on the bins whose
/// middle falls in it, so its edges are exact to within one bin (1/`maxBins` of the run or
/// better).
struct ArrivalBinnedLatency: Sendable {
    static let maxBins = 64
    private(set) var width: Int64 = 1_000_000_000
    private(set) var bins: [LatencyHistogram] = []

    /// Buckets held over all bins.
    var bucketCount: Int { bins.reduce(0) { $0 + $1.bucketCount } }

    mutating func add(arrival: SimInstant, _ ttft: SimDuration) {
        let a = max(0, arrival.nanoseconds)
        while a / width >= Int64(Self.maxBins) {
            var merged: [LatencyHistogram] = []
            var i = 0
            while i < bins.count {
                var h = bins[i]
                if i + 1 < bins.count { h.merge(bins[i + 1]) }
                merged.append(h)
                i += 2
            }
            bins = merged
            width = width.multipliedReportingOverflow(by: 2).overflow ? .max : width * 2
        }
        let index = Int(a / width)
        if index >= bins.count { bins.append(contentsOf: repeatElement(LatencyHistogram(), count: index + 1 - bins.count)) }
        bins[index].add(ttft, weight: 1)
    }

    /// The bins whose middle instant (nanoseconds) satisfies `include`, merged.
    func merged(_ include: (Int64) -> Bool) -> LatencyHistogram {
        var out = LatencyHistogram()
        for (i, h) in bins.enumerated() where include(Int64(i) * width + width / 2) { out.merge(h) }
        return out
    }
}
