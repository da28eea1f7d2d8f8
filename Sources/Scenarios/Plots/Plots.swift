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
}
