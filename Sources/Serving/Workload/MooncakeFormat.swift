/// Row parser for the Mooncake FAST'25 traces (`conversation_trace.jsonl`, `synthetic_trace.jsonl`).
///
/// One JSON object per line: `{"timestamp": 27482, "input_length": 6955, "output_length": 52,
/// "hash_ids": [46, 47, …]}`. `timestamp` is milliseconds from the trace start (integer, or a
/// decimal, converted exactly to ns); `hash_ids` are the prompt's prefix blocks of
/// `MooncakeFormat.blockTokens` = 512 tokens, and become `RequestSpec.prefixHashes`.
/// Unknown keys are errors. Source: github.com/kvcache-ai/Mooncake `FAST25-release/README.md`;
/// Qin et al., "Mooncake", FAST 2025.
struct MooncakeFormat {
    /// Tokens per `hash_ids` block in the Mooncake traces.
    static let blockTokens = 512

    mutating func parse(_ p: UnsafeRawBufferPointer) throws(RowProblem) -> TraceRow? {
        var object = try FlatJSONObject(p)
        var timestamp: Int64?
        var input: Int?
        var output: Int?
        var hashes: [UInt64] = []
        while let member = try object.next() {
            let (lo, hi) = (member.keyLo, member.keyHi)
            if FieldParsing.equals(p, lo, hi, "timestamp") {
                try object.once(0, "timestamp")
                timestamp = try Self.number("timestamp", member.value) { a, b throws(RowProblem) in
                    try RowFields.time("timestamp", unit: "milliseconds", p, a, b, scaleDigits: 6)
                }
            } else if FieldParsing.equals(p, lo, hi, "input_length") {
                try object.once(1, "input_length")
                input = try Self.number("input_length", member.value) { a, b throws(RowProblem) in
                    try RowFields.count("input_length", p, a, b, atLeast: 1)
                }
            } else if FieldParsing.equals(p, lo, hi, "output_length") {
                try object.once(2, "output_length")
                output = try Self.number("output_length", member.value) { a, b throws(RowProblem) in
                    try RowFields.count("output_length", p, a, b, atLeast: 1)
                }
            } else if FieldParsing.equals(p, lo, hi, "hash_ids") {
                try object.once(3, "hash_ids")
                switch member.value {
                case .array(let a, let b): hashes = try object.integers("hash_ids", lo: a, hi: b)
                case .null: hashes = []
                case .number: throw RowProblem(message: "field 'hash_ids': expected an array of integers, found a number")
                }
            } else {
                throw RowProblem(message: "unknown key \(FieldParsing.quoted(p, lo, hi)) (expected timestamp, input_length, output_length, hash_ids)")
            }
        }
        guard let timestamp else { throw RowProblem(message: "field 'timestamp' missing: expected a number of milliseconds") }
        guard let input else { throw RowProblem(message: "field 'input_length' missing: expected an integer >= 1") }
        guard let output else { throw RowProblem(message: "field 'output_length' missing: expected an integer >= 1") }
        return TraceRow(arrivalNanoseconds: timestamp, promptTokens: input, outputTokens: output,
                        prefixHashes: hashes, prefixBlockTokens: hashes.isEmpty ? 0 : Self.blockTokens)
    }

    /// Applies `parse` to a number member; `null` counts as absent; an array is an error.
    static func number<T>(_ name: String, _ value: FlatJSONObject.Value,
                          _ parse: (Int, Int) throws(RowProblem) -> T) throws(RowProblem) -> T? {
        switch value {
        case .number(let lo, let hi): return try parse(lo, hi)
        case .null: return nil
        case .array: throw RowProblem(message: "field '\(name)': expected a number, found an array")
        }
    }
}
