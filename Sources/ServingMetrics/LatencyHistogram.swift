import DiscreteEvent

/// A weighted log-linear histogram of durations (HDR-histogram layout), for inter-token
/// latency, where one step of duration `d` with `k` decoding requests adds `d` with weight `k`
/// in O(1) — a run has billions of tokens, far too many to keep.
///
/// Values below `subBuckets` (256) ns are exact; above, bucket `e·S + (v >> e)` with
/// `e = ⌊log₂ v⌋ − 8` covers `[(v >> e) << e, ((v >> e) + 1) << e)`, a relative width of at most
/// 1/256. Percentiles report the bucket midpoint, so their relative error is at most 0.2 %;
/// `mean`, `min` and `max` are exact. Memory: about 2 KB per power of two of range in use.
/// Percentiles use the nearest rank on the weights: the smallest bucket whose cumulative
/// weight reaches `p · total`.
public struct LatencyHistogram: Hashable, Sendable {
    /// The largest relative error of a percentile against the exact nearest-rank sample: half a
    /// bucket's relative width, 1/512.
    public static let relativeError = 1.0 / 512
    static let subBucketBits = 8
    static let subBuckets = 1 << subBucketBits
    private var counts: [UInt64] = []
    public private(set) var totalWeight: UInt64 = 0
    /// Σ duration · weight in nanoseconds, as an exact 128-bit integer (two limbs), so that the
    /// mean does not depend on the order samples were added in.
    private var weightedSumLow: UInt64 = 0
    private var weightedSumHigh: UInt64 = 0
    private var weightedSumNanoseconds: Double { Double(weightedSumHigh) * 18446744073709551616.0 + Double(weightedSumLow) }

    @inline(__always) private mutating func addToSum(high: UInt64, low: UInt64) {
        let (sum, carry) = weightedSumLow.addingReportingOverflow(low)
        weightedSumLow = sum
        weightedSumHigh &+= high &+ (carry ? 1 : 0)
    }
    public private(set) var minNanoseconds: Int64 = .max
    public private(set) var maxNanoseconds: Int64 = .min

    public init() {}

    /// Buckets allocated: bounded by the range of values seen (about 256 per power of two), not
    /// by how many were added.
    public var bucketCount: Int { counts.count }

    @inline(__always)
    static func index(of v: Int64) -> Int {
        let value = UInt64(max(v, 0))
        if value < UInt64(subBuckets) { return Int(value) }
        let e = (63 - value.leadingZeroBitCount) - subBucketBits
        return e * subBuckets + Int(value >> UInt64(e))
    }

    /// The `[lower, upper)` nanosecond range of bucket `i`.
    static func range(ofBucket i: Int) -> (lower: Int64, upper: Int64) {
        if i < 2 * subBuckets { return (Int64(i), Int64(i) + 1) }
        let e = i / subBuckets - 1
        let mantissa = Int64(i - e * subBuckets)
        return (mantissa << Int64(e), (mantissa + 1) << Int64(e))
    }

    /// Adds `duration` with `weight` (e.g. the number of requests that waited that long).
    /// - Complexity: O(1) amortised.
    public mutating func add(_ duration: SimDuration, weight: Int) {
        guard weight > 0 else { return }
        let v = duration.nanoseconds
        let i = Self.index(of: v)
        if i >= counts.count { counts.append(contentsOf: repeatElement(0, count: i + 1 - counts.count + Self.subBuckets)) }
        counts[i] &+= UInt64(weight)
        totalWeight &+= UInt64(weight)
        let product = UInt64(Swift.max(v, 0)).multipliedFullWidth(by: UInt64(weight))
        addToSum(high: product.high, low: product.low)
        minNanoseconds = Swift.min(minNanoseconds, v)
        maxNanoseconds = Swift.max(maxNanoseconds, v)
    }

    /// Merges another histogram into this one.
    public mutating func merge(_ other: LatencyHistogram) {
        if other.counts.count > counts.count { counts.append(contentsOf: repeatElement(0, count: other.counts.count - counts.count)) }
        for (i, c) in other.counts.enumerated() where c > 0 { counts[i] &+= c }
        totalWeight &+= other.totalWeight
        addToSum(high: other.weightedSumHigh, low: other.weightedSumLow)
        minNanoseconds = Swift.min(minNanoseconds, other.minNanoseconds)
        maxNanoseconds = Swift.max(maxNanoseconds, other.maxNanoseconds)
    }

    /// The weighted `p`-quantile (bucket midpoint, clamped to the exact min/max); `nil` if empty.
    public func percentile(_ p: Double) -> SimDuration? {
        guard totalWeight > 0 else { return nil }
        let target = Swift.max(1, UInt64((p * Double(totalWeight)).rounded(.up)))
        var cumulative: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            cumulative &+= c
            if cumulative >= target {
                let (lower, upper) = Self.range(ofBucket: i)
                let mid = lower + (upper - 1 - lower) / 2
                return SimDuration(nanoseconds: Swift.min(Swift.max(mid, minNanoseconds), maxNanoseconds))
            }
        }
        return SimDuration(nanoseconds: maxNanoseconds)
    }

    public var statistics: DurationStatistics {
        guard totalWeight > 0 else { return .empty }
        return DurationStatistics(count: Int(clamping: totalWeight),
                                  mean: SimDuration(nanoseconds: Int64((weightedSumNanoseconds / Double(totalWeight)).rounded())),
                                  p50: percentile(0.5)!, p90: percentile(0.9)!, p95: percentile(0.95)!, p99: percentile(0.99)!,
                                  min: SimDuration(nanoseconds: minNanoseconds), max: SimDuration(nanoseconds: maxNanoseconds))
    }
}
