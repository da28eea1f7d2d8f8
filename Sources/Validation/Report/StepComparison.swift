import CostModel

/// One step of a served trace: what it did, how long the executor took, and the cost model's price.
public struct StepComparison: Sendable, Hashable {
    public var workload: StepWorkload
    public var measuredSeconds: Double
    public var predictedSeconds: Double

    /// Steps by composition: decode only, prefill only, or both in one fused pass.
    public enum Composition: String, CaseIterable, Sendable {
        case decodeOnly = "decode only", prefillOnly = "prefill only", mixed = "decode + prefill"
    }

    public var composition: Composition {
        workload.prefillTokens == 0 ? .decodeOnly : workload.decodeTokens == 0 ? .prefillOnly : .mixed
    }

    /// One row per composition present: mean ms per step, predicted against measured.
    static func groupRows(_ steps: [StepComparison]) -> [ValidationReport.Row] {
        Composition.allCases.compactMap { c in
            let group = steps.filter { $0.composition == c }
            guard !group.isEmpty else { return nil }
            let n = Double(group.count)
            return ValidationReport.Row(quantity: "trace steps, \(c.rawValue) (\(group.count))", unit: "ms/step",
                                        predicted: group.reduce(0) { $0 + $1.predictedSeconds } / n * 1e3,
                                        measured: group.reduce(0) { $0 + $1.measuredSeconds } / n * 1e3, goal: nil)
        }
    }

    /// The columns of `csvLine`.
    public static let csvHeader = "decode_tokens,decode_context_tokens,prefill_tokens,prefill_sequences,prefill_attention_pairs,measured_ms,predicted_ms"

    /// One CSV line: the workload's sums, then measured and predicted milliseconds.
    public var csvLine: String {
        let w = workload
        return "\(w.decodeTokens),\(w.decodeContextTokens),\(w.prefillTokens),\(w.prefillSequences),\(Int(w.prefillAttentionPairs)),"
            + String(format: "%.4f,%.4f", measuredSeconds * 1e3, predictedSeconds * 1e3)
    }
}
