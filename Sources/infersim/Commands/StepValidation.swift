import CostModel
import Diagnostics
import Scenarios

/// `validate --steps FILE`: every measured step of a log priced on a deployment, and the errors.
struct StepValidation {
    struct Row {
        var row: StepLog.Row
        var predicted: Double
        var error: Double { predicted / row.seconds - 1 }
        var outside: [String]
    }
    var rows: [Row]
    var deployment: Deployment

    static func run(_ log: [StepLog.Row], deployment d: Deployment) -> StepValidation {
        let cost = InferenceCostModel(deployment: d)
        return StepValidation(rows: log.map { r in
            Row(row: r, predicted: cost.cost(of: r.workload).duration.value, outside: d.extrapolations(of: r.workload))
        }, deployment: d)
    }

    var medianAbsError: Double {
        let e = rows.map { abs($0.error) }.sorted()
        return e.isEmpty ? 0 : e.count % 2 == 1 ? e[e.count / 2] : (e[e.count / 2 - 1] + e[e.count / 2]) / 2
    }
    var meanSignedError: Double { rows.isEmpty ? 0 : rows.map(\.error).reduce(0, +) / Double(rows.count) }

    func text(file: String) -> String {
        var t = TextTable(["line", "prefill", "chunks", "decodes", "context sum", "context max", "measured ms", "predicted ms", "error", "extrapolated"],
                          leftAligned: [9])
        for r in rows {
            t.add(["\(r.row.line)", "\(r.row.prefillTokens)", "\(r.row.prefillSequences)", "\(r.row.decodeTokens)", "\(r.row.contextSum)",
                   "\(r.row.contextMax)", Format.ms(r.row.seconds).replacingOccurrences(of: " ms", with: ""), Format.ms(r.predicted).replacingOccurrences(of: " ms", with: ""), Format.signedPercent(r.error),
                   r.outside.isEmpty ? "" : r.outside.joined(separator: "; ")])
        }
        let engine = deployment.engine.map { "engine \($0.name)" } ?? "the device class's figures"
        return [PredictReport.header(deployment), "Steps of \(file) priced with \(engine):", t.rendered(),
                "\(rows.count) steps: median |error| \(Format.percent(medianAbsError)), mean signed error \(Format.signedPercent(meanSignedError)), \(rows.filter { !$0.outside.isEmpty }.count) extrapolated"]
            .joined(separator: "\n")
    }

    /// Schema: schemas/validate-steps.schema.json.
    func json(file: String, hardware: String) -> String {
        var w = JSONWriter()
        w.add("file", file)
        w.add("hardware", hardware)
        w.add("model", deployment.model.name)
        w.add("engine", deployment.engine?.name)
        w.add("execution_model", deployment.executionModel.rawValue)
        w.add("steps", rows.count)
        w.add("median_abs_error", medianAbsError)
        w.add("mean_signed_error", meanSignedError)
        w.addRaw("rows", "[" + rows.map { r in
            var o = JSONWriter()
            o.add("line", r.row.line)
            o.add("prefill_tokens", r.row.prefillTokens)
            o.add("prefill_sequences", r.row.prefillSequences)
            o.add("decode_tokens", r.row.decodeTokens)
            o.add("context_sum", r.row.contextSum)
            o.add("context_max", r.row.contextMax)
            o.add("measured_s", r.row.seconds)
            o.add("predicted_s", r.predicted)
            o.add("error", r.error)
            o.addRaw("extrapolations", "[" + r.outside.map { JSONText.quoted($0) }.joined(separator: ", ") + "]")
            return o.rendered()
        }.joined(separator: ", ") + "]")
        return w.rendered()
    }
}
