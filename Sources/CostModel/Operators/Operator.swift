import HardwareModel

/// The kinds of work in a forward step, in the order they run inside a layer.
public enum OperatorKind: String, Sendable, CaseIterable, Codable {
    case embedding, norm, qkvProjection, attentionPrefill, attentionDecode, outputProjection
    case ffn, moeRouter, moeExperts, elementwise, lmHead, allReduce, pipelineTransfer
    /// Expert-parallel token dispatch and combine under data-parallel attention.
    case allToAll, allGather, reduceScatter

    public var isCommunication: Bool {
        switch self {
        case .allReduce, .pipelineTransfer, .allToAll, .allGather, .reduceScatter: return true
        default: return false
        }
    }
    /// Operators that multiply activations by a weight matrix streamed from memory.
    public var isWeightGEMM: Bool {
        switch self {
        case .qkvProjection, .outputProjection, .ffn, .moeRouter, .moeExperts, .lmHead: return true
        default: return false
        }
    }
}

/// One operator of a forward step on one device, with its work counted for a single
/// execution; `repeats` says how many times the step runs it (once per layer, say).
///
/// Operators are values: evaluating one never mutates it.
public struct Operator: Hashable, Sendable {
    public var name: String
    public var kind: OperatorKind
    public var flops: FLOPs
    public var weightBytes: Bytes
    public var activationBytes: Bytes
    public var kvBytes: Bytes
    /// GEMM rows sharing each weight read (tokens, or queries per KV head for decode
    /// attention): sets the compute efficiency of small shapes.
    public var rows: Double
    /// Sequences whose rows the operator serves separately (attention: decode tokens, or prefill
    /// chunks); each pays `PricingRates.attentionPerSequenceSeconds`. 0 for every other operator.
    public var sequences: Double
    /// Elements passed through the FFN's activation function (SiLU, GELU: an exponential each);
    /// counted in `flops` as one FLOP each, and priced at `PricingRates.activationElementsPerSecond`
    /// where the device has a measured figure. 0 for every operator but the FFN's elementwise one.
    public var activationElements: Double
    /// Arithmetic format of the work.
    public var arithmetic: DType
    public var repeats: Int
    /// Bytes one device sends for a collective or point-to-point transfer (communication operators only).
    public var communicationBytes: Bytes

    public init(name: String, kind: OperatorKind, flops: FLOPs = .zero, weightBytes: Bytes = .zero,
                activationBytes: Bytes = .zero, kvBytes: Bytes = .zero, rows: Double = 1, sequences: Double = 0,
                activationElements: Double = 0, arithmetic: DType, repeats: Int, communicationBytes: Bytes = .zero) {
        self.name = name
        self.kind = kind
        self.flops = flops
        self.weightBytes = weightBytes
        self.activationBytes = activationBytes
        self.kvBytes = kvBytes
        self.rows = rows
        self.sequences = sequences
        self.activationElements = activationElements
        self.arithmetic = arithmetic
        self.repeats = repeats
        self.communicationBytes = communicationBytes
    }

    /// Bytes moved to or from the device's main memory.
    public var memoryBytes: Bytes { weightBytes + activationBytes + kvBytes }

    /// FLOPs per byte of memory traffic.
    public var arithmeticIntensity: Double { memoryBytes.value > 0 ? flops.value / memoryBytes.value : .infinity }
}

/// The priced result of one execution of an operator.
public struct OperatorCost: Hashable, Sendable {
    /// Time the arithmetic needs at the achievable rate.
    public var compute: Seconds
    /// Time the memory traffic needs at the achievable bandwidth.
    public var memory: Seconds
    /// Memory time that compute does not hide (`PricingRates.exposedMemoryFraction`), added to
    /// `compute` before it is compared with `memory`.
    public var exposedMemory: Seconds
    /// Time on the link (communication operators).
    public var communication: Seconds
    /// Fixed per-kernel cost.
    public var overhead: Seconds
    /// Time the work would take at the device's peak compute or peak bandwidth, whichever is
    /// longer: the busy time that draws peak dynamic power (see `InferenceCostModel`'s energy).
    public var atPeak: Seconds

    public init(compute: Seconds, memory: Seconds, communication: Seconds, overhead: Seconds, atPeak: Seconds = .zero,
                exposedMemory: Seconds = .zero) {
        self.compute = compute
        self.memory = memory
        self.exposedMemory = exposedMemory
        self.communication = communication
        self.overhead = overhead
        self.atPeak = atPeak
    }

    /// Nothing to do: an operator that costs no time (a collective on one device).
    public static let zero = OperatorCost(compute: .zero, memory: .zero, communication: .zero, overhead: .zero)

    /// `max(compute + exposedMemory, memory) + communication + overhead`: compute and memory
    /// traffic overlap (but for the exposed part), communication (not overlapped in this model)
    /// and launch do not.
    public var total: Seconds {
        Seconds(max(compute.value + exposedMemory.value, memory.value) + communication.value + overhead.value)
    }

    public var boundBy: Bound {
        let busy = compute.value + exposedMemory.value
        let work = max(busy, memory.value)
        if communication.value > work && communication.value >= overhead.value { return .communication }
        if overhead.value > work { return .overhead }
        return busy >= memory.value ? .compute : .memory
    }
}
