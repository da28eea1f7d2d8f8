import DiscreteEvent

/// Percentiles of exact samples.
///
/// Request metrics keep every sample as `Int64` nanoseconds (8 bytes a request: 8 MB per
/// metric for a million requests) and sort once at the end: exact, simple, and fast enough
/// (a million-element sort takes tens of milliseconds), so no sketch is needed.
/// The percentile is the linear interpolation between closest ranks (NumPy's default,
/// Hyndman & Fan type 7): with sorted `x[0..n-1]`, `h = p·(n−1)`,
/// `P(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
public enum Percentiles {
    /// The `p`-quantile (`p` in 0...1) of an ascending array, by linear interpolation;
    /// `nil` for an empty array.
    public static func interpolated(sorted x: [Int64], _ p: Double) -> Double? {
        precondition(p >= 0 && p <= 1, "percentile must be in 0...1, got \(p)")
        guard !x.isEmpty else { return nil }
        let h = p * Double(x.count - 1)
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, x.count - 1)
        let fraction = h - Double(lo)
        return Double(x[lo]) + fraction * Double(x[hi] - x[lo])
    }
}

/// Count, mean, percentiles and extremes of one latency metric.
public struct DurationStatistics: Hashable, Sendable {
    public var count: Int
    public var mean: SimDuration
    public var p50: SimDuration
    public var p90: SimDuration
    public var p95: SimDuration
    public var p99: SimDuration
    public var min: SimDuration
    public var max: SimDuration

    public static let empty = DurationStatistics(count: 0, mean: .zero, p50: .zero, p90: .zero, p95: .zero, p99: .zero, min: .zero, max: .zero)

    public init(count: Int, mean: SimDuration, p50: SimDuration, p90: SimDuration, p95: SimDuration, p99: SimDuration,
                min: SimDuration, max: SimDuration) {
        self.count = count; self.mean = mean; self.p50 = p50; self.p90 = p90; self.p95 = p95; self.p99 = p99
        self.min = min; self.max = max
    }

    /// Exact statistics of `samples` (nanoseconds; sorted here). Percentiles interpolate
    /// (`Percentiles.interpolated`) and are rounded to the nearest nanosecond.
    public init(nanoseconds samples: [Int64]) {
        guard !samples.isEmpty else { self = .empty; return }
        let sorted = samples.sorted()
        func at(_ p: Double) -> SimDuration {
            SimDuration(nanoseconds: Int64(Percentiles.interpolated(sorted: sorted, p)!.rounded()))
        }
        var sum = 0.0
        for v in sorted { sum += Double(v) }
        self.init(count: sorted.count, mean: SimDuration(nanoseconds: Int64((sum / Double(sorted.count)).rounded())),
                  p50: at(0.5), p90: at(0.9), p95: at(0.95), p99: at(0.99),
                  min: SimDuration(nanoseconds: sorted.first!), max: SimDuration(nanoseconds: sorted.last!))
    }
}
