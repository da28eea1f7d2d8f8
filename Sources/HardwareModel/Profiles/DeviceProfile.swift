import Diagnostics

/// One accelerator, CPU or memory-compute device, as read from `hardware-profiles/devices/ID.json`.
///
/// Holds peak (datasheet) figures only; what a device achieves is a property of its
/// `deviceClass` (see `DeviceClassProfile`), so that peak and achievable numbers are never
/// mixed up and efficiency is never tuned per device or per test case.
public struct DeviceProfile: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    /// The id: the file name without `.json`.
    public var name: String
    public var displayName: String
    public var deviceClass: String
    /// Peak dense (not 2:4-sparse) throughput per arithmetic type, FLOP/s (or OP/s for integers).
    public var peakFLOPsPerSecond: [String: Double]
    /// Memory tiers from fastest to largest. Exactly one has `holdsWeights: true`: the tier that
    /// stores weights and KV cache and whose bandwidth bounds decode.
    public var memoryTiers: [MemoryTier]
    public var power: PowerProfile
    public var interconnect: DeviceInterconnect
    /// Price in US dollars per device-hour, for cost-per-token figures (optional).
    public var pricePerHourUSD: Double?
    /// Fixed costs measured on this very device (`infersim calibrate` writes them); when present
    /// they replace the device class's estimates (optional).
    public var fixedCosts: FixedCosts?
    /// The attention kernel as measured on this very device (`infersim calibrate` writes it);
    /// when present it prices the attention operators instead of the class's fraction of the
    /// attention type's peak (optional).
    public var attentionKernel: AttentionKernel?
    /// Fraction of a weight GEMM's memory time (its bytes at peak bandwidth) that stays exposed
    /// next to its compute when the GEMM has more than one activation row, as measured on this
    /// very device (`infersim calibrate`); replaces the class's estimate (optional).
    ///
    /// A CPU row-group kernel (ours, llama.cpp's) streams a group of weight rows while it computes
    /// the first activation row against them, then computes the other rows from cache: with one
    /// row the stream and the arithmetic overlap (the roofline's `max`), with more the memory sits
    /// idle during the cached rows and the prefetcher, running a fixed distance ahead, does not
    /// cover the next group's stream. Time = `max(memory, compute + fraction · bytes / bandwidth)`.
    public var exposedMemoryFraction: Double?
    /// Bytes per second at which this very device's one-row weight GEMM kernel of each format
    /// consumes weights streamed from main memory, as measured (`infersim calibrate`: a flushed
    /// stack of decoder layers at one activation row, unpacking included, the stack's activation
    /// preparation and fork-joins left to `fixedCosts`); keyed by format name like
    /// `peakFLOPsPerSecond` (optional).
    ///
    /// When present for a weight GEMM's kernel format it replaces the main tier's bandwidth times
    /// the class fraction for that GEMM's weight bytes: a CPU kernel that unpacks 4-bit blocks
    /// while it streams does not reach a pure read's bandwidth (Q4_1 21-25 GB/s against a 33 GB/s
    /// read on the 2-vCPU Zen 5 VM), and one over 8-bit blocks can exceed the class fraction.
    public var weightStreamBytesPerSecond: [String: Double]?
    /// Elements per second this very device passes through an FFN activation function (SwiGLU's
    /// `silu(gate) · up`, an exponential each), as measured (`infersim calibrate`) (optional).
    /// A FLOP count prices an exponential as one operation; a CPU's libm `expf` takes ~40 cycles
    /// (4.3 ns per element on the 2-vCPU Zen 5 VM: 3% of a 512-token prefill of SmolLM2-135M).
    public var activationElementsPerSecond: Double?
    /// How the device executes a step (absent: its class's `executionModel`). Read it through
    /// `DeviceProfile.executionModel(in:)`.
    public var executionModel: ExecutionModel?
    /// Processing-in-memory figures: required by the `pimHybrid` model, and by any PIM placement.
    public var pim: PIMFigures?
    /// The configured datapath of an FPGA: required by the `fpgaDataflow` model.
    public var fpga: FPGADesign?
    public var sources: [String: Source]
    public var notes: String?

    public struct MemoryTier: Codable, Hashable, Sendable {
        public enum Kind: String, Codable, Sendable { case sram, hbm, gddr, ddr, lpddr, pim }
        public var name: String
        public var kind: Kind
        public var capacityBytes: Double
        public var bandwidthBytesPerSecond: Double
        public var holdsWeights: Bool?

        public var capacity: Bytes { Bytes(capacityBytes) }
        public var bandwidth: BytesPerSecond { BytesPerSecond(bandwidthBytesPerSecond) }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            kind = try c.decode(Kind.self, forKey: .kind)
            capacityBytes = try c.decodePositive(.capacityBytes)
            bandwidthBytesPerSecond = try c.decodePositive(.bandwidthBytesPerSecond)
            holdsWeights = try c.decodeIfPresent(Bool.self, forKey: .holdsWeights)
        }
    }

    public struct PowerProfile: Codable, Hashable, Sendable {
        /// Board power when powered on and idle.
        public var idleWatts: Double
        /// Board power at full load (TDP / TBP).
        public var peakWatts: Double

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            idleWatts = try c.decodePositive(.idleWatts)
            peakWatts = try c.decodePositive(.peakWatts)
            guard idleWatts <= peakWatts else {
                throw DecodingError.dataCorruptedError(forKey: .idleWatts, in: c,
                    debugDescription: "expected idleWatts <= peakWatts, found \(idleWatts) > \(peakWatts)")
            }
        }
    }

    /// Per-kernel and per-step fixed costs, seconds.
    public struct FixedCosts: Codable, Hashable, Sendable {
        /// Launch and synchronisation cost of one kernel (a CPU executor's fork-join).
        public var kernelOverheadSeconds: Double
        /// Cost of one forward step outside its kernels (sampling, bookkeeping).
        public var stepOverheadSeconds: Double

        public init(kernelOverheadSeconds: Double, stepOverheadSeconds: Double) {
            self.kernelOverheadSeconds = kernelOverheadSeconds
            self.stepOverheadSeconds = stepOverheadSeconds
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kernelOverheadSeconds = try c.decode(Double.self, forKey: .kernelOverheadSeconds)
            stepOverheadSeconds = try c.decode(Double.self, forKey: .stepOverheadSeconds)
            for (key, value) in [(CodingKeys.kernelOverheadSeconds, kernelOverheadSeconds), (.stepOverheadSeconds, stepOverheadSeconds)]
            where !(value.isFinite && value >= 0) {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected a number >= 0, found \(value)")
            }
        }
    }

    /// A measured attention kernel: its rate when each sequence contributes one query row
    /// (decode) and when a chunk of consecutive rows shares the cached keys and values (prefill),
    /// both FLOP/s counted as `4 · headDim` per head and query-key pair, its fixed time per
    /// attention operator (one layer's attention of a step), seconds, and its fixed time per
    /// sequence (decode token or prefill chunk) in that operator, seconds (absent: 0).
    public struct AttentionKernel: Codable, Hashable, Sendable {
        public var decodeFLOPsPerSecond: Double
        public var prefillFLOPsPerSecond: Double
        public var overheadSeconds: Double
        /// A CPU attention pays per sequence what a FLOP rate does not carry: RoPE and the F16
        /// rounding of its rows, the cache write, and per (sequence, KV head) work item the setup,
        /// softmax and output of a short row.
        public var perSequenceSeconds: Double

        public init(decodeFLOPsPerSecond: Double, prefillFLOPsPerSecond: Double, overheadSeconds: Double,
                    perSequenceSeconds: Double = 0) {
            self.decodeFLOPsPerSecond = decodeFLOPsPerSecond
            self.prefillFLOPsPerSecond = prefillFLOPsPerSecond
            self.overheadSeconds = overheadSeconds
            self.perSequenceSeconds = perSequenceSeconds
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            decodeFLOPsPerSecond = try c.decodePositive(.decodeFLOPsPerSecond)
            prefillFLOPsPerSecond = try c.decodePositive(.prefillFLOPsPerSecond)
            overheadSeconds = try c.decode(Double.self, forKey: .overheadSeconds)
            perSequenceSeconds = try c.decodeIfPresent(Double.self, forKey: .perSequenceSeconds) ?? 0
            for (key, value) in [(CodingKeys.overheadSeconds, overheadSeconds), (.perSequenceSeconds, perSequenceSeconds)]
            where !(value.isFinite && value >= 0) {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected a number >= 0, found \(value)")
            }
        }
    }

    /// Links by interconnect id (`hardware-profiles/interconnects/ID.json`).
    public struct DeviceInterconnect: Codable, Hashable, Sendable {
        /// Device-to-device link inside a node (NVLink, Infinity Fabric, chip-to-chip fabric); nil if none.
        public var scaleUp: String?
        /// Link between nodes (InfiniBand, RoCE, Ethernet); nil if none.
        public var scaleOut: String?
        /// Link to host memory (PCIe), used for KV swap.
        public var host: String?
        /// Devices that share one scale-up domain.
        public var devicesPerNode: Int

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            scaleUp = try c.decodeIfPresent(String.self, forKey: .scaleUp)
            scaleOut = try c.decodeIfPresent(String.self, forKey: .scaleOut)
            host = try c.decodeIfPresent(String.self, forKey: .host)
            devicesPerNode = try c.decodeInt(.devicesPerNode, atLeast: 1)
        }
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, name, displayName, deviceClass, peakFLOPsPerSecond, memoryTiers, power,
             interconnect, pricePerHourUSD, fixedCosts, attentionKernel, exposedMemoryFraction, weightStreamBytesPerSecond,
             activationElementsPerSecond, executionModel, pim, fpga, sources, notes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        guard schemaVersion == 1 else {
            throw DecodingError.dataCorruptedError(forKey: .schemaVersion, in: c, debugDescription: "expected 1, found \(schemaVersion)")
        }
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decode(String.self, forKey: .displayName)
        deviceClass = try c.decode(String.self, forKey: .deviceClass)
        peakFLOPsPerSecond = try c.decode([String: Double].self, forKey: .peakFLOPsPerSecond)
        try Self.checkRatesByType(peakFLOPsPerSecond, key: .peakFLOPsPerSecond, in: c, keyName: "arithmetic type")
        guard !peakFLOPsPerSecond.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .peakFLOPsPerSecond, in: c, debugDescription: "expected at least one arithmetic type")
        }
        memoryTiers = try c.decode([MemoryTier].self, forKey: .memoryTiers)
        let holders = memoryTiers.filter { $0.holdsWeights == true }.count
        guard holders == 1 else {
            throw DecodingError.dataCorruptedError(forKey: .memoryTiers, in: c,
                debugDescription: "expected exactly one tier with \"holdsWeights\": true, found \(holders)")
        }
        power = try c.decode(PowerProfile.self, forKey: .power)
        interconnect = try c.decode(DeviceInterconnect.self, forKey: .interconnect)
        pricePerHourUSD = try c.decodeIfPresent(Double.self, forKey: .pricePerHourUSD)
        fixedCosts = try c.decodeIfPresent(FixedCosts.self, forKey: .fixedCosts)
        attentionKernel = try c.decodeIfPresent(AttentionKernel.self, forKey: .attentionKernel)
        exposedMemoryFraction = try c.decodeIfPresent(Double.self, forKey: .exposedMemoryFraction)
        if let f = exposedMemoryFraction, !(f >= 0 && f <= 1) {
            throw DecodingError.dataCorruptedError(forKey: .exposedMemoryFraction, in: c, debugDescription: "expected a fraction in [0, 1], found \(f)")
        }
        weightStreamBytesPerSecond = try c.decodeIfPresent([String: Double].self, forKey: .weightStreamBytesPerSecond)
        try Self.checkRatesByType(weightStreamBytesPerSecond ?? [:], key: .weightStreamBytesPerSecond, in: c, keyName: "format")
        activationElementsPerSecond = try c.decodeIfPresent(Double.self, forKey: .activationElementsPerSecond)
        if let r = activationElementsPerSecond, !(r.isFinite && r > 0) {
            throw DecodingError.dataCorruptedError(forKey: .activationElementsPerSecond, in: c, debugDescription: "expected a number > 0, found \(r)")
        }
        if c.contains(.executionModel) { executionModel = try c.decodeKnown(ExecutionModel.self, forKey: .executionModel) }
        pim = try c.decodeIfPresent(PIMFigures.self, forKey: .pim)
        fpga = try c.decodeIfPresent(FPGADesign.self, forKey: .fpga)
        if executionModel == .pimHybrid && pim == nil {
            throw DecodingError.dataCorruptedError(forKey: .pim, in: c,
                debugDescription: "a device with \"executionModel\": \"pimHybrid\" needs a \"pim\" block (internalBandwidthBytesPerSecond, macFLOPsPerSecond, capacityBytes)")
        }
        if executionModel == .fpgaDataflow && fpga == nil {
            throw DecodingError.dataCorruptedError(forKey: .fpga, in: c,
                debugDescription: "a device with \"executionModel\": \"fpgaDataflow\" needs an \"fpga\" block with its DSP figures (dspSlices, clockHertz, macsPerDSPPerCycle, bandwidthFraction, computeFraction)")
        }
        sources = try c.decode([String: Source].self, forKey: .sources)
        var required = ["peakFLOPsPerSecond", "memoryTiers", "power", "interconnect"]
        if pricePerHourUSD != nil { required.append("pricePerHourUSD") }
        if fixedCosts != nil { required.append("fixedCosts") }
        if attentionKernel != nil { required.append("attentionKernel") }
        if exposedMemoryFraction != nil { required.append("exposedMemoryFraction") }
        if weightStreamBytesPerSecond != nil { required.append("weightStreamBytesPerSecond") }
        if activationElementsPerSecond != nil { required.append("activationElementsPerSecond") }
        if pim != nil { required.append("pim") }
        if fpga != nil { required.append("fpga") }
        try sources.requireSources(for: required, codingPath: c.codingPath + [CodingKeys.sources])
        notes = try c.decodeIfPresent(String.self, forKey: .notes)
    }

    /// Every key of `rates` names a `DType` (`keyName` in the message) and every value is a finite number > 0.
    private static func checkRatesByType(_ rates: [String: Double], key: CodingKeys, in c: KeyedDecodingContainer<CodingKeys>,
                                         keyName: String) throws {
        for (type, value) in rates {
            guard DType(rawValue: type) != nil else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [key],
                    debugDescription: "unknown \(keyName) \"\(type)\" (known: \(DType.knownNames))"))
            }
            guard value.isFinite, value > 0 else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [key],
                    debugDescription: "\(type): expected a number > 0, found \(value)"))
            }
        }
    }

    /// The execution model: the device's own, else its class's.
    public func executionModel(in deviceClass: DeviceClassProfile) -> ExecutionModel {
        executionModel ?? deviceClass.executionModel
    }

    /// The tier that holds weights and KV cache.
    public var mainMemory: MemoryTier { memoryTiers.first { $0.holdsWeights == true }! }

    /// Peak throughput for work of arithmetic type `dtype`, falling back to the next wider
    /// type the device has (an A100 runs FP8 work at its FP16 rate). Returns the type used.
    public func peakCompute(for dtype: DType) -> (FLOPsPerSecond, DType) {
        for candidate in dtype.computeFallbacks {
            if let value = peakFLOPsPerSecond[candidate.rawValue] { return (FLOPsPerSecond(value), candidate) }
        }
        let best = peakFLOPsPerSecond.max { $0.value < $1.value }!
        return (FLOPsPerSecond(best.value), DType(rawValue: best.key)!)
    }
}
