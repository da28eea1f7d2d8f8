/// Row parser for the Azure LLM inference trace 2023 (`AzureLLMInferenceTrace_{code,conv}.csv`).
///
/// Header `TIMESTAMP,ContextTokens,GeneratedTokens`; rows such as
/// `2023-11-16 18:17:03.9799600,4808,10`. The time stamp is wall-clock time with 100 ns
/// resolution and no zone; it is converted to integer nanoseconds exactly, and the reader
/// subtracts the first row's value, so arrival = offset from the first row (no `Double`).
/// Source: github.com/Azure/AzurePublicDataset, `AzureLLMInferenceDataset2023.md`;
/// Patel et al., "Splitwise", ISCA 2024.
struct Azure2023Format {
    private var sawHeader = false

    mutating func parse(_ p: UnsafeRawBufferPointer) throws(RowProblem) -> TraceRow? {
        var fields = CSVFieldCursor(p)
        if !sawHeader {
            sawHeader = true
            let a = fields.next(), b = fields.next(), c = fields.next(), d = fields.next()
            guard let a, let b, let c, d == nil,
                  FieldParsing.equals(p, a.lo, a.hi, "TIMESTAMP", ignoringCase: true),
                  FieldParsing.equals(p, b.lo, b.hi, "ContextTokens", ignoringCase: true),
                  FieldParsing.equals(p, c.lo, c.hi, "GeneratedTokens", ignoringCase: true) else {
                throw RowProblem(message: "expected the header TIMESTAMP,ContextTokens,GeneratedTokens, found \(FieldParsing.quoted(p, 0, p.count))", fatal: true)
            }
            return nil
        }
        guard let t = fields.next() else { throw RowFields.missing("TIMESTAMP", expectedFields: 3, found: 0) }
        guard let context = fields.next() else { throw RowFields.missing("ContextTokens", expectedFields: 3, found: 1) }
        guard let generated = fields.next() else { throw RowFields.missing("GeneratedTokens", expectedFields: 3, found: 2) }
        if fields.next() != nil {
            var n = 4
            while fields.next() != nil { n += 1 }
            throw RowProblem(message: "expected 3 comma-separated fields, found \(n)")
        }
        guard let nanoseconds = FieldParsing.timestampNanoseconds(p, t.lo, t.hi) else {
            throw RowProblem(message: "field 'TIMESTAMP': expected a time stamp like 2023-11-16 18:17:03.9799600 (years 1970-2200), found \(FieldParsing.quoted(p, t.lo, t.hi))")
        }
        let prompt = try RowFields.count("ContextTokens", p, context.lo, context.hi, atLeast: 1)
        let output = try RowFields.count("GeneratedTokens", p, generated.lo, generated.hi, atLeast: 1)
        return TraceRow(arrivalNanoseconds: nanoseconds, promptTokens: prompt, outputTokens: output)
    }
}
