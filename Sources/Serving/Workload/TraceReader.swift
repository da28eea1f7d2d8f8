import Diagnostics
import DiscreteEvent
import HardwareModel

/// The trace file formats InferSim reads. Chosen by name in scenario files (`"format"`).
public enum TraceFormat: String, Codable, Sendable, CaseIterable {
    /// Azure LLM inference trace 2023 CSV: `TIMESTAMP,ContextTokens,GeneratedTokens`.
    case azure2023
    /// Mooncake FAST'25 JSONL: `timestamp` (ms), `input_length`, `output_length`, `hash_ids`.
    case mooncake
    /// InferSim CSV: `arrival_s,prompt_tokens,output_tokens[,session][,priority][,acceptance]`.
    case csv
    /// InferSim JSONL with the CSV's keys (plus optional `prefix_hashes`, `prefix_block_tokens`).
    case jsonl
}

/// Streams a trace file as `RequestSpec`s, one line at a time.
///
/// - Arrivals: Azure time stamps become offsets from the first valid row; Mooncake
///   `timestamp` (ms) and InferSim `arrival_s` are already offsets and are kept as they are.
///   All conversions are exact integer nanoseconds.
/// - Ids are `0, 1, 2, …` over the rows actually yielded.
/// - Bad rows (a missing, negative or non-numeric field, zero tokens, an arrival earlier than
///   the previous row's) throw `InputError(file:line:column:_:)` naming the field and
///   expected vs found. With `skipBadRows: true` they are skipped and counted in `skippedRows`
///   (the first `keptReasons` errors are kept in `skipReasons`); rows skipped because their
///   arrival went backwards are also counted in `outOfOrderRows`. A wrong header is always an error.
/// - Memory: one read buffer (1 MiB, grown only for longer lines); the trace is never
///   materialised. Copies of a reader share the same open file.
/// - Complexity: O(bytes) per pass; about one `memchr` and a few byte comparisons per field.
public struct TraceReader: RequestSource {
    public let file: String
    public let format: TraceFormat
    public let skipBadRows: Bool
    /// Rows skipped as bad (including out-of-order rows) when `skipBadRows` is on.
    public private(set) var skippedRows = 0
    /// Rows skipped because their arrival was earlier than the previous row's.
    public private(set) var outOfOrderRows = 0
    /// The first few reasons for skipped rows, in file order.
    public private(set) var skipReasons: [InputError] = []
    /// `skipReasons` as one line each (`file: line N: message`).
    public var skippedRowReasons: [String] { skipReasons.map(\.description) }
    /// Rows yielded so far.
    public private(set) var rowsYielded = 0
    public static let keptReasons = 5

    private let lines: LineReader
    private var parser: Parser
    private var origin: Int64?
    private var previousArrival: Int64 = .min
    private var finished = false

    enum Parser {
        case azure2023(Azure2023Format)
        case mooncake(MooncakeFormat)
        case csv(InferSimCSVFormat)
        case jsonl(InferSimJSONLFormat)

        init(_ format: TraceFormat) {
            switch format {
            case .azure2023: self = .azure2023(Azure2023Format())
            case .mooncake: self = .mooncake(MooncakeFormat())
            case .csv: self = .csv(InferSimCSVFormat())
            case .jsonl: self = .jsonl(InferSimJSONLFormat())
            }
        }

        mutating func parse(_ line: UnsafeRawBufferPointer) throws(RowProblem) -> TraceRow? {
            switch self {
            case .azure2023(var p): defer { self = .azure2023(p) }; return try p.parse(line)
            case .mooncake(var p): return try p.parse(line)
            case .csv(var p): defer { self = .csv(p) }; return try p.parse(line)
            case .jsonl(var p): return try p.parse(line)
            }
        }
    }

    /// Opens a trace file.
    /// - Throws: `InputError` if the file cannot be opened.
    public init(path: String, format: TraceFormat, skipBadRows: Bool = false) throws {
        self.file = path
        self.format = format
        self.skipBadRows = skipBadRows
        self.lines = try LineReader(path: path)
        self.parser = Parser(format)
    }

    /// Reads a trace held in memory; `name` stands for the file name in errors.
    public init(text: String, name: String, format: TraceFormat, skipBadRows: Bool = false) {
        self.file = name
        self.format = format
        self.skipBadRows = skipBadRows
        self.lines = LineReader(bytes: Array(text.utf8), name: name)
        self.parser = Parser(format)
    }

    public mutating func next() throws -> RequestSpec? {
        guard !finished else { return nil }
        while let line = try lines.nextLine() {
            if isBlank(line) { continue }
            let row: TraceRow
            do {
                guard let parsed = try parser.parse(line) else { continue }
                row = parsed
            } catch let problem {
                let error = InputError(file: file, line: lines.lineNumber, column: problem.column, problem.message)
                if problem.fatal || !skipBadRows { finished = true; throw error }
                skip(error)
                continue
            }
            let base = format == .azure2023 ? (origin ?? row.arrivalNanoseconds) : 0
            let arrival = row.arrivalNanoseconds - base
            if arrival < previousArrival {
                let error = InputError(file: file, line: lines.lineNumber,
                                       "arrival goes backwards: expected >= \(Self.seconds(previousArrival)) s (the previous row), found \(Self.seconds(arrival)) s")
                if !skipBadRows { finished = true; throw error }
                outOfOrderRows += 1
                skip(error)
                continue
            }
            if origin == nil { origin = row.arrivalNanoseconds }
            previousArrival = arrival
            let request = RequestSpec(id: rowsYielded, arrival: SimInstant(nanoseconds: arrival),
                                      promptTokens: row.promptTokens, outputTokens: row.outputTokens,
                                      session: row.session, prefixHashes: row.prefixHashes,
                                      prefixBlockTokens: row.prefixBlockTokens, priority: row.priority,
                                      acceptanceRate: row.acceptanceRate)
            rowsYielded += 1
            return request
        }
        if case .csv = parser, rowsYielded == 0, skippedRows == 0, lines.lineNumber == 0 {
            finished = true
            throw InputError(file: file, "empty trace: expected the header \(InferSimCSVFormat.header)")
        }
        finished = true
        return nil
    }

    private mutating func skip(_ error: InputError) {
        skippedRows += 1
        if skipReasons.count < Self.keptReasons { skipReasons.append(error) }
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 { return false }
        return true
    }

    /// Nanoseconds as a decimal seconds string with 9 digits, trailing zeros trimmed.
    static func seconds(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        var fraction = String(magnitude % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.count > 1, fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(sign)\(magnitude / 1_000_000_000).\(fraction)"
    }
}
