import HardwareModel

/// Numeric formats of one deployment.
public struct Precision: Hashable, Sendable, Codable {
    public var weights: DType
    public var activations: DType
    public var kvCache: DType
    /// Format of the token embedding and LM head when it differs from `weights` (llama.cpp
    /// keeps SmolLM2's tied embedding in Q8_0 while the layers are Q4_1).
    public var embeddings: DType?
    /// Format the attention core computes in when it differs from `activations`: the CPU
    /// executor's GEMMs run int8 dot products on Q8 activations, but its attention runs FP32
    /// arithmetic over an F16 cache.
    public var attention: DType?
    public init(weights: DType = .fp16, activations: DType = .fp16, kvCache: DType = .fp16, embeddings: DType? = nil,
                attention: DType? = nil) {
        self.weights = weights
        self.activations = activations
        self.kvCache = kvCache
        self.embeddings = embeddings
        self.attention = attention
    }
    public var embeddingType: DType { embeddings ?? weights }
    /// Arithmetic type of the attention core.
    public var attentionArithmetic: DType { (attention ?? activations).arithmeticType }
    /// Kernel format of a weight GEMM in `weightFormat`: with block-quantised activations and
    /// weights a CPU runs a kernel per weight format (llama.cpp's `ggml_vec_dot_q4_1_q8_1`, ours in
    /// `MatMul+SIMD.swift`), whose rate a calibrated profile records under that format's name;
    /// otherwise the activations' arithmetic type. Devices without a figure for the format fall
    /// back to int8 (`DType.computeFallbacks`).
    public func gemmArithmetic(weightFormat: DType) -> DType {
        activations.isBlockQuantized && weightFormat.isBlockQuantized ? weightFormat : activations.arithmeticType
    }
    public var description: String { "weights \(weights.rawValue), activations \(activations.rawValue), KV \(kvCache.rawValue)" }
}

/// The profile figures the cost functions read for every operator, resolved once per deployment.
///
/// The profiles keep peaks and fractions in dictionaries keyed by type name, and the weight-holding
/// memory tier in a list; a step prices about fifteen operators and a simulation prices millions of
/// steps, so `Deployment` looks them up once. Values are exactly what the profile lookups return.
public struct PricingRates: Sendable, Hashable {
    /// The compute figures of one arithmetic type.
    public struct Compute: Sendable, Hashable {
        /// The arithmetic type asked for.
        public var arithmetic: DType
        /// The type whose peak the device has (after `DType.computeFallbacks`).
        public var resolved: DType
        public var peakFLOPsPerSecond: Double
        /// The device class's large-GEMM fraction for `resolved`.
        public var fraction: Double
        /// The device's measured one-row weight-streaming rate of a kernel of `arithmetic`
        /// (`DeviceProfile.weightStreamBytesPerSecond`), bytes/s; nil when it has none.
        public var weightStream: Double?

        /// A measured rate of a kernel of `arithmetic`, used in full.
        public init(_ arithmetic: DType, measured: Double) {
            self.arithmetic = arithmetic
            self.resolved = arithmetic
            self.peakFLOPsPerSecond = measured
            self.fraction = 1
            self.weightStream = nil
        }

        public init(_ arithmetic: DType, device: DeviceProfile, deviceClass: DeviceClassProfile) {
            let (peak, type) = device.peakCompute(for: arithmetic)
            self.arithmetic = arithmetic
            self.resolved = type
            self.peakFLOPsPerSecond = peak.value
            self.fraction = deviceClass.largeShapeFraction(type: type)
            self.weightStream = device.weightStreamBytesPerSecond?[arithmetic.rawValue]
        }
    }

    /// For the activations' arithmetic type (norms, elementwise operators, and GEMMs unless quantised kernels apply).
    public var activations: Compute
    /// For the layers' weight GEMMs (`Precision.gemmArithmetic(weightFormat: weights)`).
    public var layerGEMMs: Compute
    /// For the LM head GEMM (`Precision.gemmArithmetic(weightFormat: embeddingType)`).
    public var headGEMM: Compute
    /// For the attention core's arithmetic type.
    public var attention: Compute
    /// For decode and prefill attention operators: `attention`, or the device's measured
    /// attention kernel (`DeviceProfile.attentionKernel`, at fraction 1) when it has one.
    public var attentionDecode: Compute
    public var attentionPrefill: Compute
    /// Fixed cost of one attention operator: the measured kernel's, else `kernelOverheadSeconds`.
    public var attentionOverheadSeconds: Double
    /// Fixed cost per sequence in one attention operator: the measured kernel's, else 0.
    public var attentionPerSequenceSeconds: Double
    /// The device's measured activation-function rate (`DeviceProfile.activationElementsPerSecond`), else 0.
    public var activationElementsPerSecond: Double
    /// Peak bandwidth of the weight-holding tier, bytes/s.
    public var memoryBandwidth: Double
    /// Share of a multi-row weight GEMM's peak-bandwidth memory time its compute leaves exposed:
    /// the device's measured `exposedMemoryFraction`, else its class's, else 0.
    public var exposedMemoryFraction: Double
    /// Fixed costs: the device's own measured ones (`DeviceProfile.fixedCosts`), else the
    /// engine's (`EngineProfile`), else the device class's estimates.
    public var kernelOverheadSeconds: Double
    public var stepOverheadSeconds: Double
    /// Whether the step overhead runs beside the device's work (the engine's asynchronous
    /// scheduling): a step then costs `max(device, overhead)`.
    public var stepOverheadOverlaps: Bool
    /// Share of a step's communication hidden behind its compute and memory work (the engine's
    /// `communicationOverlap`; 0 by default).
    public var communicationOverlap: Double = 0
}

/// A model placed on hardware: one replica of `tensorParallel × pipelineParallel` devices.
///
/// Validated once at construction; the cost functions trust it afterwards. Immutable, and a
/// class so that the cost model, priced millions of times in a simulation, shares one copy of
/// the profiles instead of copying them into every call.
public final class Deployment: Sendable {
    public let model: ModelProfile
    public let device: DeviceProfile
    public let deviceClass: DeviceClassProfile
    public let tensorParallel: Int
    public let pipelineParallel: Int
    /// Expert-parallel degree of the MoE layers (1: experts split like any FFN by `tensorParallel`).
    /// The experts are spread over the tensor-parallel group's devices: each of the
    /// `expertParallel` ranks holds `experts / expertParallel` whole experts, each split
    /// `tensorParallel / expertParallel` ways. Attention stays tensor-parallel, so the tokens are
    /// on every rank after its all-reduce and the combine is the same all-reduce as tensor
    /// parallelism's; what changes is the work and the weights on the busiest rank.
    public let expertParallel: Int
    /// The busiest expert-parallel rank's routed tokens over the mean (nil: uniform top-k
    /// routing's expected maximum, `ExpertLoad.expectedImbalance`).
    public let expertImbalance: Double?
    /// Data-parallel attention (DeepSeek's and SGLang's layout for MoE models): each of the
    /// replica's `tensorParallel` devices runs attention, norms, dense layers and the LM head
    /// with their full weights on its own `1/tensorParallel` of the batch, holding only its own
    /// sequences' KV; the experts are spread over the same devices (`expertParallel` equals
    /// `tensorParallel`), and each MoE layer dispatches tokens to their experts' devices and
    /// combines the results (`expertDispatch`) instead of all-reducing.
    public let dataParallelAttention: Bool
    /// How a data-parallel-attention replica moves tokens to and from their experts.
    public let expertDispatch: ExpertDispatch
    public let precision: Precision
    /// Link used by tensor-parallel collectives (nil when `tensorParallel == 1`): the scale-up
    /// link inside a node, the scale-out link for a group that spans nodes.
    public let tensorLink: InterconnectProfile?
    /// For a tensor-parallel group that spans nodes: the scale-up link inside each node and the
    /// group's ranks per node, so that its all-reduce runs hierarchically (nil otherwise).
    public let tensorNodeLink: (link: InterconnectProfile, ranksPerNode: Int)?
    /// Link used between pipeline stages (nil when `pipelineParallel == 1`).
    public let pipelineLink: InterconnectProfile?
    /// Link to host memory, for KV swap (nil if the device has none).
    public let hostLink: InterconnectProfile?
    /// Fraction of device memory the serving engine may use (vLLM's `gpu_memory_utilization`, 0.9 by default).
    public let memoryUtilization: Double
    /// Profile figures resolved once for the cost functions.
    public let rates: PricingRates
    /// How the device executes (`DeviceProfile.executionModel(in:)`), and its pricer.
    public let executionModel: ExecutionModel
    public let pricer: any ExecutionPricer
    /// The serving engine (nil: the device class's figures, as the `tensorrt-llm` engine).
    public let engine: EngineProfile?
    /// The engine's kernel efficiencies fitted on this device, which price it as `shapedKernels`.
    public let kernelFit: KernelFit?
    /// Where a `pimHybrid` device runs what (`.none` elsewhere).
    public let pimPlacement: PIMPlacement
    /// The chips or wafers an `sramPipeline` or `wafer` device lays the model over (nil elsewhere).
    public let layout: SpatialLayout?
    /// Devices that take part in one tensor-parallel all-reduce: `tensorParallel`, or the chips
    /// a layer of an SRAM pipeline spans.
    public let collectiveRanks: Int
    /// Device boundaries a token crosses per forward pass: `pipelineParallel − 1`, or the layout's hops.
    public let pipelineHops: Int
    /// Share of the weights an FPGA keeps in its next tier (DDR) because HBM is full; 0 elsewhere.
    public let fpgaSpillFraction: Double
    /// The tier spilled weights stream from (`fpgaDataflow` only).
    public let spillTier: DeviceProfile.MemoryTier?

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case invalidParallelism(String)
        case missingLink(String)
        /// The model does not fit the device's memory (SRAM chips: the shortfall in bytes and chips).
        case doesNotFit(String)
        /// A PIM placement the device cannot take.
        case invalidPlacement(String)
        /// The device profile lacks what its execution model needs (an FPGA without DSP figures).
        case incompleteProfile(String)
        /// A device that executes as `shapedKernels` without an engine fitted on it.
        case missingKernelFit(String)
        public var description: String {
            switch self {
            case .invalidParallelism(let s), .missingLink(let s), .doesNotFit(let s), .invalidPlacement(let s), .incompleteProfile(let s),
                 .missingKernelFit(let s): return s
            }
        }
    }

    /// - Throws: `Deployment.Problem` when the parallelism does not fit the model or the
    ///   hardware has no link for it.
    public init(model: ModelProfile, device: DeviceProfile, deviceClass: DeviceClassProfile,
                tensorParallel: Int = 1, pipelineParallel: Int = 1, precision: Precision = Precision(),
                scaleUpLink: InterconnectProfile? = nil, scaleOutLink: InterconnectProfile? = nil,
                hostLink: InterconnectProfile? = nil, memoryUtilization: Double = 0.9,
                pimPlacement: PIMPlacement = .none, units: Int? = nil, onChipKVTokens: Int? = nil,
                expertParallel: Int = 1, expertImbalance: Double? = nil, engine: EngineProfile? = nil,
                dataParallelAttention: Bool = false, expertDispatch: ExpertDispatch = .allToAll) throws {
        let fit = engine?.kernels?[device.name]
        var execution = device.executionModel(in: deviceClass)
        if execution == .shapedKernels && fit == nil {
            throw Problem.missingKernelFit("\(device.name) executes as shapedKernels but \(engine.map { "engine \($0.name)" } ?? "no engine") has kernel efficiencies fitted on \(device.name); run infersim calibrate --from to fit them")
        }
        if execution == .roofline && fit != nil { execution = .shapedKernels }
        guard expertParallel >= 1 else { throw Problem.invalidParallelism("expert parallelism must be at least 1, got \(expertParallel)") }
        if expertParallel > 1 {
            guard let moe = model.moe else {
                throw Problem.invalidParallelism("expert parallelism \(expertParallel) needs a mixture-of-experts model; \(model.name) is dense")
            }
            guard moe.experts % expertParallel == 0 else {
                throw Problem.invalidParallelism("expert parallelism \(expertParallel) does not divide the \(moe.experts) experts of \(model.name)")
            }
            guard dataParallelAttention || tensorParallel % expertParallel == 0 else {
                throw Problem.invalidParallelism("expert parallelism \(expertParallel) must divide tensor parallelism \(tensorParallel): the experts are spread over the tensor-parallel group's devices")
            }
        }
        if let f = expertImbalance, !(f.isFinite && f >= 1 && f <= Double(expertParallel)) {
            throw Problem.invalidParallelism("expert imbalance must be in [1, \(expertParallel)] (busiest rank over the mean), got \(f)")
        }
        guard tensorParallel >= 1 else { throw Problem.invalidParallelism("tensor parallelism must be at least 1, got \(tensorParallel)") }
        if dataParallelAttention {
            guard model.moe != nil else {
                throw Problem.invalidParallelism("data-parallel attention needs a mixture-of-experts model; \(model.name) is dense (use replicas for data parallelism)")
            }
            guard expertParallel > 1, expertParallel == tensorParallel else {
                throw Problem.invalidParallelism("data-parallel attention spreads the experts over all of the replica's devices: expert parallelism must equal its \(tensorParallel) devices (tp) and exceed 1, found ep \(expertParallel)")
            }
        }
        guard pipelineParallel >= 1 else { throw Problem.invalidParallelism("pipeline parallelism must be at least 1, got \(pipelineParallel)") }
        guard dataParallelAttention || model.heads % tensorParallel == 0 else {
            throw Problem.invalidParallelism("tensor parallelism \(tensorParallel) does not divide the \(model.heads) attention heads of \(model.name)")
        }
        if !dataParallelAttention && model.attention != .mla && model.kvHeads % tensorParallel != 0 && tensorParallel % model.kvHeads != 0 {
            throw Problem.invalidParallelism("tensor parallelism \(tensorParallel) neither divides nor is a multiple of the \(model.kvHeads) KV heads of \(model.name)")
        }
        guard pipelineParallel <= model.layers else {
            throw Problem.invalidParallelism("pipeline parallelism \(pipelineParallel) exceeds the \(model.layers) layers of \(model.name)")
        }
        guard model.layers % pipelineParallel == 0 else {
            throw Problem.invalidParallelism("pipeline parallelism \(pipelineParallel) does not divide the \(model.layers) layers of \(model.name): stages would be unequal")
        }
        guard memoryUtilization > 0 && memoryUtilization <= 1 else {
            throw Problem.invalidParallelism("memory utilisation must be in (0, 1], got \(memoryUtilization)")
        }
        if pimPlacement != .none {
            guard device.pim != nil, execution == .pimHybrid else {
                throw Problem.invalidPlacement("PIM placement \(pimPlacement.rawValue) needs a device with processing in memory (\"executionModel\": \"pimHybrid\" and a \"pim\" block); \(device.name) executes as \(execution.rawValue)")
            }
        }
        if execution == .fpgaDataflow && device.fpga == nil {
            throw Problem.incompleteProfile("executes as fpgaDataflow but has no \"fpga\" block with its DSP figures (dspSlices, clockHertz, macsPerDSPPerCycle, bandwidthFraction, computeFraction)")
        }
        let spatial = execution == .sramPipeline || execution == .wafer
        if spatial && (tensorParallel > 1 || pipelineParallel > 1 || dataParallelAttention) {
            throw Problem.invalidParallelism("\(device.name) lays the model out over its chips itself (\(execution.rawValue)): give a chip count instead of tensor/pipeline parallelism")
        }
        if units != nil && !spatial {
            throw Problem.invalidParallelism("a chip count applies only to sramPipeline and wafer devices; \(device.name) executes as \(execution.rawValue): use tensor/pipeline parallelism")
        }
        if let u = units, !(1...1_000_000).contains(u) {
            throw Problem.invalidParallelism("the chip count must be in 1...1000000, got \(u)")
        }
        var layout: SpatialLayout?
        if spatial {
            let weights = Self.weightBytes(model: model, precision: precision, tensorParallel: 1, pipelineParallel: 1)
            // Workspace for a chunk of up to 2,048 tokens (the machine streams a longer step in chunks).
            let chunk = min(max(1, onChipKVTokens ?? model.maxContextTokens), 2048)
            let workspace = Self.activationBytes(model: model, precision: precision, tensorParallel: 1, tokens: chunk, logitRows: chunk)
            layout = try SpatialLayout.make(model: model, device: device, precision: precision, memoryUtilization: memoryUtilization,
                                            kvTokens: max(0, onChipKVTokens ?? model.maxContextTokens),
                                            workspaceBytes: workspace.value, weightBytes: weights.value, units: units,
                                            unitName: execution == .wafer ? "wafer" : "chip", layerPerStage: execution == .wafer)
        }
        let ranks = execution == .sramPipeline ? Int(max(1, layout?.unitsPerLayer ?? 1).rounded(.up)) : tensorParallel
        let hops = layout?.hops ?? pipelineParallel - 1
        let devices = layout?.units ?? tensorParallel * pipelineParallel
        let perNode = device.interconnect.devicesPerNode
        func link(spanning n: Int, what: String) throws -> InterconnectProfile? {
            guard n > 1 else { return nil }
            if n <= perNode {
                guard let l = scaleUpLink ?? (perNode == 1 ? scaleOutLink : nil) else {
                    throw Problem.missingLink("\(device.name) has no scale-up link for \(what) across \(n) devices")
                }
                return l
            }
            guard let l = scaleOutLink else {
                throw Problem.missingLink("\(what) across \(n) devices exceeds the \(perNode) devices of one \(device.name) node and the device has no scale-out link")
            }
            return l
        }
        self.tensorLink = try link(spanning: ranks, what: spatial ? "a layer's chips" : "tensor parallelism")
        if !spatial, ranks > perNode, perNode > 1, let up = scaleUpLink, ranks % perNode == 0 {
            self.tensorNodeLink = (up, perNode)
        } else {
            self.tensorNodeLink = nil
        }
        // Stages sit on consecutive devices: they cross nodes once the replica spans more than one node.
        self.pipelineLink = try link(spanning: devices > perNode ? devices : hops + 1, what: spatial ? "the layer pipeline" : "pipeline parallelism")
        self.executionModel = execution
        self.pimPlacement = pimPlacement
        self.layout = layout
        self.collectiveRanks = ranks
        self.pipelineHops = hops
        if execution == .fpgaDataflow {
            let weights = Self.weightBytes(model: model, precision: precision, tensorParallel: tensorParallel, pipelineParallel: pipelineParallel).value
            let hbm = device.mainMemory.capacityBytes * memoryUtilization
            let spill = device.memoryTiers.first { $0.holdsWeights != true }
            self.spillTier = spill
            self.fpgaSpillFraction = spill != nil && weights > hbm ? min(1, (weights - hbm) / weights) : 0
        } else {
            self.spillTier = nil
            self.fpgaSpillFraction = 0
        }
        self.pricer = execution.pricer(placement: pimPlacement)
        self.engine = engine
        self.kernelFit = execution == .shapedKernels ? fit : nil
        self.model = model
        self.device = device
        self.deviceClass = deviceClass
        self.tensorParallel = tensorParallel
        self.pipelineParallel = pipelineParallel
        self.expertParallel = expertParallel
        self.expertImbalance = expertImbalance
        self.dataParallelAttention = dataParallelAttention
        self.expertDispatch = expertDispatch
        self.kvHeadsPerDevice = dataParallelAttention ? model.kvHeads : max(1, model.kvHeads / tensorParallel)
        self.attentionDataParallel = dataParallelAttention ? tensorParallel : 1
        self.attentionTensorParallel = dataParallelAttention ? 1 : tensorParallel
        self.precision = precision
        self.hostLink = hostLink
        self.memoryUtilization = memoryUtilization
        let attention = PricingRates.Compute(precision.attentionArithmetic, device: device, deviceClass: deviceClass)
        let kernel = device.fixedCosts?.kernelOverheadSeconds ?? engine?.launchSeconds ?? deviceClass.kernelOverheadSeconds
        let measured = device.attentionKernel
        self.rates = PricingRates(
            activations: .init(precision.activations.arithmeticType, device: device, deviceClass: deviceClass),
            layerGEMMs: .init(precision.gemmArithmetic(weightFormat: precision.weights), device: device, deviceClass: deviceClass),
            headGEMM: .init(precision.gemmArithmetic(weightFormat: precision.embeddingType), device: device, deviceClass: deviceClass),
            attention: attention,
            attentionDecode: measured.map { .init(attention.arithmetic, measured: $0.decodeFLOPsPerSecond) } ?? attention,
            attentionPrefill: measured.map { .init(attention.arithmetic, measured: $0.prefillFLOPsPerSecond) } ?? attention,
            attentionOverheadSeconds: measured?.overheadSeconds ?? kernel,
            attentionPerSequenceSeconds: measured?.perSequenceSeconds ?? 0,
            activationElementsPerSecond: device.activationElementsPerSecond ?? 0,
            memoryBandwidth: device.mainMemory.bandwidthBytesPerSecond,
            exposedMemoryFraction: device.exposedMemoryFraction ?? deviceClass.exposedMemoryFraction ?? 0,
            kernelOverheadSeconds: kernel,
            stepOverheadSeconds: device.fixedCosts?.stepOverheadSeconds ?? engine?.stepOverheadSeconds ?? deviceClass.stepOverheadSeconds,
            stepOverheadOverlaps: engine?.stepOverheadOverlaps ?? false,
            communicationOverlap: engine?.communicationOverlap ?? 0)
    }

    public var deviceCount: Int { layout?.units ?? tensorParallel * pipelineParallel }

    /// Devices that work on one operator at once, for dynamic energy: the tensor-parallel ranks,
    /// or a layer's share of an SRAM layout's chips (of a wafer: the share of wafers).
    public var activeDevicesPerOperator: Double {
        guard let layout else { return Double(tensorParallel) }
        return executionModel == .wafer ? layout.unitsPerLayer : max(1, layout.unitsPerLayer)
    }

    /// Prices one execution of `op` on one device, by the device's execution model. The two
    /// models a simulation prices millions of times are called directly (no dynamic dispatch).
    @inline(__always) public func cost(of op: Operator) -> OperatorCost {
        switch executionModel {
        case .roofline: return RooflinePricer().cost(of: op, in: self)
        case .measuredKernels: return MeasuredKernelsPricer().cost(of: op, in: self)
        case .shapedKernels: return ShapedKernelsPricer().cost(of: op, in: self)
        case .sramPipeline, .wafer, .pimHybrid, .fpgaDataflow: return pricer.cost(of: op, in: self)
        }
    }

    /// How a step's operators share the device (`ExecutionPricer.schedule(of:in:)`).
    @inline(__always) public func schedule(of step: StepWorkload) -> StepSchedule {
        switch executionModel {
        case .roofline, .measuredKernels, .shapedKernels: return .serial
        case .sramPipeline, .wafer, .pimHybrid, .fpgaDataflow: return pricer.schedule(of: step, in: self)
        }
    }

    /// Compute figures for arithmetic type `type`: cached for the two types the deployment uses,
    /// looked up in the profiles otherwise.
    @inline(__always) public func computeRates(_ type: DType) -> PricingRates.Compute {
        if type == rates.activations.arithmetic { return rates.activations }
        if type == rates.layerGEMMs.arithmetic { return rates.layerGEMMs }
        if type == rates.attention.arithmetic { return rates.attention }
        if type == rates.headGEMM.arithmetic { return rates.headGEMM }
        return PricingRates.Compute(type, device: device, deviceClass: deviceClass)
    }

    /// Seconds of full dynamic power `op` draws at price `c`: with the class's power model,
    /// `min(t, computeWeight · FLOPs / peak + memoryWeight · bytes / peak bandwidth)`; without
    /// one, the busier of compute and memory at peak (`min(max(compute, memory), atPeak)`).
    @inline(__always) public func dynamicSeconds(_ op: Operator, _ c: OperatorCost) -> Double {
        guard let p = deviceClass.power else { return min(max(c.compute.value, c.memory.value), c.atPeak.value) }
        let peak = computeRates(op.arithmetic).peakFLOPsPerSecond
        let work = p.computeWeight * op.flops.value / peak + p.memoryWeight * op.memoryBytes.value / rates.memoryBandwidth
        return min(c.total.value - c.communication.value, work)
    }

    /// Board power of each device between steps, context held (`DeviceClassProfile.PowerModel`).
    public var heldIdleWatts: Double {
        let power = device.power
        return power.idleWatts + (deviceClass.power?.heldIdleFraction ?? 0) * (power.peakWatts - power.idleWatts)
    }

    /// The peak bandwidth `op`'s bytes are read at: the banks' internal bandwidth for an operator
    /// a processing-in-memory placement runs in memory, the device's main memory otherwise.
    public func peakBandwidth(of op: Operator) -> Double {
        if pimPlacement != .none, let pim = device.pim, pricer.engine(of: op, in: self) == .memory {
            return pim.internalBandwidthBytesPerSecond
        }
        return device.mainMemory.bandwidthBytesPerSecond
    }

    /// Layers on the most loaded pipeline stage.
    public var layersPerStage: Int { (model.layers + pipelineParallel - 1) / pipelineParallel }

    /// KV heads stored on each device: heads are split across tensor-parallel ranks, and
    /// replicated when there are more ranks than KV heads; all of them under data-parallel
    /// attention (each device attends over its own sequences).
    public let kvHeadsPerDevice: Int

    /// Devices attention's batch is split over: `tensorParallel` under data-parallel attention, else 1.
    public let attentionDataParallel: Int
    /// Devices each attention head's work is split over: 1 under data-parallel attention, else `tensorParallel`.
    public let attentionTensorParallel: Int
}

/// How a data-parallel-attention replica moves each MoE layer's tokens to the devices holding
/// their experts and the results back.
public enum ExpertDispatch: String, Sendable, CaseIterable, Codable {
    /// Each device sends each of its tokens to the devices of its `k` experts and receives the
    /// results (DeepEP, pplx-kernels): `tokens/ep · k · H` elements out and back per device,
    /// every pair of devices at once.
    case allToAll
    /// Every device gathers every token, runs its experts on those routed to them, and the
    /// partial outputs are reduce-scattered back (vLLM's `allgather_reducescatter`): ring
    /// collectives over the whole batch, `tokens · H` elements each way, independent of `k`.
    case allGatherReduceScatter
}
