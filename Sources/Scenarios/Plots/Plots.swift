import CostModel
import Diagnostics
import Foundation
import HardwareModel
import ServingMetrics

/// The charts InferSim draws, built from its own results.
public enum Plots {
    /// Latency against throughput over a sweep's points: TTFT p99 and TPOT p99 (ms, log scale)
    /// against the achieved request rate, points in grid order joined by a line, with the SLO's
    /// bounds as dashed lines when the scenario states them.
    public static func latencyThroughput(_ table: SweepTable, title: String, slo: Scenario.SLOSpec?) -> SVGChart {
        var chart = SVGChart(title: title, xLabel: "throughput (completed requests/s)", yLabel: "latency p99 (ms)")
        chart.yScale = .log
        func label(_ row: SweepTable.Row) -> String {
            zip(table.axes, row.values).map { "\($0)=\($1)" }.joined(separator: " ")
        }
        let rows = table.rows.sorted { $0.summary.requestsPerSecond < $1.summary.requestsPerSecond }
        chart.series = [
            SVGChart.Series(name: "TTFT p99", points: rows.map { ($0.summary.requestsPerSecond, $0.summary.timeToFirstToken.p99.milliseconds, label($0)) }),
            SVGChart.Series(name: "TPOT p99", points: rows.map { ($0.summary.requestsPerSecond, $0.summary.timePerOutputToken.p99.milliseconds, label($0)) }),
        ]
        if let t = slo?.ttftMs { chart.rules.append(.init(.horizontal, at: t, label: "TTFT SLO \(JSONText.shortNumber(t)) ms")) }
        if let t = slo?.tpotMs { chart.rules.append(.init(.horizontal, at: t, label: "TPOT SLO \(JSONText.shortNumber(t)) ms")) }
        return chart
    }

    /// The roofline of a deployment's device: attainable FLOP/s per device against arithmetic
    /// intensity (log–log), the ridge point marked, and each operator of a prefill and a decode
    /// step placed at its intensity and the FLOP/s the cost model gives it.
    public static func roofline(_ d: Deployment, prefill: StepBreakdown, decode: StepBreakdown, title: String) -> SVGChart {
        let peak = d.device.peakCompute(for: d.precision.activations).0.value
        let bandwidth = d.device.mainMemory.bandwidthBytesPerSecond
        let ridge = peak / bandwidth
        var chart = SVGChart(title: title, xLabel: "arithmetic intensity (FLOP/byte)", yLabel: "FLOP/s per device")
        chart.xScale = .log
        chart.yScale = .log
        func points(_ b: StepBreakdown) -> [(x: Double, y: Double, label: String)] {
            b.operators.compactMap { row in
                let time = row.totalTime.value, flops = row.op.flops.value * Double(row.op.repeats)
                guard row.op.memoryBytes.value > 0, flops > 0, time > 0 else { return nil }
                return (row.op.arithmeticIntensity, flops / time, row.op.name)
            }
        }
        let p = points(prefill), q = points(decode)
        let xs = (p + q).map(\.x) + [ridge]
        let lo = max(1e-2, (xs.min() ?? 1) / 4), hi = max(xs.max() ?? 1e3, ridge) * 4
        var roof: [(x: Double, y: Double, label: String)] = [(lo, bandwidth * lo, "memory roof")]
        roof.append((ridge, peak, "ridge"))
        roof.append((hi, peak, "compute roof"))
        chart.series = [
            SVGChart.Series(name: "roofline", points: roof),
            SVGChart.Series(name: "prefill operators", points: p, line: false),
            SVGChart.Series(name: "decode operators", points: q, line: false),
        ]
        chart.rules = [.init(.vertical, at: ridge, label: "ridge \(JSONText.number(ridge, decimals: 1)) FLOP/B")]
        return chart
    }

    /// TTFT and TPOT CDFs of a run (latency in ms on a log axis against the fraction of
    /// completed requests), with the scenario's SLO bounds as vertical lines.
    public static func latencyCDF(ttft: [(seconds: Double, fraction: Double)], tpot: [(seconds: Double, fraction: Double)],
                                  title: String, slo: Scenario.SLOSpec?) -> SVGChart {
        var chart = SVGChart(title: title, xLabel: "latency (ms)", yLabel: "fraction of completed requests")
        chart.xScale = .log
        func points(_ name: String, _ q: [(seconds: Double, fraction: Double)]) -> [(x: Double, y: Double, label: String)] {
            q.filter { $0.seconds > 0 }.map { ($0.seconds * 1e3, $0.fraction, "\(name) p\(JSONText.shortNumber($0.fraction * 100)) = \(JSONText.shortNumber($0.seconds * 1e3)) ms") }
        }
        chart.series = [
            SVGChart.Series(name: "TTFT", points: points("TTFT", ttft), markerRadius: 1.5),
            SVGChart.Series(name: "TPOT", points: points("TPOT", tpot), markerRadius: 1.5),
        ]
        if let t = slo?.ttftMs { chart.rules.append(.init(.vertical, at: t, label: "TTFT SLO")) }
        if let t = slo?.tpotMs { chart.rules.append(.init(.vertical, at: t, label: "TPOT SLO")) }
        return chart
    }

    /// Batch size and KV-cache utilisation over simulated time, from the run's timeline bins
    /// (at most `points` per series): two charts, mean and maximum per bin.
    public static func timeline(_ bins: TimelineBins, points: Int = 240) -> (batch: SVGChart, kv: SVGChart) {
        let merged = bins.coarsened(toAtMost: points).filter { $0.bin.step.steps > 0 }
        func series(_ name: String, _ value: (TimelineBin) -> Double) -> SVGChart.Series {
            SVGChart.Series(name: name, points: merged.map { b in
                let v = value(b.bin)
                return ((b.start + b.end) / 2, v, "\(JSONText.shortNumber(b.start))-\(JSONText.shortNumber(b.end)) s: \(JSONText.shortNumber(v))")
            }, markerRadius: 1.5)
        }
        var batch = SVGChart(title: "Batch size over time (sequences per step, all replicas)", xLabel: "simulated time (s)", yLabel: "sequences per step")
        batch.height = 300
        batch.series = [series("mean", { $0.step.batchSizeMean }), series("max", { Double($0.step.batchSizeMax) })]
        var kv = SVGChart(title: "KV-cache utilisation over time", xLabel: "simulated time (s)", yLabel: "KV blocks in use (%)")
        kv.height = 300
        kv.series = [series("mean (time-weighted)", { $0.step.kvUtilizationMean * 100 }), series("max", { $0.step.kvUtilizationMax * 100 })]
        return (batch, kv)
    }

    /// The operator classes of the stacked time breakdown.
    public static func operatorClass(_ kind: OperatorKind) -> String {
        switch kind {
        case .qkvProjection, .outputProjection, .ffn, .moeRouter, .moeExperts, .lmHead: return "weight GEMMs"
        case .attentionPrefill, .attentionDecode: return "attention"
        case .embedding, .norm, .elementwise: return "norms & elementwise"
        case .allReduce, .pipelineTransfer, .allToAll, .allGather, .reduceScatter: return "communication"
        }
    }

    /// Each step's time stacked by operator class (weight GEMMs, attention, norms and
    /// elementwise, communication, step overhead), in milliseconds.
    public static func breakdown(_ steps: [(label: String, breakdown: StepBreakdown)], title: String) -> SVGStackedBars {
        let classes = ["weight GEMMs", "attention", "norms & elementwise", "communication"]
        let bars = steps.map { step -> SVGStackedBars.Bar in
            var ms = [String: Double]()
            for row in step.breakdown.operators { ms[operatorClass(row.op.kind), default: 0] += row.totalTime.value * 1e3 }
            var segments = classes.map { (name: $0, value: ms[$0] ?? 0) }
            segments.append((name: "step overhead", value: step.breakdown.stepOverhead.value * 1e3))
            return SVGStackedBars.Bar(label: step.label, segments: segments)
        }
        return SVGStackedBars(title: title, valueLabel: "ms", bars: bars)
    }

    /// A two-axis sweep as a heatmap of one metric.
    public static func heatmap(_ table: SweepTable, metric: SweepMetric, title: String) -> SVGHeatmap? {
        guard table.axes.count == 2 else { return nil }
        func distinct(_ i: Int) -> [String] {
            table.rows.map { $0.values[i].description }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        }
        let xs = distinct(0), ys = distinct(1)
        var values = Array(repeating: Array(repeating: Double?.none, count: xs.count), count: ys.count)
        for row in table.rows {
            guard let xi = xs.firstIndex(of: row.values[0].description), let yi = ys.firstIndex(of: row.values[1].description) else { continue }
            values[yi][xi] = metric.value(row.summary)
        }
        return SVGHeatmap(title: title, xLabel: Self.shortAxis(table.axes[0]), yLabel: Self.shortAxis(table.axes[1]), valueLabel: metric.label,
                          xValues: xs, yValues: ys, values: values, higherIsBetter: metric.higherIsBetter)
    }

    /// The last two components of a JSON path (`scheduler.maxBatchSize`).
    static func shortAxis(_ path: String) -> String {
        path.split(separator: ".").suffix(2).joined(separator: ".")
    }
}

/// What a sweep heatmap colours its cells by.
public enum SweepMetric: String, CaseIterable, Sendable {
    case throughput, goodput, ttftP99 = "ttft-p99", tpotP99 = "tpot-p99", e2eP99 = "e2e-p99", sloAttainment = "slo-attainment", joulesPerToken = "joules-per-token"

    public var label: String {
        switch self {
        case .throughput: return "completed req/s"
        case .goodput: return "goodput req/s"
        case .ttftP99: return "TTFT p99 ms"
        case .tpotP99: return "TPOT p99 ms"
        case .e2eP99: return "E2E p99 ms"
        case .sloAttainment: return "SLO attainment %"
        case .joulesPerToken: return "J per output token"
        }
    }
    public var higherIsBetter: Bool {
        switch self {
        case .throughput, .goodput, .sloAttainment: return true
        case .ttftP99, .tpotP99, .e2eP99, .joulesPerToken: return false
        }
    }
    public func value(_ s: MetricsSummary) -> Double {
        switch self {
        case .throughput: return s.requestsPerSecond
        case .goodput: return s.goodputRequestsPerSecond
        case .ttftP99: return s.timeToFirstToken.p99.milliseconds
        case .tpotP99: return s.timePerOutputToken.p99.milliseconds
        case .e2eP99: return s.endToEnd.p99.milliseconds
        case .sloAttainment: return s.requestsCompleted > 0 ? 100 * Double(s.requestsMeetingSLO) / Double(s.requestsCompleted) : 0
        case .joulesPerToken: return s.energyJoulesPerOutputToken
        }
    }
}
