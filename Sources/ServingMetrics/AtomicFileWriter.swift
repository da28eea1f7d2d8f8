import Diagnostics
import HardwareModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DiscreteEvent

/// A problem writing a report file.
public struct MetricsOutputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// Writes a file through a temporary sibling (`<path>.partial`) and renames it into place in
/// `commit()`, so readers never see a half-written report: on an error, or if the writer is
/// dropped without `commit()`, the temporary file is removed and `path` is untouched.
/// Output is buffered (64 KiB) and written with `fwrite`.
public final class AtomicFileWriter {
    public let path: String
    private let temporaryPath: String
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer: [UInt8] = []
    private var done = false
    private var slot: Int?

    /// - Throws: `MetricsOutputError` if the temporary file cannot be created.
    public init(path: String) throws {
        self.path = path
        self.temporaryPath = path + ".partial"
        guard let f = fopen(temporaryPath, "wb") else {
            throw MetricsOutputError(path: path, "cannot create \(temporaryPath): \(String(cString: strerror(errno)))")
        }
        file = f
        slot = PartialFiles.register(temporaryPath)
        buffer.reserveCapacity(1 << 16)
    }

    deinit { if !done { abandon() } }

    /// Appends text.
    /// - Throws: `MetricsOutputError` if a write fails (the temporary file is then removed).
    public func write(_ text: String) throws {
        precondition(!done, "write after commit/abandon")
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard let file, !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if written != buffer.count {
            let reason = String(cString: strerror(errno))
            abandon()
            throw MetricsOutputError(path: path, "write failed: \(reason)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, closes and renames the temporary file to `path`.
    /// - Throws: `MetricsOutputError` on a write, close or rename failure (nothing is left behind).
    public func commit() throws {
        precondition(!done, "commit twice")
        try flush()
        let closed = fclose(file!)
        file = nil
        if closed != 0 {
            abandon()
            throw MetricsOutputError(path: path, "close failed: \(String(cString: strerror(errno)))")
        }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            abandon()
            throw MetricsOutputError(path: path, "rename from \(temporaryPath) failed: \(reason)")
        }
        PartialFiles.unregister(slot)
        slot = nil
        done = true
    }

    /// Discards everything written; `path` is left as it was.
    public func abandon() {
        if let file { fclose(file) }
        file = nil
        unlink(temporaryPath)
        PartialFiles.unregister(slot)
        slot = nil
        done = true
    }
}

/// Streams one CSV row per completed request (call `append` as requests complete, then
/// `commit`), so a million-request run needs no list of timelines in memory.
///
/// Columns: `id,replica,arrival_s,scheduled_s,first_token_s,completion_s,prompt_tokens,
/// output_tokens,cached_prompt_tokens,preemptions,ttft_ms,tpot_ms,e2e_ms,queueing_ms`
/// (instants in seconds with 9 decimals — exact nanoseconds; durations in ms with 6 decimals;
/// `tpot_ms` empty for one-token outputs).
public final class RequestCSVWriter {
    private let writer: AtomicFileWriter
    public static let header = "id,replica,arrival_s,scheduled_s,first_token_s,completion_s,prompt_tokens,output_tokens,cached_prompt_tokens,preemptions,ttft_ms,tpot_ms,e2e_ms,queueing_ms\n"

    /// - Throws: `MetricsOutputError` if the file cannot be created.
    public init(path: String) throws {
        writer = try AtomicFileWriter(path: path)
        try writer.write(Self.header)
    }

    public func append(_ t: RequestTimeline) throws {
        try writer.write(Self.row(t))
    }

    /// One CSV row (with newline) for `t`.
    public static func row(_ t: RequestTimeline) -> String {
        func s(_ i: SimInstant) -> String { JSONText.number(Double(i.nanoseconds) * 1e-9, decimals: 9) }
        func ms(_ d: SimDuration) -> String { JSONText.number(Double(d.nanoseconds) * 1e-6, decimals: 6) }
        let tpot = t.timePerOutputToken.map(ms) ?? ""
        return "\(t.id),\(t.replica),\(s(t.arrival)),\(s(t.scheduled)),\(s(t.firstToken)),\(s(t.completion)),"
            + "\(t.promptTokens),\(t.outputTokens),\(t.cachedPromptTokens),\(t.preemptions),"
            + "\(ms(t.timeToFirstToken)),\(tpot),\(ms(t.endToEnd)),\(ms(t.queueing))\n"
    }

    public func commit() throws { try writer.commit() }
    public func abandon() { writer.abandon() }
}

extension TimelineBins {
    public static let csvHeader = "start_s,end_s,arrivals,completions,steps,busy_s,batch_size_mean,batch_size_max,prefill_tokens,decode_tokens,kv_utilization_mean,kv_utilization_max,energy_j\n"

    /// The timeline as CSV text, one row per bin (header `csvHeader`).
    public func renderedCSV() -> String {
        var out = Self.csvHeader
        for (i, bin) in bins.enumerated() {
            let b = bin.step
            let start = Double(Int64(i) * width.nanoseconds) * 1e-9
            let end = Double(Int64(i + 1) * width.nanoseconds) * 1e-9
            out += "\(JSONText.number(start, decimals: 3)),\(JSONText.number(end, decimals: 3)),\(bin.arrivals),\(bin.completions),\(b.steps),"
            out += "\(JSONText.number(Double(b.busyNanoseconds) * 1e-9, decimals: 6)),\(JSONText.number(b.batchSizeMean, decimals: 3)),\(b.batchSizeMax),"
            out += "\(b.prefillTokens),\(b.decodeTokens),\(JSONText.number(b.kvUtilizationMean, decimals: 4)),\(JSONText.number(b.kvUtilizationMax, decimals: 4)),"
            out += "\(JSONText.number(b.energyJoules, decimals: 3))\n"
        }
        return out
    }

    /// Writes `renderedCSV()` to `path` atomically (temporary file, then rename).
    /// - Throws: `MetricsOutputError`.
    public func writeCSV(to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(renderedCSV())
        try writer.commit()
    }
}
