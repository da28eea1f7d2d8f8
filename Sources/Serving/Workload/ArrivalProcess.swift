import Diagnostics

/// How request arrival times are drawn. Times are in seconds from the start of the run.
///
/// - `poisson`: exponential inter-arrival gaps with mean `1/rate` (coefficient of variation 1).
/// - `gamma`: Gamma-distributed gaps with mean `1/rate` and coefficient of variation `cv`:
///   shape `k = 1/cv²`, scale `θ = 1/(rate·k)`. `cv > 1` is burstier than Poisson, `cv < 1`
///   more regular, `cv = 1` is Poisson (Marsaglia–Tsang sampling).
/// - `constant`: one arrival every `1/rate` seconds, the first at `1/rate`.
/// - `piecewise`: a non-homogeneous Poisson process whose rate follows the segments in order
///   (steps when `endRatePerSecond` is `nil`, linear ramps otherwise), sampled by thinning
///   (Lewis & Shedler 1979) segment by segment with the segment's peak rate as the bound.
///   The process ends after the last segment.
public enum ArrivalProcess: Sendable, Hashable {
    /// The highest arrival rate a scenario may ask for, requests per second.
    public static let maximumRate = 1e9

    case poisson(ratePerSecond: Double)
    case gamma(ratePerSecond: Double, coefficientOfVariation: Double)
    case constant(ratePerSecond: Double)
    case piecewise([RateSegment])

    /// The expected number of arrivals per second (for `piecewise`, averaged over its span).
    public var meanRatePerSecond: Double {
        switch self {
        case .poisson(let r), .gamma(let r, _), .constant(let r): return r
        case .piecewise(let segments):
            let span = segments.reduce(0) { $0 + $1.durationSeconds }
            let count = segments.reduce(0) { $0 + $1.expectedArrivals }
            return span > 0 ? count / span : 0
        }
    }
}

/// One segment of a piecewise arrival rate: `durationSeconds` long, rate going linearly from
/// `startRatePerSecond` to `endRatePerSecond` (constant when `endRatePerSecond` is nil).
public struct RateSegment: Sendable, Hashable, Codable {
    public var durationSeconds: Double
    public var startRatePerSecond: Double
    public var endRatePerSecond: Double?

    public init(durationSeconds: Double, startRatePerSecond: Double, endRatePerSecond: Double? = nil) {
        self.durationSeconds = durationSeconds
        self.startRatePerSecond = startRatePerSecond
        self.endRatePerSecond = endRatePerSecond
    }

    /// `∫ λ(t) dt` over the segment: `duration · (start + end) / 2`.
    public var expectedArrivals: Double {
        durationSeconds * (startRatePerSecond + (endRatePerSecond ?? startRatePerSecond)) / 2
    }

    /// `λ(t)` at `t` seconds into the segment.
    public func rate(at t: Double) -> Double {
        guard let end = endRatePerSecond, durationSeconds > 0 else { return startRatePerSecond }
        return startRatePerSecond + (end - startRatePerSecond) * (t / durationSeconds)
    }

    var peakRate: Double { max(startRatePerSecond, endRatePerSecond ?? startRatePerSecond) }

    enum CodingKeys: String, CodingKey { case durationSeconds, startRatePerSecond, endRatePerSecond }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        durationSeconds = try c.decodePositiveNumber(.durationSeconds, atMost: 1e9)
        startRatePerSecond = try c.decodeNonNegativeNumber(.startRatePerSecond, atMost: ArrivalProcess.maximumRate)
        endRatePerSecond = try c.decodeIfPresent(Double.self, forKey: .endRatePerSecond)
        if endRatePerSecond != nil { endRatePerSecond = try c.decodeNonNegativeNumber(.endRatePerSecond, atMost: ArrivalProcess.maximumRate) }
    }
}

/// Draws arrival instants (seconds) from an `ArrivalProcess`; `nil` once a piecewise process ends.
struct ArrivalClock {
    let process: ArrivalProcess
    private(set) var now = 0.0
    private var segmentIndex = 0
    private var segmentStart = 0.0

    init(_ process: ArrivalProcess) { self.process = process }

    mutating func next(using rng: inout SeededGenerator) -> Double? {
        switch process {
        case .poisson(let rate):
            now += rng.nextExponential() / rate
            return now
        case .gamma(let rate, let cv):
            let shape = 1 / (cv * cv)
            now += rng.nextGamma(shape: shape) / (rate * shape)
            return now
        case .constant(let rate):
            now += 1 / rate
            return now
        case .piecewise(let segments):
            while segmentIndex < segments.count {
                let segment = segments[segmentIndex]
                let segmentEnd = segmentStart + segment.durationSeconds
                let bound = segment.peakRate
                if bound <= 0 {
                    advance(to: segmentEnd)
                    continue
                }
                let candidate = now + rng.nextExponential() / bound
                if candidate >= segmentEnd {
                    // Memorylessness: restart the bounding process at the segment boundary.
                    advance(to: segmentEnd)
                    continue
                }
                now = candidate
                if rng.nextUnitInterval() * bound < segment.rate(at: candidate - segmentStart) { return now }
            }
            return nil
        }
    }

    private mutating func advance(to segmentEnd: Double) {
        now = segmentEnd
        segmentStart = segmentEnd
        segmentIndex += 1
    }
}
