import Diagnostics
import CostModel
import Foundation
import HardwareModel

/// Predicts every case of a published-results file that maps onto our profiles and compares
/// with the measured value. Cases that cannot be mapped are kept, with the reason.
///
/// The mapping (SKU text → device id, model name → model id, precision text → formats,
/// metric text → what to predict) is written out below as rules, one per line; nothing is
/// fitted per case. Where a source leaves a detail out (A100 memory variant, precision), the
/// assumption is stated in the case's `assumption`.
public struct PublishedValidation {
    public struct Outcome: Sendable {
        public var id: String
        public var category: String
        public var metric: String
        public var unit: String
        public var measured: Double
        public var predicted: Double?
        /// `(predicted − measured) / measured`.
        public var error: Double? { predicted.map { ($0 - measured) / measured } }
        public var setup: String
        public var assumption: String?
        /// Why no prediction was made.
        public var unmapped: String?
    }

    public struct CategorySummary: Sendable {
        public var category: String
        public var cases: Int
        public var medianAbsoluteError: Double
        public var meanAbsoluteError: Double
    }

    public let catalog: ProfileCatalog

    public init(catalog: ProfileCatalog) {
        self.catalog = catalog
    }

    public static func load(_ path: String) throws -> [PublishedCase] {
        try StrictJSON.decode([PublishedCase].self, contentsOf: path)
    }

    /// The published set the catalog carries (`data/validation/published.json`: the user's
    /// copy if there is one, else the built-in one).
    public static func load(catalog: ProfileCatalog) throws -> [PublishedCase] {
        try catalog.decode([PublishedCase].self, ProfileCatalog.publishedFile).value
    }

    // MARK: mapping rules

    static func deviceID(forSKU sku: String) -> (String?, String?) {
        // Judge by the product named first: "A100 (80GB per doc's H100-80GB build notes)" is an A100.
        var s = sku.lowercased()
        if let a = s.range(of: "a100"), let h = s.range(of: "h100"), a.lowerBound < h.lowerBound { s = String(s[..<h.lowerBound]) }
        if s.contains("3090 ti") { return (nil, "no RTX 3090 Ti profile") }
        if s.contains("h100") && s.contains("pcie") { return ("nvidia-h100-pcie", nil) }
        if s.contains("h100") { return ("nvidia-h100-sxm", nil) }
        if s.contains("h200") { return ("nvidia-h200", nil) }
        if s.contains("a100") && s.contains("40gb") { return ("nvidia-a100-sxm-40gb", nil) }
        if s.contains("a100") {
            return ("nvidia-a100-sxm-80gb", s.contains("80gb") ? nil : "A100 variant not stated: 80 GB SXM assumed")
        }
        if s.contains("l40s") { return ("nvidia-l40s", nil) }
        if s.contains("4090") { return ("nvidia-rtx-4090", nil) }
        if s.contains("3090") { return ("nvidia-rtx-3090", nil) }
        if s.contains("m2 max") { return ("apple-m2-max", nil) }
        if s.contains("i5-6500") { return ("intel-core-i5-6500", nil) }
        if s.contains("groq") { return ("groq-lpu", nil) }
        if s.contains("cerebras") { return ("cerebras-wse-3", nil) }
        return (nil, "no profile for hardware \"\(sku)\"")
    }

    static func modelID(forName name: String) -> String? {
        let n = name.lowercased().replacingOccurrences(of: " ", with: "-")
        if n.hasPrefix("codellama-7b") { return "codellama-7b" }
        if n == "llama-2-7b" || n == "llama-7b" { return "llama-2-7b" }
        if n == "llama-2-13b" { return "llama-2-13b" }
        if n == "llama-2-70b" { return "llama-2-70b" }
        if n == "llama-3-8b" { return "llama-3-8b" }
        if n == "llama-3.1-8b" { return "llama-3.1-8b" }
        if n == "llama-3-70b" { return "llama-3-70b" }
        if n == "mistral-7b" { return "mistral-7b" }
        return nil
    }

    /// Weight format from the source's wording; nil when not stated (FP16 is then assumed).
    static func weightType(_ text: String?) -> DType? {
        guard let t = text?.lowercased() else { return nil }
        if t.hasPrefix("fp8") { return .fp8 }
        if t.hasPrefix("fp16") || t.hasPrefix("f16") || t.hasPrefix("16-bit") { return .fp16 }
        if t.hasPrefix("q8_0") { return .q8_0 }
        if t.hasPrefix("q4_0") || t.hasPrefix("q4 ") || t == "q4" { return .q4_0 }
        if t.contains("4-bit") { return .q4_0 }  // MLC's q4f16_1: 4-bit groups of 32 with an fp16 scale, 18 bytes per 32 weights like Q4_0
        return nil
    }

    enum Quantity {
        case outputTokensPerSecond(perDevice: Bool)
        case ttft, e2e, tpot, decodeTokensPerSecond, promptTokensPerSecond
        /// Output tokens over the request's whole latency, time to first token included: LLMPerf's
        /// per-request output throughput (`num_output_tokens / e2e_latency`, ray-project/llmperf
        /// token_benchmark_ray.py).
        case requestOutputTokensPerSecond
    }

    static func quantity(_ c: PublishedCase) -> Quantity? {
        let m = c.metric.lowercased()
        if c.unit.hasPrefix("x") || m.contains("ratio") || m.contains("speedup") || m.contains("increase") { return nil }
        if m.hasPrefix("output tokens/s (header") { return .outputTokensPerSecond(perDevice: true) }
        if m.hasPrefix("output tokens/s per gpu") { return .outputTokensPerSecond(perDevice: true) }
        if m.hasPrefix("median output tokens/s per req") { return .requestOutputTokensPerSecond }
        if m.hasPrefix("output tokens/s per user") { return .decodeTokensPerSecond }
        if m.hasPrefix("output tokens/s") { return .outputTokensPerSecond(perDevice: false) }
        if m.hasPrefix("first-token latency") { return .ttft }
        if m.hasPrefix("average end-to-end") { return .e2e }
        if m.hasPrefix("decode tokens/s") { return .decodeTokensPerSecond }
        if m.hasPrefix("prompt processing tokens/s") { return .promptTokensPerSecond }
        if m.hasPrefix("decode latency") { return .tpot }
        return nil
    }

    // MARK: running

    /// - Throws: `InputError` when a comparison file under `scenarios/comparisons/` is malformed.
    public func run(_ cases: [PublishedCase]) throws -> [Outcome] {
        let comparisons = try Comparison.all(in: catalog)
        let serving = try ServingComparison.all(in: catalog)
        return cases.map { evaluate($0, comparisons: comparisons, serving: serving) }
    }

    func evaluate(_ c: PublishedCase, comparisons: [String: (path: String, comparison: Comparison)] = [:],
                  serving: [String: (path: String, comparison: ServingComparison)] = [:]) -> Outcome {
        var o = Outcome(id: c.id, category: c.category, metric: c.metric, unit: c.unit, measured: c.value, predicted: nil, setup: "")
        /// Maps the case by a comparison file: its ratio, or why it could not run.
        func mapped(by path: String, assumptions: String, _ run: () throws -> (ratio: Double, setup: String)) -> Outcome {
            do {
                (o.predicted, o.setup) = try run()
                o.assumption = "by \((path as NSString).lastPathComponent): \(assumptions)"
            } catch {
                o.unmapped = "\(error)"
            }
            return o
        }
        if let (path, comparison) = serving[c.id] {
            // A serving claim is mapped by two scenarios replayed on a trace (rates searched).
            return mapped(by: path, assumptions: comparison.assumptions) {
                let r = try comparison.run(catalog: catalog, file: path)
                return (r.predictedRatio, "\(r.system.setup) vs \(r.baseline.setup), \(comparison.metric.rawValue) within \(r.slo)")
            }
        }
        guard let quantity = Self.quantity(c) else {
            // A relative claim is mapped by a comparison scenario that restates both systems.
            if let (path, comparison) = comparisons[c.id] {
                return mapped(by: path, assumptions: comparison.assumptions) {
                    let r = try comparison.run(catalog: catalog, file: path)
                    return (r.predictedRatio, "\(r.system.setup) vs \(r.baseline.setup)")
                }
            }
            o.unmapped = "relative metric (\(c.unit)): a ratio between systems or versions, not one configuration"
            return o
        }
        guard c.workload.batch_size != nil || c.workload.concurrency != nil || c.hardware.count == nil
              || c.workload.input_tokens != nil || c.workload.output_tokens != nil else {
            o.unmapped = "no batch, concurrency or lengths given (system throughput on the benchmark's dataset): needs a serving simulation, not a static batch"
            return o
        }
        let (device, deviceNote) = Self.deviceID(forSKU: c.hardware.sku)
        guard let device else { o.unmapped = deviceNote; return o }
        guard let model = Self.modelID(forName: c.model.name) else { o.unmapped = "no profile for model \"\(c.model.name)\""; return o }
        var notes: [String] = deviceNote.map { [$0] } ?? []
        let weights: DType
        if let w = Self.weightType(c.precision.weights) { weights = w } else {
            weights = .fp16
            notes.append("precision not stated: FP16 assumed")
        }
        let activations: DType = weights == .fp8 ? .fp8 : .fp16
        let kv: DType = weights == .fp8 && (c.precision.kv_cache?.lowercased().hasPrefix("fp8") ?? false) ? .fp8 : .fp16
        let precision = Precision(weights: weights, activations: activations, kvCache: kv)
        let w = c.workload
        let batch = w.batch_size ?? w.concurrency ?? 1
        if c.metric.lowercased().hasPrefix("output tokens/s (header") { notes.append("per-GPU figure assumed, as in the same document's H100 table") }
        if w.batch_size == nil { notes.append(w.concurrency != nil ? "concurrency \(batch) taken as the batch" : "batch 1 assumed") }
        let input = max(w.input_tokens ?? 1, 1)
        let output: Int
        switch quantity {
        case .ttft, .promptTokensPerSecond: output = 1
        default: output = max(w.output_tokens ?? 128, 1)
        }
        if w.output_tokens == nil, case .decodeTokensPerSecond = quantity { notes.append("128 output tokens assumed") }
        do {
            var devices = c.hardware.count ?? 0
            var deployment: Deployment
            let execution = try catalog.device(device).executionModel(in: catalog.deviceClass(catalog.device(device).deviceClass))
            if devices == 0 && (execution == .sramPipeline || execution == .wafer) {
                // SRAM machines lay the model out themselves: the fewest chips whose SRAM holds
                // the weights and this batch's KV cache.
                deployment = try catalog.deployment(hardware: device, model: model, precision: precision,
                                                    onChipKVTokens: batch * (input + output))
                devices = deployment.deviceCount
                if let layout = deployment.layout { notes.append("device count not stated: \(layout.derivation)") }
            } else if devices == 0 {
                // Count not disclosed: the fewest devices that hold the model, trying every
                // tensor-parallel degree that divides the heads with pipeline stages up to the layer count.
                let shape = try catalog.model(model)
                var best: Deployment?
                for tp in [1, 2, 4, 8, 16, 32, 64] where shape.heads % tp == 0 {
                    for pp in 1...shape.layers where best.map({ tp * pp < $0.deviceCount }) ?? true {
                        guard let d = try? catalog.deployment(hardware: device, model: model, tensorParallel: tp,
                                                              pipelineParallel: pp, precision: precision) else { continue }
                        if d.memoryPlan(maxStepTokens: batch * input, maxLogitRows: batch).fits(kvTokens: batch * (input + output)) {
                            best = d
                            break
                        }
                    }
                }
                guard let chosen = best else {
                    o.unmapped = "the model does not fit on any tensor × pipeline arrangement of \(device) up to 64 × \(shape.layers)"
                    return o
                }
                deployment = chosen
                devices = chosen.deviceCount
                notes.append("device count not stated: \(devices) (TP \(chosen.tensorParallel) × PP \(chosen.pipelineParallel), the fewest that hold the model)")
            } else {
                deployment = try catalog.deployment(hardware: device, model: model, tensorParallel: devices, precision: precision)
            }
            let p = InferenceCostModel(deployment: deployment)
                .predictStaticBatch(batch: batch, inputTokens: input, outputTokens: output)
            o.setup = "\(device) ×\(deployment.deviceCount), \(model), \(weights.rawValue), batch \(batch), \(input)→\(output)"
            if !p.fits { notes.append("does not fit in memory by our plan (predicted anyway)") }
            switch quantity {
            case .outputTokensPerSecond(let perDevice):
                o.predicted = p.outputTokensPerSecond / (perDevice ? Double(deployment.deviceCount) : 1)
            case .ttft: o.predicted = p.timeToFirstToken.milliseconds
            case .e2e: o.predicted = p.endToEnd.milliseconds
            case .tpot: o.predicted = (p.timePerOutputToken ?? p.timeToFirstToken).milliseconds
            case .decodeTokensPerSecond: o.predicted = 1 / (p.timePerOutputToken ?? p.timeToFirstToken).value
            case .requestOutputTokensPerSecond: o.predicted = Double(output) / p.endToEnd.value
            case .promptTokensPerSecond: o.predicted = Double(batch * input) / p.timeToFirstToken.value
            }
        } catch {
            o.unmapped = "\(error)"
        }
        o.assumption = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return o
    }

    /// Median and mean absolute percentage error per category, then for the single- and
    /// multi-GPU categories together (the figure the README tables).
    public static func summarize(_ outcomes: [Outcome]) -> [CategorySummary] {
        func summary(_ name: String, _ errors: [Double]) -> CategorySummary? {
            guard !errors.isEmpty else { return nil }
            let sorted = errors.map(abs).sorted()
            let n = sorted.count
            let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
            return CategorySummary(category: name, cases: n, medianAbsoluteError: median,
                                   meanAbsoluteError: sorted.reduce(0, +) / Double(n))
        }
        var result: [CategorySummary] = []
        let categories = Array(Set(outcomes.map(\.category))).sorted()
        for category in categories {
            if let s = summary(category, outcomes.filter { $0.category == category }.compactMap(\.error)) { result.append(s) }
        }
        let gpu = outcomes.filter { $0.category.hasPrefix("single_gpu") || $0.category.hasPrefix("multi_gpu") }.compactMap(\.error)
        if let s = summary("single + multi GPU", gpu) { result.append(s) }
        if let s = summary("all mapped", outcomes.compactMap(\.error)) { result.append(s) }
        return result
    }
}
