import Diagnostics

/// A serving engine: the software between the model and the device, as read from
/// `hardware-profiles/engines/ID.json`.
///
/// The device profile stays the datasheet; the engine carries what the software adds or loses:
/// its fixed cost per step and per kernel, how many small kernels it leaves unfused, its attention
/// kernel and, per device, kernel efficiencies fitted by shape
/// (`KernelFit`, written by `infersim calibrate --from`). Absent figures fall back to the device
/// class's estimates, so the `tensorrt-llm` engine, which states none, prices exactly as the
/// device classes do.
public struct EngineProfile: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    /// The id: the file name without `.json`.
    public var name: String
    public var displayName: String
    /// Whether the engine replays its decode steps as CUDA graphs (one launch per step).
    public var cudaGraphs: Bool
    /// Host cost of launching one kernel, eagerly and inside a graph replay (nil: the class's
    /// `kernelOverheadSeconds`).
    public var kernelLaunchSeconds: LaunchCosts?
    /// Host work per step outside the kernels: scheduling, sampling, detokenising (nil: the class's).
    public var stepOverheadSeconds: Double?
    /// Whether that host work overlaps the device's step (asynchronous scheduling): the step then
    /// costs `max(device, host)` instead of their sum.
    public var stepOverheadOverlaps: Bool
    /// Fraction of a step's communication (tensor-parallel collectives, pipeline transfers) the
    /// engine hides behind the same step's compute and memory work, by splitting it into chunks
    /// that overlap the GEMMs (TensorRT-LLM's and SGLang's fused GEMM + all-reduce, async TP).
    /// The hidden part never exceeds that work. Nil: 0, every collective waits for its producer
    /// and its consumer waits for it, as NCCL calls between kernels do.
    public var communicationOverlap: Double?
    /// Kernels a layer runs besides its GEMMs and attention: norms, rotary embedding, activation,
    /// residual adds and KV-cache writes (nil: one per norm and elementwise operator, 3 per layer,
    /// as a fused engine runs them). Each costs one launch plus its small-kernel fixed time.
    public var elementwiseKernelsPerLayer: Int?
    public var attention: AttentionFamily
    /// Kernel efficiencies by shape, fitted on a device (keyed by device id).
    public var kernels: [String: KernelFit]?
    /// What the figures were fitted on or taken from.
    public var fittedOn: String
    public var sources: [String: Source]

    public struct LaunchCosts: Codable, Hashable, Sendable {
        public var eager: Double
        public var graph: Double
        public init(eager: Double, graph: Double) { self.eager = eager; self.graph = graph }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            eager = try c.decodeSeconds(.eager)
            graph = try c.decodeSeconds(.graph)
        }
    }

    /// How the engine computes attention.
    public struct AttentionFamily: Codable, Hashable, Sendable {
        public enum Kernel: String, Codable, Sendable, CaseIterable {
            /// FlashAttention-2's forward kernel: one thread block per (sequence, KV head) in
            /// decode, so a small batch leaves most SMs idle.
            case flashAttention2
            /// A split-KV decode kernel (FlashDecoding, vLLM's paged attention v2, FlashInfer):
            /// each sequence's context is split until the thread blocks fill the SMs.
            case splitKV
        }
        public var kernel: Kernel
        /// Fraction of the attention type's peak a long causal prefill reaches (nil: the class's
        /// large-GEMM fraction).
        public var prefillComputeFraction: Double?
        /// Chunk length at which a causal prefill reaches half of that fraction: a chunk of `n`
        /// tokens reaches `fraction · n / (n + n½)` (nil: 0, no fall-off).
        public var prefillHalfTokens: Double?
        public init(kernel: Kernel, prefillComputeFraction: Double? = nil, prefillHalfTokens: Double? = nil) {
            self.kernel = kernel
            self.prefillComputeFraction = prefillComputeFraction
            self.prefillHalfTokens = prefillHalfTokens
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kernel = try c.decodeKnown(Kernel.self, forKey: .kernel)
            prefillComputeFraction = c.contains(.prefillComputeFraction) ? try c.decodeFraction(.prefillComputeFraction) : nil
            prefillHalfTokens = c.contains(.prefillHalfTokens) ? try c.decodePositive(.prefillHalfTokens, atMost: 1e9) : nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decodeInt(.schemaVersion, atLeast: 1, atMost: 1)
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decode(String.self, forKey: .displayName)
        cudaGraphs = try c.decode(Bool.self, forKey: .cudaGraphs)
        kernelLaunchSeconds = try c.decodeIfPresent(LaunchCosts.self, forKey: .kernelLaunchSeconds)
        stepOverheadSeconds = c.contains(.stepOverheadSeconds) ? try c.decodeSeconds(.stepOverheadSeconds) : nil
        stepOverheadOverlaps = try c.decode(Bool.self, forKey: .stepOverheadOverlaps)
        communicationOverlap = c.contains(.communicationOverlap) ? try c.decodeFraction(.communicationOverlap) : nil
        elementwiseKernelsPerLayer = c.contains(.elementwiseKernelsPerLayer) ? try c.decodeInt(.elementwiseKernelsPerLayer, atLeast: 0, atMost: 1000) : nil
        attention = try c.decode(AttentionFamily.self, forKey: .attention)
        kernels = try c.decodeIfPresent([String: KernelFit].self, forKey: .kernels)
        fittedOn = try c.decode(String.self, forKey: .fittedOn)
        sources = try c.decode([String: Source].self, forKey: .sources)
        var required: [String] = []
        if kernelLaunchSeconds != nil { required.append("kernelLaunchSeconds") }
        if stepOverheadSeconds != nil { required.append("stepOverheadSeconds") }
        if elementwiseKernelsPerLayer != nil { required.append("elementwiseKernelsPerLayer") }
        if communicationOverlap != nil { required.append("communicationOverlap") }
        if attention.prefillComputeFraction != nil { required.append("attention") }
        try sources.requireSources(for: required, codingPath: c.codingPath)
    }

    public init(name: String, displayName: String, cudaGraphs: Bool, kernelLaunchSeconds: LaunchCosts?, stepOverheadSeconds: Double?,
                stepOverheadOverlaps: Bool, elementwiseKernelsPerLayer: Int?, attention: AttentionFamily,
                kernels: [String: KernelFit]? = nil, fittedOn: String, sources: [String: Source] = [:], communicationOverlap: Double? = nil) {
        self.schemaVersion = 1
        self.name = name
        self.displayName = displayName
        self.cudaGraphs = cudaGraphs
        self.kernelLaunchSeconds = kernelLaunchSeconds
        self.stepOverheadSeconds = stepOverheadSeconds
        self.stepOverheadOverlaps = stepOverheadOverlaps
        self.communicationOverlap = communicationOverlap
        self.elementwiseKernelsPerLayer = elementwiseKernelsPerLayer
        self.attention = attention
        self.kernels = kernels
        self.fittedOn = fittedOn
        self.sources = sources
    }

    /// Host cost of one kernel launch in the engine's usual mode (graphs or eager), if stated.
    public var launchSeconds: Double? { kernelLaunchSeconds.map { cudaGraphs ? $0.graph : $0.eager } }
}

/// Kernel efficiencies of one engine on one device, fitted by shape (`infersim calibrate --from`).
///
/// Small and physical, a handful of parameters per kernel family:
/// - **GEMMs** (`A[M,K]·W[K,N]`): `t = fixed + (c^p + m^p)^(1/p)`, with `c = 2MKN / flops(type)`
///   and `m = bytes / bandwidth`. `fixed` is the kernel's ramp and tail (a GEMV over a 32 MB
///   matrix loses ~15 µs to them on an H200); the exponent `p` smooths the turn from memory- to
///   compute-bound (`p → ∞` is the roofline's `max`; cuBLAS's tiles switch gradually).
/// - **Decode attention**: `t = fixed + max(bytes / bandwidth, waves · blockBytes / perBlock)`:
///   each thread block streams its share of the cache at a per-SM rate, and a batch of too few
///   blocks (`sequences × KV heads` for FlashAttention-2) cannot fill the chip
///   (`waves = ⌈blocks / SMs⌉`).
/// - **Streaming kernels** (norms, activations): `bytes / streamBandwidth`.
public struct KernelFit: Codable, Hashable, Sendable {
    public var smCount: Int
    public var gemm: GEMMFit
    public var decodeAttention: AttentionFit
    /// Bandwidth of a large device-to-device copy (read plus write), bytes/s.
    public var streamBytesPerSecond: Double
    /// Fixed time of one small kernel on the device (ramp and tail), seconds.
    public var smallKernelSeconds: Double
    /// The shapes the fit saw: predictions outside them are extrapolations.
    public var range: FitRange
    public var provenance: FitProvenance

    public struct GEMMFit: Codable, Hashable, Sendable {
        public var fixedSeconds: Double
        public var bandwidthBytesPerSecond: Double
        /// Large-GEMM rate by arithmetic type (`DType` raw values), FLOP/s.
        public var flopsPerSecond: [String: Double]
        public var overlapExponent: Double
        public init(fixedSeconds: Double, bandwidthBytesPerSecond: Double, flopsPerSecond: [String: Double], overlapExponent: Double) {
            self.fixedSeconds = fixedSeconds
            self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
            self.flopsPerSecond = flopsPerSecond
            self.overlapExponent = overlapExponent
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            fixedSeconds = try c.decodeSeconds(.fixedSeconds)
            bandwidthBytesPerSecond = try c.decodePositive(.bandwidthBytesPerSecond)
            flopsPerSecond = try c.decode([String: Double].self, forKey: .flopsPerSecond)
            for (key, value) in flopsPerSecond where DType(rawValue: key) == nil || !(value.isFinite && value > 0 && value <= 1e21) {
                throw DecodingError.dataCorruptedError(forKey: .flopsPerSecond, in: c,
                    debugDescription: "expected known arithmetic types (\(DType.knownNames)) with rates in (0, 1e21], found \"\(key)\": \(value)")
            }
            guard !flopsPerSecond.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: .flopsPerSecond, in: c, debugDescription: "expected at least one arithmetic type, found none")
            }
            overlapExponent = try c.decodePositive(.overlapExponent, atMost: 100)
            guard overlapExponent >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .overlapExponent, in: c, debugDescription: "expected a number in [1, 100], found \(overlapExponent)")
            }
        }
    }

    public struct AttentionFit: Codable, Hashable, Sendable {
        public var fixedSeconds: Double
        public var bandwidthBytesPerSecond: Double
        public var perBlockBytesPerSecond: Double
        public init(fixedSeconds: Double, bandwidthBytesPerSecond: Double, perBlockBytesPerSecond: Double) {
            self.fixedSeconds = fixedSeconds
            self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
            self.perBlockBytesPerSecond = perBlockBytesPerSecond
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            fixedSeconds = try c.decodeSeconds(.fixedSeconds)
            bandwidthBytesPerSecond = try c.decodePositive(.bandwidthBytesPerSecond)
            perBlockBytesPerSecond = try c.decodePositive(.perBlockBytesPerSecond)
        }
    }

    /// Closed ranges of the fitted shapes: GEMM rows, decode batch and context.
    public struct FitRange: Codable, Hashable, Sendable {
        public var gemmRows: [Double]
        public var attentionSequences: [Double]
        public var attentionContext: [Double]
        public init(gemmRows: [Double], attentionSequences: [Double], attentionContext: [Double]) {
            self.gemmRows = gemmRows
            self.attentionSequences = attentionSequences
            self.attentionContext = attentionContext
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func pair(_ key: CodingKeys) throws -> [Double] {
                let v = try c.decode([Double].self, forKey: key)
                guard v.count == 2, v[0].isFinite, v[1].isFinite, v[0] >= 0, v[0] <= v[1] else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected [low, high] with 0 <= low <= high, found \(v)")
                }
                return v
            }
            gemmRows = try pair(.gemmRows)
            attentionSequences = try pair(.attentionSequences)
            attentionContext = try pair(.attentionContext)
        }
    }

    /// Where a fit came from: its inputs, its residuals and each parameter's uncertainty.
    public struct FitProvenance: Codable, Hashable, Sendable {
        public var inputs: [String]
        public var points: Int
        /// Median and largest |relative error| of the fitted points.
        public var medianAbsError: Double
        public var maxAbsError: Double
        public var parameters: [String: Parameter]
        public init(inputs: [String], points: Int, medianAbsError: Double, maxAbsError: Double, parameters: [String: Parameter]) {
            self.inputs = inputs
            self.points = points
            self.medianAbsError = medianAbsError
            self.maxAbsError = maxAbsError
            self.parameters = parameters
        }
    }

    /// One parameter of a fit: its value, how it was obtained, and its relative standard error
    /// when fitted (from the Gauss-Newton covariance of the log-parameter).
    public struct Parameter: Codable, Hashable, Sendable {
        public enum How: String, Codable, Sendable, CaseIterable { case fitted, measured, estimated }
        public var value: Double
        public var how: How
        public var relativeStandardError: Double?
        public var note: String?
        public init(_ value: Double, _ how: How, relativeStandardError: Double? = nil, note: String? = nil) {
            self.value = value
            self.how = how
            self.relativeStandardError = relativeStandardError
            self.note = note
        }
    }

    public init(smCount: Int, gemm: GEMMFit, decodeAttention: AttentionFit, streamBytesPerSecond: Double, smallKernelSeconds: Double,
                range: FitRange, provenance: FitProvenance) {
        self.smCount = smCount
        self.gemm = gemm
        self.decodeAttention = decodeAttention
        self.streamBytesPerSecond = streamBytesPerSecond
        self.smallKernelSeconds = smallKernelSeconds
        self.range = range
        self.provenance = provenance
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        smCount = try c.decodeInt(.smCount, atLeast: 1, atMost: 1 << 20)
        gemm = try c.decode(GEMMFit.self, forKey: .gemm)
        decodeAttention = try c.decode(AttentionFit.self, forKey: .decodeAttention)
        streamBytesPerSecond = try c.decodePositive(.streamBytesPerSecond)
        smallKernelSeconds = try c.decodeSeconds(.smallKernelSeconds)
        range = try c.decode(FitRange.self, forKey: .range)
        provenance = try c.decode(FitProvenance.self, forKey: .provenance)
    }

    /// The large-GEMM rate for `type`, else the nearest fitted type's (bf16 for fp16, say).
    public func gemmFLOPs(_ type: DType) -> Double? {
        if let r = gemm.flopsPerSecond[type.rawValue] { return r }
        if type == .fp16, let r = gemm.flopsPerSecond[DType.bf16.rawValue] { return r }
        if type == .bf16, let r = gemm.flopsPerSecond[DType.fp16.rawValue] { return r }
        return nil
    }
}

extension KeyedDecodingContainer {
    /// A time in seconds: finite, in [0, 1e6].
    func decodeSeconds(_ key: Key) throws -> Double {
        let value = try decode(Double.self, forKey: key)
        guard value.isFinite, value >= 0, value <= 1e6 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected seconds in [0, 1e6], found \(value)")
        }
        return value
    }
}
