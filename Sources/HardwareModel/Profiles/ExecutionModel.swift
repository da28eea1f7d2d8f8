import Diagnostics

/// How a device executes a forward step, and so which pricer `CostModel` uses for it.
///
/// A device profile names its model (`"executionModel"`), or inherits its class's. Each case has
/// one pricer type in `Sources/CostModel/Pricing/`, chosen by an exhaustive switch, so a new
/// device class is one new case and one new file.
public enum ExecutionModel: String, Codable, Sendable, CaseIterable {
    /// Every operator costs `max(FLOPs / achievable compute, bytes / achievable bandwidth)` plus
    /// a launch overhead, one kernel after another (GPUs, TPUs, Apple silicon).
    case roofline
    /// A CPU running the executor's row-group kernels: the roofline, with whatever this host
    /// measured (`infersim calibrate`: per-format weight-streaming rates, an attention kernel, an
    /// activation-function rate) in place of the class's fractions, and the part of a multi-row
    /// GEMM's weight stream the row-group kernel leaves exposed.
    case measuredKernels
    /// A GPU priced by kernel efficiencies its serving engine fitted by shape on this device
    /// (`KernelFit`: GEMM ramp and smooth roofline, decode attention by thread blocks, streaming
    /// kernels at copy bandwidth). Chosen when the deployment's engine has a fit for the device;
    /// a device profile that names it needs such an engine.
    case shapedKernels
    /// Chips that keep every weight (and the KV cache) in on-chip SRAM, with layers laid out
    /// across chips and stepped by a compiler schedule over a chip-to-chip fabric (Groq LPU).
    case sramPipeline
    /// One wafer (or several, pipelined) holding the model in on-wafer SRAM, its layers laid
    /// out across regions of the wafer (Cerebras WSE).
    case wafer
    /// A host processor whose memory computes: GEMVs run on bank-level MAC units at the
    /// memory's internal bandwidth, placed per `PIMPlacement` (AttAcc, HBM-PIM, GDDR6-AiM).
    case pimHybrid
    /// A configured FPGA datapath: DSP MACs at the design clock, HBM with weights spilling to
    /// DDR, quantised and N:M-sparse weights (FlightLLM).
    case fpgaDataflow
}

/// Where the operators of a step run on a device with processing-in-memory.
public enum PIMPlacement: String, Codable, Sendable, CaseIterable {
    /// No PIM: the host reads memory over its pins, as any device.
    case none
    /// Decode runs in memory: weight and KV GEMVs on the bank MAC units at the internal
    /// bandwidth (GDDR6-AiM, HBM-PIM). Prefill stays on the host.
    case decodeInMemory
    /// Attention in memory, every weight GEMM on the host, two sub-batches interleaved so that
    /// both run at once (AttAcc, NeuPIMs).
    case attentionInMemory
    /// Prefill on the host, the whole decode in memory; a step's prefill and decode run at once
    /// on the two (AiMX beside a GPU).
    case prefillOnHost
}

/// The processing-in-memory figures of a device whose execution model is `pimHybrid`.
public struct PIMFigures: Codable, Hashable, Sendable {
    /// Aggregate bandwidth of the banks to their MAC units when every bank computes at once
    /// (all-bank mode), bytes/s. The host sees only the pin bandwidth of the holding tier.
    public var internalBandwidthBytesPerSecond: Double
    /// Aggregate MAC throughput of the in-memory units, FLOP/s (one MAC = 2 FLOPs).
    public var macFLOPsPerSecond: Double
    /// Memory that computes, bytes: what the in-memory operators' operands (weights, KV) must fit.
    public var capacityBytes: Double
    /// Whether the memory that computes comes in addition to the weight-holding tier (AttAcc's
    /// PIM devices beside a GPU's HBM) rather than being that tier (HBM-PIM, GDDR6-AiM).
    public var extendsCapacity: Bool
    /// Bandwidth between host and memory for the activations that cross (a query in, an
    /// attention output back), bytes/s per direction.
    public var crossingBandwidthBytesPerSecond: Double

    public init(internalBandwidthBytesPerSecond: Double, macFLOPsPerSecond: Double, capacityBytes: Double,
                extendsCapacity: Bool = false, crossingBandwidthBytesPerSecond: Double) {
        self.internalBandwidthBytesPerSecond = internalBandwidthBytesPerSecond
        self.macFLOPsPerSecond = macFLOPsPerSecond
        self.capacityBytes = capacityBytes
        self.extendsCapacity = extendsCapacity
        self.crossingBandwidthBytesPerSecond = crossingBandwidthBytesPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case internalBandwidthBytesPerSecond, macFLOPsPerSecond, capacityBytes, extendsCapacity, crossingBandwidthBytesPerSecond
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        internalBandwidthBytesPerSecond = try c.decodePositive(.internalBandwidthBytesPerSecond)
        macFLOPsPerSecond = try c.decodePositive(.macFLOPsPerSecond)
        capacityBytes = try c.decodePositive(.capacityBytes)
        extendsCapacity = try c.decode(Bool.self, forKey: .extendsCapacity)
        crossingBandwidthBytesPerSecond = try c.decodePositive(.crossingBandwidthBytesPerSecond)
        for (key, value) in [(CodingKeys.internalBandwidthBytesPerSecond, internalBandwidthBytesPerSecond), (.macFLOPsPerSecond, macFLOPsPerSecond),
                             (.capacityBytes, capacityBytes), (.crossingBandwidthBytesPerSecond, crossingBandwidthBytesPerSecond)] where value > 1e18 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected a number <= 1e18, found \(value)")
        }
    }
}

/// The configured datapath of an FPGA design (`fpgaDataflow`): what the bitstream builds out of
/// the device's DSP slices, at what clock, and the share of peak the design reaches.
public struct FPGADesign: Codable, Hashable, Sendable {
    /// DSP slices the design uses for MACs.
    public var dspSlices: Int
    /// Design clock, Hz.
    public var clockHertz: Double
    /// MACs one DSP slice completes per cycle, per arithmetic type (`int8`: 2 with packing on a
    /// DSP48E2; `int4`: 4; `fp16`: 1 with the rest in fabric).
    public var macsPerDSPPerCycle: [String: Double]
    /// N:M structured sparsity the datapath skips: `n` of every `m` weights are kept, each with
    /// `indexBits` of position metadata (absent: dense).
    public var sparsity: Sparsity?
    /// Fraction of the HBM peak the design's memory system reaches on weight streams.
    public var bandwidthFraction: Double
    /// Fraction of the DSP peak its MAC arrays keep busy.
    public var computeFraction: Double

    public struct Sparsity: Codable, Hashable, Sendable {
        public var n: Int
        public var m: Int
        public var indexBits: Double
        /// Weights kept per weight of the dense matrix.
        public var keptFraction: Double { Double(n) / Double(m) }

        enum CodingKeys: String, CodingKey { case n, m, indexBits }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            m = try c.decodeInt(.m, atLeast: 1)
            n = try c.decodeInt(.n, atLeast: 1)
            guard n <= m, m <= 64 else {
                throw DecodingError.dataCorruptedError(forKey: .n, in: c, debugDescription: "expected 1 <= n <= m <= 64, found \(n):\(m)")
            }
            indexBits = try c.decode(Double.self, forKey: .indexBits)
            guard indexBits.isFinite, indexBits >= 0, indexBits <= 16 else {
                throw DecodingError.dataCorruptedError(forKey: .indexBits, in: c, debugDescription: "expected a number in [0, 16], found \(indexBits)")
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case dspSlices, clockHertz, macsPerDSPPerCycle, sparsity, bandwidthFraction, computeFraction
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dspSlices = try c.decodeInt(.dspSlices, atLeast: 1)
        guard dspSlices <= 1_000_000 else {
            throw DecodingError.dataCorruptedError(forKey: .dspSlices, in: c, debugDescription: "expected at most 1000000 DSP slices, found \(dspSlices)")
        }
        clockHertz = try c.decodePositive(.clockHertz)
        guard clockHertz <= 5e9 else {
            throw DecodingError.dataCorruptedError(forKey: .clockHertz, in: c, debugDescription: "expected a clock of at most 5e9 Hz, found \(clockHertz)")
        }
        macsPerDSPPerCycle = try c.decode([String: Double].self, forKey: .macsPerDSPPerCycle)
        guard !macsPerDSPPerCycle.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .macsPerDSPPerCycle, in: c, debugDescription: "expected at least one arithmetic type")
        }
        for (type, value) in macsPerDSPPerCycle where DType(rawValue: type) == nil || !(value.isFinite && value > 0 && value <= 64) {
            throw DecodingError.dataCorruptedError(forKey: .macsPerDSPPerCycle, in: c,
                debugDescription: "expected known arithmetic types (\(DType.knownNames)) with 0 < MACs <= 64, found \"\(type)\": \(value)")
        }
        sparsity = try c.decodeIfPresent(Sparsity.self, forKey: .sparsity)
        bandwidthFraction = try c.decodeFraction(.bandwidthFraction)
        computeFraction = try c.decodeFraction(.computeFraction)
    }

    /// Peak MAC throughput of the design for arithmetic type `type`, FLOP/s, falling back as
    /// `DType.computeFallbacks` does; nil when the design has no datapath for it.
    public func peakFLOPsPerSecond(for type: DType) -> Double? {
        for candidate in type.computeFallbacks {
            if let macs = macsPerDSPPerCycle[candidate.rawValue] { return 2 * macs * Double(dspSlices) * clockHertz }
        }
        return nil
    }
}
