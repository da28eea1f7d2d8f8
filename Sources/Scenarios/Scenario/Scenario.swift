import Diagnostics
import CostModel
import DiscreteEvent
import Foundation
import HardwareModel
import Serving
import ServingMetrics

/// One serving experiment, as written in a scenario JSON file (see `scenarios/README.md`).
///
/// ```json
/// {"name": "quickstart", "hardware": "nvidia-h100-sxm", "model": "llama-3-8b",
///  "parallelism": {"tp": 1, "pp": 1}, "replicas": 1,
///  "precision": {"weights": "fp16", "activations": "fp16", "kv": "fp16"},
///  "scheduler": {"kind": "chunkedPrefill", "maxBatchSize": 256, "maxTokensPerStep": 2048},
///  "kvCache": {"kind": "paged", "blockSize": 16, "watermark": 0.01, "preemption": "recompute"},
///  "router": "leastOutstanding", "workload": {...}, "seed": 42,
///  "slo": {"ttftMs": 500, "tpotMs": 50}, "sweep": {"scheduler.kind": ["continuousBatching", "chunkedPrefill"]}}
/// ```
/// Decoded strictly (`StrictJSON`): unknown keys, unknown policy names (the error lists the
/// known ones) and out-of-range numbers are reported with their JSON path.
public struct Scenario: Codable, Sendable, Hashable {
    public var name: String?
    /// Where the scenario's figures come from (a paper, a measurement), for the reader; not used.
    public var source: String?
    /// A device id (`hardware-profiles/devices`) or system id (`hardware-profiles/systems`).
    public var hardware: String
    /// A model id (`scenarios/models`).
    public var model: String
    /// A serving engine id (`hardware-profiles/engines`) or an engine profile's JSON file
    /// (`infersim calibrate --from` writes one); nil: the device class's figures (`tensorrt-llm`).
    public var engine: String? = nil
    public var parallelism: Parallelism
    public var replicas: Int
    public var precision: PrecisionSpec
    public var scheduler: SchedulerSpec
    public var kvCache: KVCacheSpec
    public var router: RouterKind
    public var workload: WorkloadSpec
    public var seed: UInt64
    public var slo: SLOSpec?
    /// Fraction of device memory the engine may use (vLLM `gpu_memory_utilization`). Default 0.9.
    public var memoryUtilization: Double
    /// Axes to vary: JSON path (dot-separated, relative to the scenario) → values. Expanded by `SweepExpansion`.
    public var sweep: [String: [JSONValue]]?
    /// Speculative decoding, or nil for one token per decode.
    public var speculative: SpeculativeSpec?
    /// Several completions per request sharing the prompt's KV: `{"n": 4}` (parallel sampling)
    /// or `{"beamWidth": 4}` (beam search, priced as that many sequences).
    public var sampling: SamplingSpec?
    /// Separate prefill and decode pools (Splitwise, DistServe), or nil for co-located replicas.
    public var disaggregation: DisaggregationSpec?

    public struct SamplingSpec: Codable, Sendable, Hashable {
        public var n: Int?
        public var beamWidth: Int?
        enum CodingKeys: String, CodingKey { case n, beamWidth }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            n = try c.decodeIntIfPresent(.n, atLeast: 1)
            beamWidth = try c.decodeIntIfPresent(.beamWidth, atLeast: 1)
            guard (n != nil) != (beamWidth != nil) else {
                throw DecodingError.dataCorruptedError(forKey: .n, in: c, debugDescription: "expected exactly one of \"n\" and \"beamWidth\"")
            }
            if let v = n ?? beamWidth, v > 64 {
                throw DecodingError.dataCorruptedError(forKey: n != nil ? .n : .beamWidth, in: c, debugDescription: "expected at most 64, found \(v)")
            }
        }
        /// Sequences per request.
        public var sequences: Int { n ?? beamWidth! }
    }

    /// Speculative decoding: a draft model (`draftModel`, on `draftHardware` or the replica's)
    /// or self-drafting heads (`draftHeads`), `draftTokens` drafts per round, an acceptance rate
    /// per draft token (`acceptance`, or per request uniform in `acceptanceRange`), turned off
    /// for steps with more than `maxBatchSize` decoding sequences.
    public struct SpeculativeSpec: Codable, Sendable, Hashable {
        public var draftModel: String?
        public var draftHardware: String?
        public var draftHeads: Bool
        public var draftTokens: Int
        public var acceptance: Double?
        public var acceptanceRange: [Double]?
        public var maxBatchSize: Int?
        /// Candidate chains verified per round (tree verification); 1 for a chain.
        public var treeWidth: Int

        enum CodingKeys: String, CodingKey { case draftModel, draftHardware, draftHeads, draftTokens, acceptance, acceptanceRange, maxBatchSize, treeWidth }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            draftModel = try c.decodeIfPresent(String.self, forKey: .draftModel)
            draftHardware = try c.decodeIfPresent(String.self, forKey: .draftHardware)
            draftHeads = try c.decodeIfPresent(Bool.self, forKey: .draftHeads) ?? false
            guard (draftModel != nil) != draftHeads else {
                throw DecodingError.dataCorruptedError(forKey: .draftModel, in: c, debugDescription: "expected exactly one of \"draftModel\" and \"draftHeads\": true")
            }
            draftTokens = try c.decodeInt(.draftTokens, atLeast: 1)
            guard draftTokens <= 64 else {
                throw DecodingError.dataCorruptedError(forKey: .draftTokens, in: c, debugDescription: "expected at most 64 draft tokens, found \(draftTokens)")
            }
            acceptance = try c.decodeIfPresent(Double.self, forKey: .acceptance)
            acceptanceRange = try c.decodeIfPresent([Double].self, forKey: .acceptanceRange)
            guard (acceptance != nil) != (acceptanceRange != nil) else {
                throw DecodingError.dataCorruptedError(forKey: .acceptance, in: c, debugDescription: "expected exactly one of \"acceptance\" and \"acceptanceRange\"")
            }
            if let a = acceptance, !(a >= 0 && a <= 1) {
                throw DecodingError.dataCorruptedError(forKey: .acceptance, in: c, debugDescription: "expected an acceptance rate in [0, 1], found \(a)")
            }
            if let r = acceptanceRange, !(r.count == 2 && r[0] >= 0 && r[0] <= r[1] && r[1] <= 1) {
                throw DecodingError.dataCorruptedError(forKey: .acceptanceRange, in: c,
                    debugDescription: "expected [min, max] with 0 <= min <= max <= 1, found \(r)")
            }
            maxBatchSize = try c.decodeIntIfPresent(.maxBatchSize, atLeast: 1)
            treeWidth = try c.decodeIntIfPresent(.treeWidth, atLeast: 1) ?? 1
            guard treeWidth <= 16 else {
                throw DecodingError.dataCorruptedError(forKey: .treeWidth, in: c, debugDescription: "expected a tree width of at most 16, found \(treeWidth)")
            }
        }

        /// The simulator's configuration of it.
        public func configuration(seed: UInt64) -> SpeculationConfiguration {
            let accept: SpeculationConfiguration.Acceptance = acceptance.map { .fixed($0) } ?? .uniform(min: acceptanceRange![0], max: acceptanceRange![1])
            return SpeculationConfiguration(draftTokens: draftTokens, acceptance: accept, maxBatchSize: maxBatchSize ?? Int.max, seed: seed,
                                            treeWidth: treeWidth)
        }
    }

    public struct Parallelism: Codable, Sendable, Hashable {
        public var tp: Int
        public var pp: Int
        /// Chips (or wafers) of an SRAM machine (`sramPipeline`, `wafer`); nil for the fewest
        /// that hold the weights and `onChipKVTokens` of KV cache.
        public var chips: Int?
        /// KV tokens an SRAM machine's chips reserve beside the weights; nil for
        /// `scheduler.maxBatchSize × min(kvCache.maxSequenceTokens ?? 4096, the model's context)`.
        public var onChipKVTokens: Int?
        /// Where a processing-in-memory device runs what (default `none`).
        public var pimPlacement: PIMPlacement
        /// Micro-batches in flight through the `pp` stages (vLLM's virtual engines; 1 to `pp`
        /// … 64): each has its own batch, `maxBatchSize` and `1/microBatches` of the KV cache.
        /// Default 1: one batch crosses the stages at a time.
        public var microBatches: Int
        /// Expert-parallel degree of a mixture-of-experts model (default 1); divides `tp` and the experts.
        public var ep: Int
        /// The busiest expert-parallel rank's routed tokens over the mean; nil: uniform top-k routing's expectation.
        public var expertImbalance: Double?
        /// Attention data-parallel over the `tp` devices, the experts spread over them (`ep` = `tp`);
        /// default false: attention is tensor-parallel (see `Deployment.dataParallelAttention`).
        public var dataParallelAttention: Bool
        /// How a data-parallel-attention replica moves tokens to their experts and back (default `allToAll`).
        public var expertDispatch: ExpertDispatch
        public init(tp: Int = 1, pp: Int = 1, microBatches: Int = 1, ep: Int = 1) {
            self.tp = tp; self.pp = pp; self.pimPlacement = .none; self.microBatches = microBatches; self.ep = ep
            self.dataParallelAttention = false; self.expertDispatch = .allToAll
        }
        enum CodingKeys: String, CodingKey {
            case tp, pp, chips, onChipKVTokens, pimPlacement, microBatches, ep, expertImbalance, dataParallelAttention, expertDispatch
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tp = try c.decodeIntIfPresent(.tp, atLeast: 1) ?? 1
            pp = try c.decodeIntIfPresent(.pp, atLeast: 1) ?? 1
            chips = try c.decodeIntIfPresent(.chips, atLeast: 1)
            if let n = chips, n > 1_000_000 {
                throw DecodingError.dataCorruptedError(forKey: .chips, in: c, debugDescription: "expected at most 1000000, found \(n)")
            }
            onChipKVTokens = try c.decodeIntIfPresent(.onChipKVTokens, atLeast: 0)
            if let n = onChipKVTokens, n > 1_000_000_000 {
                throw DecodingError.dataCorruptedError(forKey: .onChipKVTokens, in: c, debugDescription: "expected at most 1000000000, found \(n)")
            }
            pimPlacement = try c.decodeKnownIfPresent(PIMPlacement.self, forKey: .pimPlacement) ?? .none
            microBatches = try c.decodeIntIfPresent(.microBatches, atLeast: 1) ?? 1
            ep = try c.decodeIntIfPresent(.ep, atLeast: 1) ?? 1
            guard ep <= 4096 else { throw DecodingError.dataCorruptedError(forKey: .ep, in: c, debugDescription: "expected at most 4096, found \(ep)") }
            expertImbalance = try c.decodeIfPresent(Double.self, forKey: .expertImbalance)
            if let f = expertImbalance, !(f.isFinite && f >= 1 && f <= Double(ep)) {
                throw DecodingError.dataCorruptedError(forKey: .expertImbalance, in: c, debugDescription: "expected a number in [1, ep = \(ep)], found \(f)")
            }
            dataParallelAttention = try c.decodeIfPresent(Bool.self, forKey: .dataParallelAttention) ?? false
            expertDispatch = try c.decodeKnownIfPresent(ExpertDispatch.self, forKey: .expertDispatch) ?? .allToAll
            if c.contains(.expertDispatch) && !dataParallelAttention {
                throw DecodingError.dataCorruptedError(forKey: .expertDispatch, in: c,
                    debugDescription: "expertDispatch applies to data-parallel attention: expected \"dataParallelAttention\": true beside it")
            }
            guard microBatches <= 64 else {
                throw DecodingError.dataCorruptedError(forKey: .microBatches, in: c, debugDescription: "expected at most 64, found \(microBatches)")
            }
            if microBatches > 1 && pp == 1 {
                throw DecodingError.dataCorruptedError(forKey: .microBatches, in: c,
                    debugDescription: "micro-batches need pipeline stages: expected pp > 1 with microBatches \(microBatches), found pp 1")
            }
        }
    }

    public struct PrecisionSpec: Codable, Sendable, Hashable {
        public var weights: DType
        public var activations: DType
        public var kv: DType
        public init(weights: DType = .fp16, activations: DType = .fp16, kv: DType = .fp16) {
            self.weights = weights; self.activations = activations; self.kv = kv
        }
        enum CodingKeys: String, CodingKey { case weights, activations, kv }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            weights = try c.decodeKnownIfPresent(DType.self, forKey: .weights) ?? .fp16
            activations = try c.decodeKnownIfPresent(DType.self, forKey: .activations) ?? .fp16
            kv = try c.decodeKnownIfPresent(DType.self, forKey: .kv) ?? .fp16
        }
        public var precision: Precision { Precision(weights: weights, activations: activations, kvCache: kv) }
    }

    public struct SchedulerSpec: Codable, Sendable, Hashable {
        public var kind: SchedulerKind
        public var maxBatchSize: Int
        public var maxTokensPerStep: Int
        public var maxWaitingQueue: Int
        /// `priorityClasses` only: number of classes (default 3).
        public var priorityClasses: Int
        /// `priorityClasses` only: shed requests that waited longer than this without starting.
        public var admissionDeadlineMs: Double?
        public init(kind: SchedulerKind, maxBatchSize: Int = 256, maxTokensPerStep: Int = 8192,
                    maxWaitingQueue: Int = 1_000_000, priorityClasses: Int = 3, admissionDeadlineMs: Double? = nil) {
            self.kind = kind; self.maxBatchSize = maxBatchSize; self.maxTokensPerStep = maxTokensPerStep
            self.maxWaitingQueue = maxWaitingQueue; self.priorityClasses = priorityClasses; self.admissionDeadlineMs = admissionDeadlineMs
        }
        enum CodingKeys: String, CodingKey { case kind, maxBatchSize, maxTokensPerStep, maxWaitingQueue, priorityClasses, admissionDeadlineMs }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decodeKnown(SchedulerKind.self, forKey: .kind)
            maxBatchSize = try c.decodeIntIfPresent(.maxBatchSize, atLeast: 1) ?? 256
            maxTokensPerStep = try c.decodeIntIfPresent(.maxTokensPerStep, atLeast: 1) ?? 8192
            maxWaitingQueue = try c.decodeIntIfPresent(.maxWaitingQueue, atLeast: 0) ?? 1_000_000
            priorityClasses = try c.decodeIntIfPresent(.priorityClasses, atLeast: 1) ?? 3
            admissionDeadlineMs = try c.decodePositiveIfPresent(.admissionDeadlineMs)
            if kind != .priorityClasses {
                for key in [CodingKeys.priorityClasses, .admissionDeadlineMs] where c.contains(key) {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                        "only used by scheduler kind priorityClasses, found kind \(kind.rawValue); remove it (to compare kinds in a sweep, sweep the whole scheduler object)")
                }
            }
            if maxTokensPerStep < maxBatchSize && (kind == .chunkedPrefill || kind == .priorityClasses || kind == .decodePriority) {
                throw DecodingError.dataCorruptedError(forKey: .maxTokensPerStep, in: c, debugDescription:
                    "expected maxTokensPerStep >= maxBatchSize (\(maxBatchSize)) so every decode fits a step, found \(maxTokensPerStep)")
            }
        }
    }

    public struct KVCacheSpec: Codable, Sendable, Hashable {
        public var kind: KVCacheKind
        /// Tokens per block (paged, prefixCaching).
        public var blockSize: Int
        public var watermark: Double
        public var preemption: PreemptionMode
        /// Longest prompt + output served; contiguous reserves this much per request. Nil (the
        /// default): the model's `maxContextTokens`. At most that when given.
        public var maxSequenceTokens: Int?
        /// Overrides the hardware's host link for swapping.
        public var hostLinkBytesPerSecond: Double?
        /// A KV budget, or nil to keep every token (`BudgetSpec`).
        public var budget: BudgetSpec?
        /// A host or CXL tier for the blocks the device cannot hold (paged only): its capacity and
        /// link (default: the hardware's host link).
        public var offload: OffloadSpec?

        public struct OffloadSpec: Codable, Sendable, Hashable {
            public var capacityBytes: Double
            public var linkBytesPerSecond: Double?
            enum CodingKeys: String, CodingKey { case capacityBytes, linkBytesPerSecond }
            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                capacityBytes = try c.decode(Double.self, forKey: .capacityBytes)
                guard capacityBytes.isFinite, capacityBytes > 0, capacityBytes <= 1e15 else {
                    throw DecodingError.dataCorruptedError(forKey: .capacityBytes, in: c, debugDescription: "expected a capacity in (0, 1e15] bytes, found \(capacityBytes)")
                }
                linkBytesPerSecond = try c.decodeIfPresent(Double.self, forKey: .linkBytesPerSecond)
                if let l = linkBytesPerSecond, !(l.isFinite && l > 0 && l <= 1e15) {
                    throw DecodingError.dataCorruptedError(forKey: .linkBytesPerSecond, in: c, debugDescription: "expected a bandwidth in (0, 1e15] bytes/s, found \(l)")
                }
            }
        }

        /// `{"streamingLLM": {"sinkTokens": 4, "windowTokens": 4092}}`, `{"slidingWindow": {}}`
        /// (the model's declared window), `{"heavyHitter": {"budgetTokens": 2048}}` or
        /// `{"compression": {"ratio": 4}}`: exactly one key.
        public struct BudgetSpec: Codable, Sendable, Hashable {
            public var streamingLLM: StreamingLLM?
            public var slidingWindow: Empty?
            public var heavyHitter: HeavyHitter?
            public var compression: Compression?
            public struct StreamingLLM: Codable, Sendable, Hashable {
                public var sinkTokens: Int
                public var windowTokens: Int
                enum CodingKeys: String, CodingKey { case sinkTokens, windowTokens }
                public init(from decoder: any Decoder) throws {
                    let c = try decoder.container(keyedBy: CodingKeys.self)
                    sinkTokens = try c.decodeIntIfPresent(.sinkTokens, atLeast: 0) ?? 4
                    windowTokens = try c.decodeInt(.windowTokens, atLeast: 1)
                }
            }
            public struct Empty: Codable, Sendable, Hashable {}
            public struct HeavyHitter: Codable, Sendable, Hashable {
                public var budgetTokens: Int
                enum CodingKeys: String, CodingKey { case budgetTokens }
                public init(from decoder: any Decoder) throws {
                    let c = try decoder.container(keyedBy: CodingKeys.self)
                    budgetTokens = try c.decodeInt(.budgetTokens, atLeast: 1)
                }
            }
            public struct Compression: Codable, Sendable, Hashable {
                public var ratio: Double
                enum CodingKeys: String, CodingKey { case ratio }
                public init(from decoder: any Decoder) throws {
                    let c = try decoder.container(keyedBy: CodingKeys.self)
                    ratio = try c.decode(Double.self, forKey: .ratio)
                    guard ratio.isFinite, ratio >= 1, ratio <= 1000 else {
                        throw DecodingError.dataCorruptedError(forKey: .ratio, in: c, debugDescription: "expected a compression ratio in [1, 1000], found \(ratio)")
                    }
                }
            }
            enum CodingKeys: String, CodingKey { case streamingLLM, slidingWindow, heavyHitter, compression }
            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                streamingLLM = try c.decodeIfPresent(StreamingLLM.self, forKey: .streamingLLM)
                slidingWindow = try c.decodeIfPresent(Empty.self, forKey: .slidingWindow)
                heavyHitter = try c.decodeIfPresent(HeavyHitter.self, forKey: .heavyHitter)
                compression = try c.decodeIfPresent(Compression.self, forKey: .compression)
                let given = [streamingLLM != nil, slidingWindow != nil, heavyHitter != nil, compression != nil].filter { $0 }.count
                guard given == 1 else {
                    throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                        debugDescription: "expected exactly one of streamingLLM, slidingWindow, heavyHitter, compression; found \(given)"))
                }
            }

            /// The budget for a model whose context is `context` tokens.
            /// - Throws: `InputError` at `$.kvCache.budget…` when a window exceeds the context or
            ///   the model declares no sliding window.
            public func budget(context: Int, slidingWindow declared: Int?, model: String, file: String) throws -> KVBudget {
                if let s = streamingLLM {
                    guard s.sinkTokens + s.windowTokens <= context else {
                        throw InputError(file: file, jsonPath: "$.kvCache.budget.streamingLLM.windowTokens",
                                         "a window of \(s.sinkTokens) sink + \(s.windowTokens) tokens is larger than the context of \(context) tokens")
                    }
                    return .window(sinks: s.sinkTokens, window: s.windowTokens)
                }
                if slidingWindow != nil {
                    guard let w = declared else {
                        throw InputError(file: file, jsonPath: "$.kvCache.budget.slidingWindow",
                                         "\(model) declares no sliding window (slidingWindowTokens); use streamingLLM or heavyHitter with a size")
                    }
                    guard w <= context else {
                        throw InputError(file: file, jsonPath: "$.kvCache.budget.slidingWindow",
                                         "\(model)'s window of \(w) tokens is larger than the context of \(context) tokens")
                    }
                    return .window(sinks: 0, window: w)
                }
                if let h = heavyHitter {
                    guard h.budgetTokens <= context else {
                        throw InputError(file: file, jsonPath: "$.kvCache.budget.heavyHitter.budgetTokens",
                                         "a budget of \(h.budgetTokens) tokens is larger than the context of \(context) tokens")
                    }
                    return .heavyHitters(tokens: h.budgetTokens)
                }
                return .compressed(ratio: compression!.ratio)
            }
        }

        public init(kind: KVCacheKind = .paged, blockSize: Int = 16, watermark: Double = 0.01, preemption: PreemptionMode = .recompute,
                    maxSequenceTokens: Int? = nil, hostLinkBytesPerSecond: Double? = nil) {
            self.kind = kind; self.blockSize = blockSize; self.watermark = watermark; self.preemption = preemption
            self.maxSequenceTokens = maxSequenceTokens; self.hostLinkBytesPerSecond = hostLinkBytesPerSecond
        }
        enum CodingKeys: String, CodingKey { case kind, blockSize, watermark, preemption, maxSequenceTokens, hostLinkBytesPerSecond, budget, offload }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decodeKnownIfPresent(KVCacheKind.self, forKey: .kind) ?? .paged
            blockSize = try c.decodeIntIfPresent(.blockSize, atLeast: 1) ?? 16
            watermark = try c.decodeIfPresent(Double.self, forKey: .watermark) ?? 0.01
            guard watermark >= 0 && watermark < 1 else {
                throw DecodingError.dataCorruptedError(forKey: .watermark, in: c, debugDescription: "expected a fraction in [0, 1), found \(watermark)")
            }
            preemption = try c.decodeKnownIfPresent(PreemptionMode.self, forKey: .preemption) ?? .recompute
            maxSequenceTokens = try c.decodeIntIfPresent(.maxSequenceTokens, atLeast: 1)
            hostLinkBytesPerSecond = try c.decodePositiveIfPresent(.hostLinkBytesPerSecond)
            budget = try c.decodeIfPresent(BudgetSpec.self, forKey: .budget)
            offload = try c.decodeIfPresent(OffloadSpec.self, forKey: .offload)
            if offload != nil && kind != .paged {
                throw DecodingError.dataCorruptedError(forKey: .offload, in: c, debugDescription: "an offload tier needs kind paged, found \(kind.rawValue)")
            }
            if budget != nil && kind == .prefixCaching {
                throw DecodingError.dataCorruptedError(forKey: .budget, in: c,
                    debugDescription: "a KV budget drops tokens, prefix caching shares them: use kind paged or contiguous with a budget")
            }
        }
    }

    /// Disaggregated serving: `prefillReplicas` replicas of the scenario's hardware and
    /// parallelism prefill, `decodeReplicas` replicas (of `decodeHardware` with `decodeTp`, by
    /// default the same) decode, and each request's KV crosses `link` (an interconnect id; by
    /// default the prefill device's scale-out link) between them. `replicas` is then their sum.
    public struct DisaggregationSpec: Codable, Sendable, Hashable {
        public var prefillReplicas: Int
        public var decodeReplicas: Int
        public var decodeHardware: String?
        public var decodeTp: Int?
        public var link: String?
        /// How a landed request picks its decode replica (default `leastOutstanding`).
        public var routing: DecodeRouting?
        enum CodingKeys: String, CodingKey { case prefillReplicas, decodeReplicas, decodeHardware, decodeTp, link, routing }
        public init(prefillReplicas: Int, decodeReplicas: Int, decodeHardware: String? = nil, decodeTp: Int? = nil, link: String? = nil) {
            self.prefillReplicas = prefillReplicas; self.decodeReplicas = decodeReplicas
            self.decodeHardware = decodeHardware; self.decodeTp = decodeTp; self.link = link
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            for key in [CodingKeys.prefillReplicas, .decodeReplicas] {
                if let v = try c.decodeIfPresent(Int.self, forKey: key), v < 1 {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c,
                        debugDescription: "expected at least 1 replica in each pool (a prefill:decode ratio with a 0), found \(v)")
                }
            }
            prefillReplicas = try c.decodeInt(.prefillReplicas, atLeast: 1, atMost: 65_536)
            decodeReplicas = try c.decodeInt(.decodeReplicas, atLeast: 1, atMost: 65_536)
            decodeHardware = try c.decodeIfPresent(String.self, forKey: .decodeHardware)
            decodeTp = try c.decodeIntIfPresent(.decodeTp, atLeast: 1, atMost: 1024)
            link = try c.decodeIfPresent(String.self, forKey: .link)
            routing = try c.decodeKnownIfPresent(DecodeRouting.self, forKey: .routing)
        }
        /// The scenario of one decode replica: the decode pool's hardware and tensor parallelism.
        public func decodeScenario(of scenario: Scenario) -> Scenario {
            var d = scenario
            d.hardware = decodeHardware ?? scenario.hardware
            d.parallelism.tp = decodeTp ?? scenario.parallelism.tp
            d.replicas = decodeReplicas
            d.disaggregation = nil
            return d
        }
    }

    public struct SLOSpec: Codable, Sendable, Hashable {
        public var ttftMs: Double?
        public var tpotMs: Double?
        public var e2eMs: Double?
        public init(ttftMs: Double? = nil, tpotMs: Double? = nil, e2eMs: Double? = nil) {
            self.ttftMs = ttftMs; self.tpotMs = tpotMs; self.e2eMs = e2eMs
        }
        enum CodingKeys: String, CodingKey { case ttftMs, tpotMs, e2eMs }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ttftMs = try c.decodePositiveIfPresent(.ttftMs)
            tpotMs = try c.decodePositiveIfPresent(.tpotMs)
            e2eMs = try c.decodePositiveIfPresent(.e2eMs)
        }
        public var objectives: ServiceLevelObjectives {
            func d(_ ms: Double?) -> SimDuration? { ms.map { SimDuration(secondsRoundingUp: $0 / 1e3) } }
            return ServiceLevelObjectives(timeToFirstToken: d(ttftMs), timePerOutputToken: d(tpotMs), endToEnd: d(e2eMs))
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, source, hardware, model, engine, parallelism, replicas, precision, scheduler, kvCache, router, workload, seed, slo, memoryUtilization, sweep,
             speculative, sampling, disaggregation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        hardware = try c.decode(String.self, forKey: .hardware)
        model = try c.decode(String.self, forKey: .model)
        engine = try c.decodeIfPresent(String.self, forKey: .engine)
        if let e = engine, e.isEmpty || e.count > 4096 {
            throw DecodingError.dataCorruptedError(forKey: .engine, in: c, debugDescription: "expected an engine id or a JSON file path, found \"\(e.prefix(40))\"")
        }
        parallelism = try c.decodeIfPresent(Parallelism.self, forKey: .parallelism) ?? Parallelism()
        replicas = try c.decodeIntIfPresent(.replicas, atLeast: 1, atMost: 65_536) ?? 1
        precision = try c.decodeIfPresent(PrecisionSpec.self, forKey: .precision) ?? PrecisionSpec()
        scheduler = try c.decode(SchedulerSpec.self, forKey: .scheduler)
        kvCache = try c.decodeIfPresent(KVCacheSpec.self, forKey: .kvCache) ?? KVCacheSpec(kind: .paged)
        router = try c.decodeKnownIfPresent(RouterKind.self, forKey: .router) ?? .leastOutstanding
        workload = try c.decode(WorkloadSpec.self, forKey: .workload)
        seed = try c.decode(UInt64.self, forKey: .seed)
        slo = try c.decodeIfPresent(SLOSpec.self, forKey: .slo)
        memoryUtilization = try c.contains(.memoryUtilization) ? c.decodeFraction(.memoryUtilization) : 0.9
        sweep = try c.decodeIfPresent([String: [JSONValue]].self, forKey: .sweep)
        speculative = try c.decodeIfPresent(SpeculativeSpec.self, forKey: .speculative)
        sampling = try c.decodeIfPresent(SamplingSpec.self, forKey: .sampling)
        disaggregation = try c.decodeIfPresent(DisaggregationSpec.self, forKey: .disaggregation)
        if let d = disaggregation {
            if c.contains(.replicas), replicas != d.prefillReplicas + d.decodeReplicas {
                throw DecodingError.dataCorruptedError(forKey: .replicas, in: c,
                    debugDescription: "expected \(d.prefillReplicas + d.decodeReplicas) (prefillReplicas + decodeReplicas) or no replicas key, found \(replicas)")
            }
            replicas = d.prefillReplicas + d.decodeReplicas
            if scheduler.kind == .staticBatching {
                throw DecodingError.dataCorruptedError(forKey: .disaggregation, in: c,
                    debugDescription: "disaggregated pools need a continuous scheduler, found staticBatching")
            }
            if speculative != nil || (sampling?.sequences ?? 1) > 1 || kvCache.offload != nil {
                throw DecodingError.dataCorruptedError(forKey: .disaggregation, in: c,
                    debugDescription: "disaggregated pools do not combine with speculative decoding, several samples or a KV offload tier here")
            }
        }
        if let s = sampling, s.sequences > 1 {
            if speculative != nil {
                throw DecodingError.dataCorruptedError(forKey: .sampling, in: c, debugDescription: "several completions per request do not combine with speculative decoding here")
            }
            if kvCache.budget != nil {
                throw DecodingError.dataCorruptedError(forKey: .sampling, in: c, debugDescription: "several completions per request do not combine with a KV budget here")
            }
        }
    }

    /// Reads and validates a scenario file.
    /// - Throws: `InputError` naming the file and JSON path.
    public static func load(path: String) throws -> Scenario {
        try StrictJSON.decode(Scenario.self, contentsOf: path)
    }

    /// `kvCache.maxSequenceTokens`, or the model's context length when it is not given (8192
    /// when the replica model does not know the model's context, as with closed-form test models).
    /// - Throws: `InputError` at `$.kvCache.maxSequenceTokens` when it exceeds the model's context.
    public func resolvedMaxSequenceTokens(replica: ReplicaModel, file: String) throws -> Int {
        guard let explicit = kvCache.maxSequenceTokens else { return replica.maxContextTokens ?? 8192 }
        if let context = replica.maxContextTokens, explicit > context {
            throw InputError(file: file, jsonPath: "$.kvCache.maxSequenceTokens",
                             "expected at most \(context) (the maxContextTokens of \(model)), found \(explicit); leave it out to use the model's context")
        }
        return explicit
    }

    /// The simulator's configuration for this scenario, given what the hardware resolver found.
    /// - Throws: `InputError` when swap preemption has no host link, or `maxSequenceTokens` exceeds the model's context.
    public func clusterConfiguration(replica: ReplicaModel, file: String) throws -> ClusterConfiguration {
        var hostLink = kvCache.hostLinkBytesPerSecond ?? replica.hostLinkBytesPerSecond
        if kvCache.preemption == .swap && hostLink == nil {
            throw InputError(file: file, jsonPath: "$.kvCache.preemption",
                             "swap needs a host link: the hardware has none; set $.kvCache.hostLinkBytesPerSecond")
        }
        hostLink = hostLink ?? 1
        let maxSequenceTokens = try resolvedMaxSequenceTokens(replica: replica, file: file)
        var kv = KVCacheConfiguration(kind: kvCache.kind, bytesPerToken: replica.kvBytesPerToken,
                                      capacityBytes: replica.kvCapacityBytes, blockTokens: kvCache.blockSize,
                                      watermark: kvCache.watermark, maxSequenceTokens: maxSequenceTokens,
                                      preemption: kvCache.preemption, hostLinkBytesPerSecond: hostLink!)
        kv.samples = sampling?.sequences ?? 1
        if let spec = kvCache.offload {
            guard let link = spec.linkBytesPerSecond ?? replica.hostLinkBytesPerSecond else {
                throw InputError(file: file, jsonPath: "$.kvCache.offload",
                                 "an offload tier needs a host link and \(hardware) has none; set $.kvCache.offload.linkBytesPerSecond")
            }
            kv.offload = KVCacheConfiguration.OffloadTier(capacityBytes: spec.capacityBytes, linkBytesPerSecond: link)
        }
        if let spec = kvCache.budget {
            kv.budget = try spec.budget(context: maxSequenceTokens, slidingWindow: replica.slidingWindowTokens, model: model, file: file)
        }
        guard kv.totalUnits >= 1 else {
            throw InputError(file: file, "the KV cache holds no block: \(replica.kvCapacityBytes) bytes for \(replica.kvBytesPerToken) bytes per token")
        }
        var slots = replicas
        var idle = replica.idlePowerWatts
        let m = parallelism.microBatches
        if m > 1 {
            if disaggregation != nil {
                throw InputError(file: file, jsonPath: "$.parallelism.microBatches", "pipeline micro-batches are not modelled with disaggregated pools; expected 1, found \(m)")
            }
            kv.capacityBytes /= Double(m)
            kv.offload?.capacityBytes /= Double(m)
            guard kv.totalUnits >= 1 else {
                throw InputError(file: file, jsonPath: "$.parallelism.microBatches", "\(m) micro-batches leave each no KV block: \(replica.kvCapacityBytes) bytes for \(replica.kvBytesPerToken) bytes per token")
            }
            let (product, overflow) = replicas.multipliedReportingOverflow(by: m)
            guard !overflow, product <= 1_000_000 else {
                throw InputError(file: file, jsonPath: "$.parallelism.microBatches", "replicas × micro-batches must be at most 1000000, found \(replicas) × \(m)")
            }
            slots = product
            idle /= Double(m)
        }
        var configuration = ClusterConfiguration(
            replicas: slots,
            limits: ServingLimits(maxBatchSize: scheduler.maxBatchSize, maxTokensPerStep: scheduler.maxTokensPerStep,
                                  maxWaitingQueue: scheduler.maxWaitingQueue),
            scheduler: SchedulerConfiguration(kind: scheduler.kind, classes: scheduler.priorityClasses,
                                              admissionDeadline: scheduler.admissionDeadlineMs.map { SimDuration(secondsRoundingUp: $0 / 1e3) }),
            kvCache: kv, router: router, idlePowerWatts: idle,
            speculation: speculative?.configuration(seed: seed))
        if parallelism.pp > 1 && m > 1 { configuration.pipeline = PipelineConfiguration(stages: parallelism.pp, microBatches: m) }
        return configuration
    }
}
