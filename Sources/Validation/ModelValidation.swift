import CPUExecutor
import CostModel
import DiscreteEvent
import Foundation
import HardwareModel
import Serving

/// `infersim validate --model`: runs the CPU executor on a GGUF model and prices the same work
/// with the unchanged cost model (`InferenceCostModel` on a `Deployment` of the host profile),
/// then reports predicted versus measured for every quantity of `Plan`.
///
/// Mapping of executed work to cost-model steps:
/// - a decode of one token at context `c` is `StepWorkload.addDecode(contextLength: c)`;
/// - a prefill of `n` tokens is one chunk `addPrefillChunk(tokens: n, contextBefore: 0)` per 512-token chunk;
/// - a batched decode of `b` sequences at context `c` adds `b` decodes of context `c + 1`;
/// - executor operator classes map to cost-model kinds by `operatorClass(of:)`;
/// - the trace is served twice through `ServingSimulator` with the same configuration and
///   requests: measured with `ExecutorStepRunner` (each step run on the executor, timed), and
///   predicted with `InferenceCostModel` pricing each step. Both follow the same scheduler
///   decisions code, so they differ only in how long each step takes.
public struct ModelValidation {
    /// What to measure. The defaults are the goals of issue 4.
    public struct Plan: Sendable {
        public var decodeContexts = [128, 1024]
        public var prefillLengths = [128, 512]
        public var batchSizes = [4, 16]
        /// Cached tokens per sequence before the batched decode steps.
        public var batchContext = 64
        public var repetitions = 5
        public var tracePolicy = TraceServingPolicy()
        public init() {}
    }

    public let deployment: Deployment
    public let model: LlamaModel
    public let threads: Int
    public var plan: Plan
    public var trace: [RequestSpec]
    public let clock: any ExecutorClock

    /// - Throws: `InputError` when the GGUF's shape differs from the deployment's model profile.
    public init(deployment: Deployment, model: LlamaModel, threads: Int, trace: [RequestSpec], plan: Plan = Plan(),
                clock: any ExecutorClock = MonotonicClock()) throws {
        try Self.checkShape(deployment.model, model.config)
        self.deployment = deployment
        self.model = model
        self.threads = threads
        self.trace = trace
        self.plan = plan
        self.clock = clock
    }

    /// The precision the executor runs: Q4_1 layers (or `weights`), Q8_0 embedding/LM head,
    /// activations rounded to Q8 (a dot-product kernel per weight format), and an F16 KV cache
    /// whose attention is F16 loads with F32 arithmetic (priced at the profile's fp16 figure,
    /// which `calibrate` measures on that kernel).
    public static func executorPrecision(weights: DType = .q4_1, embeddings: DType = .q8_0) -> Precision {
        Precision(weights: weights, activations: .q8_0, kvCache: .fp16, embeddings: embeddings, attention: .fp16)
    }

    /// The cost-model kind(s) behind each executor operator class.
    public static func operatorClass(of kind: OperatorKind) -> OperatorClass? {
        switch kind {
        case .qkvProjection: return .qkvProjection
        case .attentionPrefill, .attentionDecode: return .attention
        case .outputProjection: return .outputProjection
        case .ffn, .moeRouter, .moeExperts: return .feedForward
        case .embedding, .norm, .elementwise: return .normsAndElementwise
        case .lmHead: return .lmHead
        case .allReduce, .pipelineTransfer: return nil
        }
    }

    /// Predicted seconds per executor operator class for `step` (step overhead left out).
    public func predictedByClass(_ step: StepWorkload) -> [OperatorClass: Double] {
        var out: [OperatorClass: Double] = [:]
        for p in InferenceCostModel(deployment: deployment).breakdown(of: step).operators {
            if let c = Self.operatorClass(of: p.op.kind) { out[c, default: 0] += p.totalTime.value }
        }
        return out
    }

    func predictedSeconds(_ step: StepWorkload) -> Double { InferenceCostModel(deployment: deployment).cost(of: step).duration.value }

    /// Runs every measurement and prediction. Takes tens of seconds on the real model.
    /// - Throws: `ExecutorError` if a plan size exceeds what the model can hold.
    public func run(progress: (String) -> Void = { _ in }) throws -> ValidationReport {
        let measure = ExecutorMeasurements(model: model, threads: threads, repetitions: plan.repetitions, clock: clock)
        var rows: [ValidationReport.Row] = []
        var classRows: [ValidationReport.Row] = []
        var steps: [StepComparison] = []
        func addClasses(_ label: String, predicted: [OperatorClass: Double], measured: OperatorTimings, per: Double) {
            for c in OperatorClass.allCases {
                classRows.append(.init(quantity: "\(label) \(c)", unit: "ms", predicted: (predicted[c] ?? 0) * 1e3,
                                       measured: Double(measured[c]) * 1e-6 / per, goal: nil))
            }
        }
        for c in plan.decodeContexts {
            progress("decode at context \(c)")
            let (seconds, timings) = try measure.decodeStepSeconds(context: c)
            var w = StepWorkload()
            w.addDecode(contextLength: c)
            rows.append(.init(quantity: "decode @ ctx \(c)", unit: "ms/token", predicted: predictedSeconds(w) * 1e3,
                              measured: seconds * 1e3, goal: 0.10))
            if c == plan.decodeContexts.first {
                addClasses("decode @ ctx \(c):", predicted: predictedByClass(w), measured: timings, per: Double(timings.steps))
            }
        }
        for n in plan.prefillLengths {
            progress("prefill of \(n) tokens")
            let (seconds, timings) = try measure.prefillSeconds(count: n)
            var predicted = 0.0
            var classes: [OperatorClass: Double] = [:]
            var done = 0
            while done < n {
                let chunk = min(512, n - done)
                var w = StepWorkload()
                w.addPrefillChunk(tokens: chunk, contextBefore: done)
                predicted += predictedSeconds(w)
                classes.merge(predictedByClass(w), uniquingKeysWith: +)
                done += chunk
            }
            rows.append(.init(quantity: "prefill \(n) tokens", unit: "tokens/s", predicted: Double(n) / predicted,
                              measured: Double(n) / seconds, goal: 0.10))
            if n == plan.prefillLengths.last {
                addClasses("prefill \(n):", predicted: classes, measured: timings, per: 1)
            }
        }
        for b in plan.batchSizes {
            progress("batched decode of \(b) sequences")
            let (seconds, timings) = try measure.batchedDecodeStepSeconds(batch: b, context: plan.batchContext)
            var w = StepWorkload()
            for _ in 0 ..< b { w.addDecode(contextLength: plan.batchContext + 4) }
            rows.append(.init(quantity: "batched decode B=\(b) @ ctx \(plan.batchContext)", unit: "ms/step",
                              predicted: predictedSeconds(w) * 1e3, measured: seconds * 1e3, goal: nil))
            if b == plan.batchSizes.first {
                addClasses("decode B=\(b):", predicted: predictedByClass(w), measured: timings, per: Double(timings.steps))
            }
        }
        if !trace.isEmpty {
            progress("served trace of \(trace.count) requests (real time)")
            let configuration = plan.tracePolicy.configuration(model: model.config, contextLength: TraceServing.contextLength(for: trace))
            let measured = try TraceServing.measure(trace, configuration: configuration, model: model, threads: threads, clock: clock)
            let predicted = try TraceServing.predict(trace, configuration: configuration,
                                                     costModel: InferenceCostModel(deployment: deployment))
            let pairs: [(String, (ServedTrace) -> SimDuration, Double?)] = [
                ("trace TTFT p50", { $0.timeToFirstToken.p50 }, 0.15), ("trace TTFT p99", { $0.timeToFirstToken.p99 }, nil),
                ("trace TPOT p50", { $0.timePerOutputToken.p50 }, 0.15), ("trace TPOT p99", { $0.timePerOutputToken.p99 }, nil),
                ("trace E2E p50", { $0.endToEnd.p50 }, nil),
            ]
            for (name, get, goal) in pairs {
                rows.append(.init(quantity: name, unit: "ms", predicted: get(predicted).milliseconds, measured: get(measured).milliseconds, goal: goal))
            }
            steps = measured.stepLog.map { StepComparison(workload: $0.workload, measuredSeconds: $0.seconds,
                                                          predictedSeconds: predictedSeconds($0.workload)) }
            rows += StepComparison.groupRows(steps)
        }
        let p = deployment.precision
        let setup: [(String, String)] = [
            ("hardware", deployment.device.name), ("device class", deployment.deviceClass.name),
            ("model", deployment.model.name), ("threads", "\(threads)"),
            ("precision", "weights \(p.weights.rawValue), embeddings \(p.embeddingType.rawValue), activations \(p.activations.rawValue) (kernels: layers \(p.gemmArithmetic(weightFormat: p.weights).rawValue), LM head \(p.gemmArithmetic(weightFormat: p.embeddingType).rawValue), attention \(p.attentionArithmetic.rawValue)), KV \(p.kvCache.rawValue)"),
            ("trace", trace.isEmpty ? "none" : "\(trace.count) requests, \(plan.tracePolicy.summary), the simulator's scheduler for measured and predicted"),
        ]
        return ValidationReport(rows: rows + classRows, setup: setup, steps: steps)
    }

    /// - Throws: `InputError` naming the first field where the GGUF and the model profile differ.
    static func checkShape(_ m: ModelProfile, _ c: LlamaConfig) throws {
        let pairs: [(String, Int, Int)] = [
            ("layers", m.layers, c.layerCount), ("hiddenSize", m.hiddenSize, c.embeddingLength), ("heads", m.heads, c.headCount),
            ("kvHeads", m.kvHeads, c.kvHeadCount), ("headDim", m.headDim, c.headDim), ("ffnSize", m.ffnSize, c.feedForwardLength),
            ("vocabSize", m.vocabSize, c.vocabularySize),
        ]
        for (key, profile, gguf) in pairs where profile != gguf {
            throw InputError(file: "model profile \(m.name)", location: "$.\(key)", "expected \(gguf) (from the GGUF file), found \(profile)")
        }
    }

    /// A cost-model profile with the shape of a GGUF Llama model (for models without a profile file).
    /// - Throws: `InputError` only if the generated profile fails strict decoding (a programming error).
    public static func modelProfile(from c: LlamaConfig, name: String) throws -> ModelProfile {
        let json = """
        {"schemaVersion": 1, "name": \(HostProfileWriter.quoted(name)), "displayName": \(HostProfileWriter.quoted(name)),
         "layers": \(c.layerCount), "hiddenSize": \(c.embeddingLength), "heads": \(c.headCount), "kvHeads": \(c.kvHeadCount),
         "headDim": \(c.headDim), "attention": "\(c.kvHeadCount == c.headCount ? "mha" : c.kvHeadCount == 1 ? "mqa" : "gqa")",
         "ffnSize": \(c.feedForwardLength), "ffn": "gated", "vocabSize": \(c.vocabularySize), "tiedEmbeddings": true,
         "maxContextTokens": \(c.contextLength), "source": "shape read from GGUF metadata"}
        """
        return try StrictJSON.decode(ModelProfile.self, from: Data(json.utf8), file: name)
    }
}
