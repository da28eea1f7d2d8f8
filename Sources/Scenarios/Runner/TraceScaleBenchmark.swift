import Diagnostics
import Foundation
import HardwareModel
import Serving
import ServingMetrics
import DiscreteEvent

/// The memory benchmark's workload: an Azure-2023-format trace of any length, generated row by
/// row (so a 100M-row trace can stream through a pipe without ever existing on disk), and the
/// scenario that replays it. Memory of a replay must depend on the requests in flight, not on
/// how many have been read or completed; `infersim bench --memory` checks that with 10M- and
/// 100M-request traces.
///
/// Rows: arrivals every `1 / ratePerSecond` s from 2023-11-16 00:00:00 (100 ns resolution,
/// the format's own); prompts 32–1,024 tokens and outputs 1–32 tokens, drawn uniformly by
/// SplitMix64 from the row index (deterministic, no global state). Short outputs keep the
/// replay fast; they change the work per request, not the memory per request.
public struct TraceScaleBenchmark: Sendable {
    public var requests: Int
    public var ratePerSecond: Double
    public var replicas: Int

    public init(requests: Int, ratePerSecond: Double = 400, replicas: Int = 16) {
        self.requests = requests
        self.ratePerSecond = ratePerSecond
        self.replicas = replicas
    }

    /// The scenario replaying `tracePath` (Llama-3-8B on `replicas` H100 SXMs, continuous
    /// batching, paged KV), as JSON text for `infersim simulate`.
    public func scenarioJSON(tracePath: String) -> String {
        """
        {"name": "trace-scale", "hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "replicas": \(replicas),
         "scheduler": {"kind": "continuousBatching", "maxBatchSize": 256, "maxTokensPerStep": 8192},
         "kvCache": {"kind": "paged", "blockSize": 16}, "router": "leastOutstanding",
         "workload": {"trace": {"format": "azure2023", "path": \(JSONText.quoted(tracePath))}}, "seed": 1}
        """
    }

    public static let header = "TIMESTAMP,ContextTokens,GeneratedTokens\n"

    /// Appends row `index` (0-based, without the header) to `out`.
    public func appendRow(_ index: Int, to out: inout [UInt8]) {
        // Arrival in 100 ns ticks from the start of the day, exactly.
        let ticks = Int((Double(index) / ratePerSecond * 1e7).rounded())
        let seconds = ticks / 10_000_000, fraction = ticks % 10_000_000
        let days = seconds / 86_400, ofDay = seconds % 86_400
        let (y, m, d) = Self.civil(daysFrom: Self.start + days)
        Self.digits(y, 4, &out); out.append(0x2D); Self.digits(m, 2, &out); out.append(0x2D); Self.digits(d, 2, &out)
        out.append(0x20)
        Self.digits(ofDay / 3600, 2, &out); out.append(0x3A); Self.digits(ofDay / 60 % 60, 2, &out); out.append(0x3A)
        Self.digits(ofDay % 60, 2, &out); out.append(0x2E); Self.digits(fraction, 7, &out)
        var z = UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        out.append(0x2C); Self.decimal(32 + Int(z % 993), &out)
        out.append(0x2C); Self.decimal(1 + Int((z >> 32) % 32), &out)
        out.append(0x0A)
    }

    /// Writes the header and every row to `handle` in 1 MiB chunks.
    /// - Returns: false if a write failed (e.g. the reader went away).
    public func write(to file: UnsafeMutablePointer<FILE>) -> Bool {
        var chunk: [UInt8] = Array(Self.header.utf8)
        chunk.reserveCapacity(1 << 20 + 64)
        for i in 0..<requests {
            appendRow(i, to: &chunk)
            if chunk.count >= 1 << 20 {
                guard fwrite(chunk, 1, chunk.count, file) == chunk.count else { return false }
                chunk.removeAll(keepingCapacity: true)
            }
        }
        return fwrite(chunk, 1, chunk.count, file) == chunk.count && fflush(file) == 0
    }

    /// 2023-11-16 as days since 1970-01-01.
    static let start = 19_677

    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(daysFrom z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(0x30 + v / divisor % 10))
            v %= divisor
            divisor /= 10
        }
    }

    static func decimal(_ value: Int, _ out: inout [UInt8]) {
        var width = 1, p = 10
        while value >= p { width += 1; p *= 10 }
        digits(value, width, &out)
    }
}

extension TraceScaleBenchmark {
    /// The largest relative difference between the sketch's and the exact percentiles of one run
    /// (p50, p90, p95 and p99 of TTFT, TPOT, end-to-end latency and queueing), and where it is.
    /// Both summaries must come from the same scenario and seed (identical samples).
    public static func percentileAgreement(sketch: MetricsSummary, exact: MetricsSummary) -> (worst: Double, at: String) {
        var worst = 0.0, at = "none"
        let pairs: [(String, DurationStatistics, DurationStatistics)] = [
            ("ttft", sketch.timeToFirstToken, exact.timeToFirstToken), ("tpot", sketch.timePerOutputToken, exact.timePerOutputToken),
            ("e2e", sketch.endToEnd, exact.endToEnd), ("queueing", sketch.queueing, exact.queueing),
        ]
        for (name, s, e) in pairs {
            for (p, a, b) in [("p50", s.p50, e.p50), ("p90", s.p90, e.p90), ("p95", s.p95, e.p95), ("p99", s.p99, e.p99)] {
                let exactNs = Double(b.nanoseconds), sketchNs = Double(a.nanoseconds)
                let difference = exactNs == 0 ? (sketchNs == 0 ? 0 : .infinity) : abs(sketchNs - exactNs) / exactNs
                if difference > worst { worst = difference; at = "\(name) \(p)" }
            }
        }
        return (worst, at)
    }
}
