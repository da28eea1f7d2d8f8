import Diagnostics
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
/// Measurement (`observe`) and prediction (`report`) are separate, so that the host can be
/// calibrated in rounds interleaved with the measurement and the deployment built afterwards.
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
        case .allReduce, .pipelineTransfer, .allToAll, .allGather, .reduceScatter: return nil
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

    /// Measures every quantity of `plan` on the executor (`plan.repetitions` rounds) and predicts
    /// each with the cost model. Takes tens of seconds on the real model.
    /// - Throws: `ExecutorError` if a plan size exceeds what the model can hold.
    public func run(progress: (String) -> Void = { _ in }) throws -> ValidationReport {
        let (observed, _) = try Self.observe(model: model, threads: threads, trace: trace, plan: plan, clock: clock,
                                             calibrator: nil, progress: progress)
        return report(observed)
    }

    /// Measures every quantity of `plan` on the executor in `plan.repetitions` rounds, each round
    /// one sample set of every quantity, in plan order; the served trace runs once, after the
    /// middle round. With a `calibrator`, its rounds (`HostCalibrator.rounds` is set to the same
    /// count) alternate with these: calibration round, measurement round, and so on, so that the
    /// calibrated profile (medians over its rounds) and the measurements (medians over theirs)
    /// describe the same minutes of a host whose speed drifts. Returns the calibration too.
    /// - Throws: `ExecutorError` if a plan size exceeds what the model can hold.
    public static func observe(model: LlamaModel, threads: Int, trace: [RequestSpec], plan: Plan,
                               clock: any ExecutorClock = MonotonicClock(), calibrator: HostCalibrator?,
                               progress: (String) -> Void = { _ in }) throws -> (ExecutorObservations, HostCalibration?) {
        let measure = ExecutorMeasurements(model: model, threads: threads, clock: clock)
        let rounds = max(1, plan.repetitions)
        var observed = ExecutorObservations()
        func round(_ r: Int) throws {
            let label = "round \(r + 1)/\(rounds):"
            for c in plan.decodeContexts {
                progress("\(label) decode at context \(c)")
                let (samples, timings) = try measure.decodeSteps(context: c)
                observed.decode[c, default: .init()].add(samples, timings)
            }
            for n in plan.prefillLengths {
                progress("\(label) prefill of \(n) tokens")
                let (seconds, timings) = try measure.prefill(count: n)
                observed.prefill[n, default: .init()].add([seconds], timings)
            }
            for b in plan.batchSizes {
                progress("\(label) batched decode of \(b) sequences")
                let (samples, timings) = try measure.batchedDecodeSteps(batch: b, context: plan.batchContext)
                observed.batched[b, default: .init()].add(samples, timings)
            }
            observed.rounds += 1
            if r == (rounds - 1) / 2 && !trace.isEmpty {
                progress("served trace of \(trace.count) requests (real time)")
                let configuration = plan.tracePolicy.configuration(model: model.config, contextLength: TraceServing.contextLength(for: trace))
                observed.trace = try TraceServing.measure(trace, configuration: configuration, model: model, threads: threads, clock: clock)
            }
        }
        guard var calibrator else {
            for r in 0 ..< rounds { try round(r) }
            return (observed, nil)
        }
        calibrator.rounds = rounds
        let calibration = try calibrator.run(afterRound: round)
        observed.calibrated = true
        return (observed, calibration)
    }

    /// Predicted against measured for every quantity of `observed`.
    public func report(_ observed: ExecutorObservations) -> ValidationReport {
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
            guard let q = observed.decode[c] else { continue }
            var w = StepWorkload()
            w.addDecode(contextLength: c)
            rows.append(.init(quantity: "decode @ ctx \(c)", unit: "ms/token", predicted: predictedSeconds(w) * 1e3,
                              measured: q.median * 1e3, goal: 0.10))
            if c == plan.decodeContexts.first {
                addClasses("decode @ ctx \(c):", predicted: predictedByClass(w), measured: q.timings, per: Double(q.timings.steps))
            }
        }
        for n in plan.prefillLengths {
            guard let q = observed.prefill[n] else { continue }
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
                              measured: Double(n) / q.median, goal: 0.10))
            if n == plan.prefillLengths.last {
                addClasses("prefill \(n):", predicted: classes, measured: q.timings, per: Double(q.samples.count))
            }
        }
        for b in plan.batchSizes {
            guard let q = observed.batched[b] else { continue }
            // The measured steps' contexts run from batchContext + 1 to batchContext + 8: mean + 4.5.
            var w = StepWorkload()
            for _ in 0 ..< b { w.addDecode(contextLength: plan.batchContext + 4) }
            rows.append(.init(quantity: "batched decode B=\(b) @ ctx \(plan.batchContext)", unit: "ms/step",
                              predicted: predictedSeconds(w) * 1e3, measured: q.median * 1e3, goal: nil))
            if b == plan.batchSizes.first {
                addClasses("decode B=\(b):", predicted: predictedByClass(w), measured: q.timings, per: Double(q.timings.steps))
            }
        }
        if let measured = observed.trace, !trace.isEmpty,
           let predicted = try? TraceServing.predict(trace, configuration: plan.tracePolicy.configuration(
               model: model.config, contextLength: TraceServing.contextLength(for: trace)),
               costModel: InferenceCostModel(deployment: deployment)) {
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
            ("measurement", "\(observed.rounds) round(s), medians; " + (observed.calibrated ? "calibration rounds interleaved" : "profile calibrated earlier")),
            ("trace", trace.isEmpty ? "none" : "\(trace.count) requests, \(plan.tracePolicy.summary), the simulator's scheduler for measured and predicted"),
        ]
        return ValidationReport(rows: rows + classRows, setup: setup, steps: steps)
    }

    /// - Throws: `InputError` naming the first field where the GGUF and the model profile differ.
    public static func checkShape(_ m: ModelProfile, _ c: LlamaConfig) throws {
        let pairs: [(String, Int, Int)] = [
            ("layers", m.layers, c.layerCount), ("hiddenSize", m.hiddenSize, c.embeddingLength), ("heads", m.heads, c.headCount),
            ("kvHeads", m.kvHeads, c.kvHeadCount), ("headDim", m.headDim, c.headDim), ("ffnSize", m.ffnSize, c.feedForwardLength),
            ("vocabSize", m.vocabSize, c.vocabularySize),
        ]
        for (key, profile, gguf) in pairs where profile != gguf {
            throw InputError(file: "model profile \(m.name)", jsonPath: "$.\(key)", "expected \(gguf) (from the GGUF file), found \(profile)")
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

/// What `ModelValidation.observe` measured: per quantity every sample (seconds) and the summed
/// operator split, and the served trace.
public struct ExecutorObservations: Sendable {
    public struct Quantity: Sendable {
        public var samples: [Double] = []
        public var timings = OperatorTimings()
        public init() {}
        mutating func add(_ s: [Double], _ t: OperatorTimings) {
            samples += s
            timings.steps += t.steps
            timings.tokens += t.tokens
            for i in timings.nanoseconds.indices { timings.nanoseconds[i] &+= t.nanoseconds[i] }
        }
        /// Median of the samples (0 when there are none).
        public var median: Double { samples.isEmpty ? 0 : Validation.median(samples) }
    }
    /// By context, by prompt length, by batch size.
    public var decode: [Int: Quantity] = [:]
    public var prefill: [Int: Quantity] = [:]
    public var batched: [Int: Quantity] = [:]
    public var trace: ServedTrace?
    public var rounds = 0
    /// Whether calibration rounds were interleaved with these.
    public var calibrated = false
    public init() {}
}
