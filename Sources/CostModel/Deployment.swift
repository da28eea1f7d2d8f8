import HardwareModel

/// Numeric formats of one deployment.
public struct Precision: Hashable, Sendable, Codable {
    public var weights: DType
    public var activations: DType
    public var kvCache: DType
    /// Format of the token embedding and LM head when it differs from `weights` (llama.cpp
    /// keeps SmolLM2's tied embedding in Q8_0 while the layers are Q4_1).
    public var embeddings: DType?
    public init(weights: DType = .fp16, activations: DType = .fp16, kvCache: DType = .fp16, embeddings: DType? = nil) {
        self.weights = weights
        self.activations = activations
        self.kvCache = kvCache
        self.embeddings = embeddings
    }
    public var embeddingType: DType { embeddings ?? weights }
    public var description: String { "weights \(weights.rawValue), activations \(activations.rawValue), KV \(kvCache.rawValue)" }
}

/// A model placed on hardware: one replica of `tensorParallel × pipelineParallel` devices.
///
/// Validated once at construction; the cost functions trust it afterwards.
public struct Deployment: Sendable {
    public let model: ModelProfile
    public let device: DeviceProfile
    public let deviceClass: DeviceClassProfile
    public let tensorParallel: Int
    public let pipelineParallel: Int
    public let precision: Precision
    /// Link used by tensor-parallel collectives (nil when `tensorParallel == 1`).
    public let tensorLink: InterconnectProfile?
    /// Link used between pipeline stages (nil when `pipelineParallel == 1`).
    public let pipelineLink: InterconnectProfile?
    /// Link to host memory, for KV swap (nil if the device has none).
    public let hostLink: InterconnectProfile?
    /// Fraction of device memory the serving engine may use (vLLM's `gpu_memory_utilization`, 0.9 by default).
    public let memoryUtilization: Double

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case invalidParallelism(String)
        case missingLink(String)
        public var description: String {
            switch self {
            case .invalidParallelism(let s), .missingLink(let s): return s
            }
        }
    }

    /// - Throws: `Deployment.Problem` when the parallelism does not fit the model or the
    ///   hardware has no link for it.
    public init(model: ModelProfile, device: DeviceProfile, deviceClass: DeviceClassProfile,
                tensorParallel: Int = 1, pipelineParallel: Int = 1, precision: Precision = Precision(),
                scaleUpLink: InterconnectProfile? = nil, scaleOutLink: InterconnectProfile? = nil,
                hostLink: InterconnectProfile? = nil, memoryUtilization: Double = 0.9) throws {
        guard tensorParallel >= 1 else { throw Problem.invalidParallelism("--tp must be at least 1, got \(tensorParallel)") }
        guard pipelineParallel >= 1 else { throw Problem.invalidParallelism("--pp must be at least 1, got \(pipelineParallel)") }
        guard model.heads % tensorParallel == 0 else {
            throw Problem.invalidParallelism("tensor parallelism \(tensorParallel) does not divide the \(model.heads) attention heads of \(model.name)")
        }
        if model.attention != .mla && model.kvHeads % tensorParallel != 0 && tensorParallel % model.kvHeads != 0 {
            throw Problem.invalidParallelism("tensor parallelism \(tensorParallel) neither divides nor is a multiple of the \(model.kvHeads) KV heads of \(model.name)")
        }
        guard pipelineParallel <= model.layers else {
            throw Problem.invalidParallelism("pipeline parallelism \(pipelineParallel) exceeds the \(model.layers) layers of \(model.name)")
        }
        guard memoryUtilization > 0 && memoryUtilization <= 1 else {
            throw Problem.invalidParallelism("memory utilisation must be in (0, 1], got \(memoryUtilization)")
        }
        let devices = tensorParallel * pipelineParallel
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
        self.tensorLink = try link(spanning: tensorParallel, what: "tensor parallelism")
        // Stages sit on consecutive devices: they cross nodes once the replica spans more than one node.
        self.pipelineLink = try link(spanning: devices > perNode ? devices : pipelineParallel, what: "pipeline parallelism")
        self.model = model
        self.device = device
        self.deviceClass = deviceClass
        self.tensorParallel = tensorParallel
        self.pipelineParallel = pipelineParallel
        self.precision = precision
        self.hostLink = hostLink
        self.memoryUtilization = memoryUtilization
    }

    public var deviceCount: Int { tensorParallel * pipelineParallel }

    /// Layers on the most loaded pipeline stage.
    public var layersPerStage: Int { (model.layers + pipelineParallel - 1) / pipelineParallel }

    /// KV heads stored on each device: heads are split across tensor-parallel ranks, and
    /// replicated when there are more ranks than KV heads.
    public var kvHeadsPerDevice: Int { max(1, model.kvHeads / tensorParallel) }
}
