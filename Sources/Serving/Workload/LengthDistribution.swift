import Diagnostics
import HardwareModel

/// How prompt or output token counts are drawn. Every draw is an integer ≥ 1.
///
/// - `fixed(n)`: always `n`.
/// - `uniform(min, max)`: each integer in `min...max` equally likely.
/// - `lognormal`: `round(exp(μ + σ·Z))`, Z standard normal, clamped to `min...max`.
/// - `empirical`: a value drawn uniformly from a list (e.g. a trace's prompt lengths), which
///   reproduces that trace's length distribution exactly (not its correlations).
public enum LengthDistribution: Sendable, Hashable {
    case fixed(Int)
    case uniform(min: Int, max: Int)
    case lognormal(LognormalLength)
    case empirical(EmpiricalLengths)

    public func sample(using rng: inout SeededGenerator) -> Int {
        switch self {
        case .fixed(let n):
            return n
        case .uniform(let lo, let hi):
            return lo + Int(rng.nextInt(below: UInt64(hi - lo + 1)))
        case .lognormal(let d):
            let x = _exp(d.mu + d.sigma * rng.nextStandardNormal()).rounded()
            return Int(min(max(x, Double(d.minimum)), Double(d.maximum)))
        case .empirical(let e):
            return e.values[Int(rng.nextInt(below: UInt64(e.values.count)))]
        }
    }
}

/// A log-normal length: `ln X ~ Normal(mu, sigma²)`, clamped to `minimum...maximum`.
///
/// Two ways to set it: from the mean and the log-space σ, `μ = ln(mean) − σ²/2` (so that
/// `E[X] = exp(μ + σ²/2) = mean`), or from the median and 90th percentile,
/// `μ = ln(median)`, `σ = (ln p90 − ln median) / z₀.₉` with `z₀.₉ = 1.2815515655446004`.
public struct LognormalLength: Sendable, Hashable {
    public var mu: Double
    public var sigma: Double
    public var minimum: Int
    public var maximum: Int

    public init(mu: Double, sigma: Double, minimum: Int = 1, maximum: Int = 1 << 30) {
        precondition(sigma >= 0 && minimum >= 1 && maximum >= minimum, "invalid lognormal length")
        self.mu = mu
        self.sigma = sigma
        self.minimum = minimum
        self.maximum = maximum
    }

    public static let z90 = 1.2815515655446004

    public init(mean: Double, sigma: Double, minimum: Int = 1, maximum: Int = 1 << 30) {
        self.init(mu: _log(mean) - sigma * sigma / 2, sigma: sigma, minimum: minimum, maximum: maximum)
    }

    public init(median: Double, p90: Double, minimum: Int = 1, maximum: Int = 1 << 30) {
        self.init(mu: _log(median), sigma: (_log(p90) - _log(median)) / Self.z90, minimum: minimum, maximum: maximum)
    }
}

/// Observed lengths to resample (loaded once, e.g. from a trace file's prompt lengths).
public struct EmpiricalLengths: Sendable, Hashable {
    public var values: [Int]
    public init(values: [Int]) {
        precondition(!values.isEmpty && values.allSatisfy { $0 >= 1 }, "empirical lengths must be non-empty and >= 1")
        self.values = values
    }

    public enum Field: String, Codable, Sendable, CaseIterable { case prompt, output }

    /// Loads one column of a trace (all rows: this does materialise the lengths).
    /// - Throws: `InputError` from the trace reader.
    public init(trace path: String, format: TraceFormat, field: Field, skipBadRows: Bool = false) throws {
        var reader = try TraceReader(path: path, format: format, skipBadRows: skipBadRows)
        var values: [Int] = []
        while let r = try reader.next() { values.append(field == .prompt ? r.promptTokens : r.outputTokens) }
        guard !values.isEmpty else { throw InputError(file: path, "trace has no rows to sample lengths from") }
        self.init(values: values)
    }
}
