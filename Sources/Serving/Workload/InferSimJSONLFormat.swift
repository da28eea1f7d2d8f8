/// Row parser for InferSim's own JSONL traces: one object per line with the CSV's keys,
/// `{"arrival_s": 0.125, "prompt_tokens": 512, "output_tokens": 64}` plus optional
/// `"session"`, `"priority"`, `"acceptance"` (a rate in [0, 1]), `"prefix_hashes": [..]` and `"prefix_block_tokens"` (required,
/// ≥ 1, when `prefix_hashes` is non-empty). Unknown keys are errors.
struct InferSimJSONLFormat {
    mutating func parse(_ p: UnsafeRawBufferPointer) throws(RowProblem) -> TraceRow? {
        var object = try FlatJSONObject(p)
        var arrival: Int64?
        var prompt: Int?
        var output: Int?
        var row = TraceRow(arrivalNanoseconds: 0, promptTokens: 0, outputTokens: 0)
        var blockTokens: Int?
        while let member = try object.next() {
            let (lo, hi) = (member.keyLo, member.keyHi)
            if FieldParsing.equals(p, lo, hi, "arrival_s") {
                try object.once(0, "arrival_s")
                arrival = try MooncakeFormat.number("arrival_s", member.value) { a, b throws(RowProblem) in
                    try RowFields.time("arrival_s", unit: "seconds", p, a, b, scaleDigits: 9)
                }
            } else if FieldParsing.equals(p, lo, hi, "prompt_tokens") {
                try object.once(1, "prompt_tokens")
                prompt = try MooncakeFormat.number("prompt_tokens", member.value) { a, b throws(RowProblem) in
                    try RowFields.count("prompt_tokens", p, a, b, atLeast: 1)
                }
            } else if FieldParsing.equals(p, lo, hi, "output_tokens") {
                try object.once(2, "output_tokens")
                output = try MooncakeFormat.number("output_tokens", member.value) { a, b throws(RowProblem) in
                    try RowFields.count("output_tokens", p, a, b, atLeast: 1)
                }
            } else if FieldParsing.equals(p, lo, hi, "session") {
                try object.once(3, "session")
                row.session = try MooncakeFormat.number("session", member.value) { a, b throws(RowProblem) in
                    try RowFields.optionalInt("session", p, a, b)
                } ?? nil
            } else if FieldParsing.equals(p, lo, hi, "priority") {
                try object.once(4, "priority")
                let priority: Int?? = try MooncakeFormat.number("priority", member.value) { a, b throws(RowProblem) in
                    try RowFields.optionalInt("priority", p, a, b)
                }
                row.priority = (priority ?? nil) ?? 0
            } else if FieldParsing.equals(p, lo, hi, "acceptance") {
                try object.once(7, "acceptance")
                row.acceptanceRate = try MooncakeFormat.number("acceptance", member.value) { a, b throws(RowProblem) in
                    try RowFields.optionalRate("acceptance", p, a, b)
                } ?? nil
            } else if FieldParsing.equals(p, lo, hi, "prefix_block_tokens") {
                try object.once(5, "prefix_block_tokens")
                blockTokens = try MooncakeFormat.number("prefix_block_tokens", member.value) { a, b throws(RowProblem) in
                    try RowFields.count("prefix_block_tokens", p, a, b, atLeast: 1)
                }
            } else if FieldParsing.equals(p, lo, hi, "prefix_hashes") {
                try object.once(6, "prefix_hashes")
                switch member.value {
                case .array(let a, let b): row.prefixHashes = try object.integers("prefix_hashes", lo: a, hi: b)
                case .null: row.prefixHashes = []
                case .number: throw RowProblem(message: "field 'prefix_hashes': expected an array of integers, found a number")
                }
            } else {
                throw RowProblem(message: "unknown key \(FieldParsing.quoted(p, lo, hi)) (expected arrival_s, prompt_tokens, output_tokens, session, priority, acceptance, prefix_hashes, prefix_block_tokens)")
            }
        }
        guard let arrival else { throw RowProblem(message: "field 'arrival_s' missing: expected a non-negative number of seconds") }
        guard let prompt else { throw RowProblem(message: "field 'prompt_tokens' missing: expected an integer >= 1") }
        guard let output else { throw RowProblem(message: "field 'output_tokens' missing: expected an integer >= 1") }
        row.arrivalNanoseconds = arrival
        row.promptTokens = prompt
        row.outputTokens = output
        if !row.prefixHashes.isEmpty {
            guard let blockTokens else {
                throw RowProblem(message: "field 'prefix_block_tokens' missing: expected an integer >= 1 when prefix_hashes is non-empty")
            }
            row.prefixBlockTokens = blockTokens
        }
        return row
    }
}
