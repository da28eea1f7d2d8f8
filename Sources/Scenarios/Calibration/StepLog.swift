import CostModel
import Diagnostics
import Foundation

/// A per-step log: the composition of each step a serving engine ran and its measured time.
///
/// CSV with a header naming (in any order) `prefill_tokens`, `prefill_sequences`,
/// `decode_tokens`, `context_sum`, `context_max`, `time_s`, and optionally `prefill_context`
/// (tokens already cached before the step's prefill chunks, in all). `context_sum` and
/// `context_max` are the decode sequences' contexts including the token being decoded. Every
/// field is range-checked; a bad one is reported with its line and column.
public struct StepLog: Sendable {
    public struct Row: Sendable, Hashable {
        public var prefillTokens: Int
        public var prefillSequences: Int
        public var prefillContext: Int
        public var decodeTokens: Int
        public var contextSum: Int
        public var contextMax: Int
        public var seconds: Double
        /// Where the row came from, for messages.
        public var file: String
        public var line: Int

        public init(prefillTokens: Int, prefillSequences: Int, prefillContext: Int = 0, decodeTokens: Int, contextSum: Int, contextMax: Int,
                    seconds: Double, file: String = "", line: Int = 0) {
            self.prefillTokens = prefillTokens
            self.prefillSequences = prefillSequences
            self.prefillContext = prefillContext
            self.decodeTokens = decodeTokens
            self.contextSum = contextSum
            self.contextMax = contextMax
            self.seconds = seconds
            self.file = file
            self.line = line
        }

        /// The step as the cost model sees it: prefill chunks of nearly equal length sharing the
        /// cached context evenly, one decode at `contextMax` and the others sharing the rest of
        /// `contextSum`.
        public var workload: StepWorkload {
            var w = StepWorkload()
            if prefillSequences > 0 {
                for i in 0 ..< prefillSequences {
                    let tokens = prefillTokens / prefillSequences + (i < prefillTokens % prefillSequences ? 1 : 0)
                    let context = prefillContext / prefillSequences + (i < prefillContext % prefillSequences ? 1 : 0)
                    w.addPrefillChunk(tokens: tokens, contextBefore: context)
                }
            }
            if decodeTokens > 0 {
                w.addDecode(contextLength: contextMax)
                let rest = decodeTokens - 1
                if rest > 0 {
                    let remaining = contextSum - contextMax
                    for i in 0 ..< rest { w.addDecode(contextLength: remaining / rest + (i < remaining % rest ? 1 : 0)) }
                }
            }
            return w
        }
    }

    public static let required = ["prefill_tokens", "prefill_sequences", "decode_tokens", "context_sum", "context_max", "time_s"]
    public static let optional = ["prefill_context"]
    /// Rows one log may hold.
    public static let maximumRows = 1_000_000

    /// Reads a step log.
    public static func read(_ path: String) throws -> [Row] {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "file not found or not readable") }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: path, "not UTF-8 text") }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> [Row] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else { throw InputError(file: file, line: 1, "expected a header naming \(required.joined(separator: ",")), found an empty file") }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var index: [String: Int] = [:]
        for (i, name) in header.enumerated() {
            guard required.contains(name) || optional.contains(name) else {
                throw InputError(file: file, line: 1, column: i + 1, NearestName.unknown(name, what: "column", known: required + optional))
            }
            guard index[name] == nil else { throw InputError(file: file, line: 1, column: i + 1, "column \"\(name)\" appears twice") }
            index[name] = i
        }
        for name in required where index[name] == nil {
            throw InputError(file: file, line: 1, "missing column \"\(name)\" (expected \(required.joined(separator: ",")))")
        }
        guard lines.count - 1 <= maximumRows else {
            throw InputError(file: file, "expected at most \(maximumRows) steps, found \(lines.count - 1)")
        }
        var rows: [Row] = []
        rows.reserveCapacity(lines.count - 1)
        for (n, line) in lines.enumerated().dropFirst() {
            let number = n + 1
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw InputError(file: file, line: number, "expected \(header.count) fields, found \(fields.count)")
            }
            func int(_ name: String, max: Int = 100_000_000) throws -> Int {
                guard let i = index[name] else { return 0 }
                let raw = fields[i].trimmingCharacters(in: .whitespaces)
                guard let v = Int(raw), v >= 0, v <= max else {
                    throw InputError(file: file, line: number, column: i + 1, "\(name): expected an integer in 0...\(max), found \"\(raw)\"")
                }
                return v
            }
            let p = try int("prefill_tokens"), ps = try int("prefill_sequences"), pc = try int("prefill_context")
            let d = try int("decode_tokens"), sum = try int("context_sum", max: 1 << 40), mx = try int("context_max")
            let ti = index["time_s"]!
            let raw = fields[ti].trimmingCharacters(in: .whitespaces)
            guard let t = Double(raw), t.isFinite, t > 0, t < 1e4 else {
                throw InputError(file: file, line: number, column: ti + 1, "time_s: expected seconds in (0, 10000), found \"\(raw)\"")
            }
            func bad(_ column: String, _ message: String) -> InputError {
                InputError(file: file, line: number, column: index[column].map { $0 + 1 }, message)
            }
            guard p + d > 0 else { throw bad("prefill_tokens", "expected a step with prefill or decode tokens, found none") }
            guard (p == 0) == (ps == 0), ps <= p else {
                throw bad("prefill_sequences", "expected 1...prefill_tokens (\(p)) sequences for a prefill, 0 without one, found \(ps)")
            }
            if d > 0 {
                guard mx >= 1, sum >= mx + d - 1, sum <= mx * d else {
                    throw bad("context_sum", "expected context_sum in [context_max + decode_tokens - 1, context_max × decode_tokens] = [\(mx + d - 1), \(mx * d)] with context_max >= 1, found context_sum \(sum), context_max \(mx)")
                }
            } else if sum != 0 || mx != 0 {
                throw bad("context_sum", "expected context_sum and context_max 0 without decode tokens, found \(sum) and \(mx)")
            }
            guard pc == 0 || ps > 0 else { throw bad("prefill_context", "expected 0 without a prefill, found \(pc)") }
            rows.append(Row(prefillTokens: p, prefillSequences: ps, prefillContext: pc, decodeTokens: d, contextSum: sum, contextMax: mx,
                            seconds: t, file: file, line: number))
        }
        guard !rows.isEmpty else { throw InputError(file: file, line: 2, "expected at least one step, found none") }
        return rows
    }

    /// The CSV text of `rows` (header included), times to the nanosecond.
    public static func render(_ rows: [Row]) -> String {
        var out = (required + optional).joined(separator: ",") + "\n"
        for r in rows {
            out += "\(r.prefillTokens),\(r.prefillSequences),\(r.decodeTokens),\(r.contextSum),\(r.contextMax),\(JSONText.number(r.seconds, decimals: 9)),\(r.prefillContext)\n"
        }
        return out
    }
}
