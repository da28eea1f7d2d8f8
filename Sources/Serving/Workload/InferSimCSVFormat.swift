/// Row parser for InferSim's own CSV traces.
///
/// Header `arrival_s,prompt_tokens,output_tokens[,session][,priority][,acceptance]` (columns in any order;
/// the first three required; unknown columns are an error), then rows such as `0.125,512,64`
/// or `0.125,512,64,7,0`. `arrival_s` is seconds from the start of the run, converted exactly to
/// nanoseconds (decimal digits past the ninth round half up). An empty `session` means none;
/// an empty `priority` means 0; `acceptance` is the request's draft-acceptance rate in [0, 1]
/// under speculative decoding (empty: the scenario's).
struct InferSimCSVFormat {
    enum Column { case arrival, prompt, output, session, priority, acceptance }
    private var columns: [Column] = []
    static let header = "arrival_s,prompt_tokens,output_tokens[,session][,priority][,acceptance]"

    mutating func parse(_ p: UnsafeRawBufferPointer) throws(RowProblem) -> TraceRow? {
        var fields = CSVFieldCursor(p)
        if columns.isEmpty {
            while let f = fields.next() {
                let column: Column
                if FieldParsing.equals(p, f.lo, f.hi, "arrival_s") { column = .arrival }
                else if FieldParsing.equals(p, f.lo, f.hi, "prompt_tokens") { column = .prompt }
                else if FieldParsing.equals(p, f.lo, f.hi, "output_tokens") { column = .output }
                else if FieldParsing.equals(p, f.lo, f.hi, "session") { column = .session }
                else if FieldParsing.equals(p, f.lo, f.hi, "priority") { column = .priority }
                else if FieldParsing.equals(p, f.lo, f.hi, "acceptance") { column = .acceptance }
                else {
                    throw RowProblem(message: "header: expected \(Self.header), found unknown column \(FieldParsing.quoted(p, f.lo, f.hi))", fatal: true)
                }
                if columns.contains(column) {
                    throw RowProblem(message: "header: column \(FieldParsing.quoted(p, f.lo, f.hi)) appears twice", fatal: true)
                }
                columns.append(column)
            }
            for required in [Column.arrival, .prompt, .output] where !columns.contains(required) {
                columns = []
                throw RowProblem(message: "header: expected \(Self.header), found \(FieldParsing.quoted(p, 0, p.count))", fatal: true)
            }
            return nil
        }
        var row = TraceRow(arrivalNanoseconds: -1, promptTokens: 0, outputTokens: 0)
        var index = 0
        while let f = fields.next() {
            guard index < columns.count else {
                var n = index + 1
                while fields.next() != nil { n += 1 }
                throw RowProblem(message: "expected \(columns.count) comma-separated fields, found \(n)")
            }
            switch columns[index] {
            case .arrival: row.arrivalNanoseconds = try RowFields.time("arrival_s", unit: "seconds", p, f.lo, f.hi, scaleDigits: 9)
            case .prompt: row.promptTokens = try RowFields.count("prompt_tokens", p, f.lo, f.hi, atLeast: 1)
            case .output: row.outputTokens = try RowFields.count("output_tokens", p, f.lo, f.hi, atLeast: 1)
            case .session: row.session = try RowFields.optionalInt("session", p, f.lo, f.hi)
            case .priority: row.priority = try RowFields.optionalInt("priority", p, f.lo, f.hi) ?? 0
            case .acceptance: row.acceptanceRate = try RowFields.optionalRate("acceptance", p, f.lo, f.hi)
            }
            index += 1
        }
        if index < columns.count {
            let name = ["arrival_s", "prompt_tokens", "output_tokens", "session", "priority", "acceptance"][
                [Column.arrival, .prompt, .output, .session, .priority, .acceptance].firstIndex(of: columns[index])!]
            throw RowFields.missing(name, expectedFields: columns.count, found: index)
        }
        return row
    }
}
