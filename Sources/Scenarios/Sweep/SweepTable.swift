import Diagnostics
import HardwareModel
import ServingMetrics

/// One row per sweep point with the figures a what-if comparison needs, rendered as a text
/// table, CSV or JSON with fixed decimals (the same sweep gives the same bytes).
///
/// Columns: the axis values, then requests completed and rejected, request and output-token
/// throughput, TTFT, TPOT and end-to-end p50/p99 (ms), goodput (requests per second meeting
/// every SLO) and its share of completions, mean KV utilisation, preemptions, energy per output
/// token, and whether the run saturated (`MetricsSummary.overloaded`). CSV and JSON end with
/// `skipped_rows` (bad trace rows skipped with `--skip-bad-rows`); the text lists them under the table.
public struct SweepTable: Sendable {
    public struct Row: Sendable {
        public var values: [JSONValue]
        public var summary: MetricsSummary
        public var skippedRows = 0
        /// The first reasons (`file: line N: message`).
        public var skippedRowReasons: [String] = []
        public init(values: [JSONValue], summary: MetricsSummary, skippedRows: Int = 0, skippedRowReasons: [String] = []) {
            self.values = values
            self.summary = summary
            self.skippedRows = skippedRows
            self.skippedRowReasons = skippedRowReasons
        }
    }

    public var axes: [String]
    public var rows: [Row]

    public init(axes: [String], rows: [Row]) {
        self.axes = axes
        self.rows = rows
    }

    public init(axes: [String], results: [(point: SweepPoint, report: SimulationReport)]) {
        self.init(axes: axes, rows: results.map {
            Row(values: $0.point.values, summary: $0.report.summary, skippedRows: $0.report.skippedRows,
                skippedRowReasons: $0.report.skippedRowReasons)
        })
    }

    /// Metric columns: header, JSON key, and the value as fixed-decimal text.
    static let metrics: [(header: String, key: String, value: @Sendable (MetricsSummary) -> String)] = [
        ("done", "requests_completed", { "\($0.requestsCompleted)" }),
        ("rejected", "requests_rejected", { "\($0.requestsRejected)" }),
        ("req/s", "requests_per_s", { JSONText.number($0.requestsPerSecond, decimals: 3) }),
        ("out tok/s", "output_tokens_per_s", { JSONText.number($0.outputTokensPerSecond, decimals: 1) }),
        ("TTFT p50", "ttft_p50_ms", { JSONText.number($0.timeToFirstToken.p50.milliseconds, decimals: 2) }),
        ("TTFT p99", "ttft_p99_ms", { JSONText.number($0.timeToFirstToken.p99.milliseconds, decimals: 2) }),
        ("TPOT p50", "tpot_p50_ms", { JSONText.number($0.timePerOutputToken.p50.milliseconds, decimals: 3) }),
        ("TPOT p99", "tpot_p99_ms", { JSONText.number($0.timePerOutputToken.p99.milliseconds, decimals: 3) }),
        ("E2E p50", "e2e_p50_ms", { JSONText.number($0.endToEnd.p50.milliseconds, decimals: 1) }),
        ("E2E p99", "e2e_p99_ms", { JSONText.number($0.endToEnd.p99.milliseconds, decimals: 1) }),
        ("goodput/s", "goodput_requests_per_s", { JSONText.number($0.goodputRequestsPerSecond, decimals: 3) }),
        ("in SLO", "slo_attainment", { s in
            JSONText.number(s.requestsCompleted > 0 ? Double(s.requestsMeetingSLO) / Double(s.requestsCompleted) : 0, decimals: 4) }),
        ("KV util", "kv_utilization_mean", { JSONText.number($0.kvUtilizationMean, decimals: 4) }),
        ("preempt", "preemptions", { "\($0.preemptions)" }),
        ("J/token", "energy_joules_per_output_token", { JSONText.number($0.energyJoulesPerOutputToken, decimals: 4) }),
        ("overloaded", "overloaded", { $0.overloaded ? "yes" : "no" }),
    ]

    private func cells(_ row: Row) -> [String] {
        row.values.map(\.description) + Self.metrics.map { $0.value(row.summary) }
    }

    /// A right-aligned plain-text table, then one line per overloaded point saying why, and one
    /// per point that skipped bad trace rows with the first reason.
    public func renderedText() -> String {
        let header = axes + Self.metrics.map(\.header)
        let body = rows.map(cells)
        var widths = header.map(\.count)
        for r in body { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element }
                .joined(separator: "  ")
        }
        var out = line(header) + "\n" + body.map(line).joined(separator: "\n") + "\n"
        for (i, r) in rows.enumerated() where r.summary.overloaded {
            out += "point \(i + 1) overloaded: \(r.summary.overloadReason)\n"
        }
        for (i, r) in rows.enumerated() where r.skippedRows > 0 {
            out += "point \(i + 1) skipped \(r.skippedRows) bad trace row\(r.skippedRows == 1 ? "" : "s")"
                + (r.skippedRowReasons.first.map { ", the first: \($0)" } ?? "") + "\n"
        }
        return out
    }

    /// CSV with a header row; axis columns are named by their paths.
    public func renderedCSV() -> String {
        ([csvHeader] + rows.map(csvRecord)).joined(separator: "\n") + "\n"
    }

    /// The CSV header line (no newline).
    public var csvHeader: String {
        (axes + Self.metrics.map(\.key) + ["skipped_rows"]).map(Self.csvField).joined(separator: ",")
    }

    /// One row as a CSV record (no trailing newline; a quoted field may hold one).
    public func csvRecord(_ r: Row) -> String {
        (r.values.map(\.description) + Self.metrics.map { m in m.key == "overloaded" ? (r.summary.overloaded ? "true" : "false") : m.value(r.summary) }
            + ["\(r.skippedRows)"])
            .map(Self.csvField).joined(separator: ",")
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A JSON array: one object per point with `"point"` (axis path → value) and the metric keys.
    public func renderedJSON() -> String {
        let objects = rows.map { r -> String in
            let point = zip(axes, r.values).map { "\(JSONText.quoted($0)): \(Self.json($1))" }.joined(separator: ", ")
            let metrics = Self.metrics.map { m -> String in
                let v = m.key == "overloaded" ? (r.summary.overloaded ? "true" : "false") : m.value(r.summary)
                return "\"\(m.key)\": \(v)"
            }
            return "  {\"point\": {\(point)}, " + metrics.joined(separator: ", ") + ", \"skipped_rows\": \(r.skippedRows)}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    static func json(_ v: JSONValue) -> String {
        switch v {
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : "\(n)"
        case .string(let s): return JSONText.quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a): return "[" + a.map(json).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\(JSONText.quoted($0)): \(json(o[$0]!))" }.joined(separator: ", ") + "}"
        }
    }
}
