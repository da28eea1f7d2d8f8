import Diagnostics
import Foundation
import DiscreteEvent
import ServingMetrics

/// Service-level objectives stated as percentiles, as a planner states them:
/// `ttft_p99_ms=2000,tpot_p99_ms=100` means the 99th-percentile time to first token is at most
/// 2 s and the 99th-percentile time per output token at most 100 ms.
///
/// Metrics: `ttft`, `tpot` (per request), `e2e`, `queueing`; `itl` (every gap between two tokens
/// of a request, stalls included); `tbt` (per request, the mean of its longest 10% of gaps, as
/// Mooncake holds time between tokens to its limit; a run must track it: `needsTailGaps`).
public struct PercentileSLO: Sendable, Hashable, CustomStringConvertible {
    public enum Metric: String, CaseIterable, Sendable { case ttft, tpot, e2e, queueing, itl, tbt }
    public enum Quantile: String, CaseIterable, Sendable { case p50, p90, p95, p99 }

    public struct Bound: Sendable, Hashable {
        public var metric: Metric
        public var quantile: Quantile
        public var milliseconds: Double
        public var key: String { "\(metric.rawValue)_\(quantile.rawValue)_ms" }
    }

    public var bounds: [Bound]

    public init(bounds: [Bound]) { self.bounds = bounds }

    /// Whether a run judged by these bounds must track requests' tail gaps (`tbt`).
    public var needsTailGaps: Bool { bounds.contains { $0.metric == .tbt } }

    /// Every key `parse` accepts: `<ttft|tpot|e2e|queueing|itl|tbt>_<p50|p90|p95|p99>_ms`.
    public static var knownKeys: [String] {
        Metric.allCases.flatMap { m in Quantile.allCases.map { "\(m.rawValue)_\($0.rawValue)_ms" } }
    }

    /// Parses `key=value[,key=value…]`.
    /// - Throws: `InputError` at `origin` for an unknown key (with the nearest known one), a
    ///   value that is not a positive number of milliseconds, a key given twice, or no key.
    public static func parse(_ text: String, origin: InputError.Origin = .option("--slo")) throws -> PercentileSLO {
        var bounds: [Bound] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2 else {
                throw InputError(origin: origin, "expected key=milliseconds (e.g. ttft_p99_ms=2000), found \"\(part)\"")
            }
            let key = pieces[0].trimmingCharacters(in: .whitespaces), value = pieces[1].trimmingCharacters(in: .whitespaces)
            let names = key.split(separator: "_")
            guard names.count == 3, names[2] == "ms", let metric = Metric(rawValue: String(names[0])),
                  let quantile = Quantile(rawValue: String(names[1])) else {
                throw InputError(origin: origin, NearestName.unknown(key, what: "SLO key", known: knownKeys))
            }
            guard let ms = Double(value), ms.isFinite, ms > 0, ms <= 1e9 else {
                throw InputError(origin: origin, "\(key): expected a number of milliseconds in (0, 1e9], found \"\(value)\"")
            }
            guard !bounds.contains(where: { $0.metric == metric && $0.quantile == quantile }) else {
                throw InputError(origin: origin, "\(key) is given twice")
            }
            bounds.append(Bound(metric: metric, quantile: quantile, milliseconds: ms))
        }
        guard !bounds.isEmpty else { throw InputError(origin: origin, "expected at least one objective such as ttft_p99_ms=2000") }
        return PercentileSLO(bounds: bounds)
    }

    /// The measured value (ms) of a bound's percentile in a run's summary, or nil if the run has
    /// no such samples (no request with two output tokens, for TPOT).
    public static func measured(_ bound: Bound, in s: MetricsSummary) -> Double? {
        let stats: DurationStatistics
        switch bound.metric {
        case .ttft: stats = s.timeToFirstToken
        case .tpot: stats = s.timePerOutputToken
        case .e2e: stats = s.endToEnd
        case .queueing: stats = s.queueing
        case .itl: stats = s.interTokenLatency  // every gap between two tokens of a request
        case .tbt: stats = s.tailTimeBetweenTokens  // per request: the mean of its longest 10% of gaps
        }
        guard stats.count > 0 else { return nil }
        let d: SimDuration
        switch bound.quantile {
        case .p50: d = stats.p50
        case .p90: d = stats.p90
        case .p95: d = stats.p95
        case .p99: d = stats.p99
        }
        return Double(d.nanoseconds) / 1e6
    }

    /// The bounds a run misses, each as `ttft p99 2345.1 ms > 2000 ms`; empty when all are met.
    public func violations(in s: MetricsSummary) -> [String] {
        bounds.compactMap { b in
            guard let v = Self.measured(b, in: s), v > b.milliseconds else { return nil }
            return "\(b.metric.rawValue) \(b.quantile.rawValue) \(JSONText.number(v, decimals: 1)) ms > \(JSONText.shortNumber(b.milliseconds)) ms"
        }
    }

    /// The tightest bound on a metric, ms (nil if the metric is not constrained).
    public func tightest(_ metric: Metric) -> Double? {
        bounds.filter { $0.metric == metric }.map(\.milliseconds).min()
    }

    public var description: String { bounds.map { "\($0.key)=\(JSONText.shortNumber($0.milliseconds))" }.joined(separator: ",") }
}
