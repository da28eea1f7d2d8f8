import HardwareModel

/// A host processor whose memory computes (`PIMFigures`): operators placed in memory stream
/// their operands at the banks' internal bandwidth into bank-level MAC units; the rest run on the
/// host's roofline, which reads the same memory over its pins.
///
/// - In memory an operator costs `max(FLOPs / (MAC rate · computeFraction), bytes / (internal
///   bandwidth · bandwidthFraction))` with the class's fractions and no row fall-off (the units
///   are built for one row at a time, and reuse nothing across rows), plus the transfer of its
///   activations across `crossingBandwidthBytesPerSecond` (the query and the attention output,
///   or a GEMV's input and output vectors) and one kernel overhead.
/// - Placement (`PIMPlacement`):
///   - `decodeInMemory`: weight GEMMs, decode attention, norms and elementwise operators run in
///     memory when that is faster than on the host (a batch of many rows is compute-bound on
///     the small MAC units and goes back to the host); prefill attention stays on the host.
///   - `attentionInMemory`: decode attention in memory, everything else on the host, two
///     sub-batches interleaved so that both engines work at once (`StepSchedule.interleavedSubBatches`).
///   - `prefillOnHost`: the decode part of a step wholly in memory, its prefill part on the host,
///     at once (`StepSchedule.concurrentEngines`).
public struct PIMHybridPricer: ExecutionPricer {
    public var placement: PIMPlacement

    public init(placement: PIMPlacement) {
        self.placement = placement
    }

    public func placed(_ op: Operator, in d: Deployment) -> (engine: Engine, cost: OperatorCost) {
        func host() -> (engine: Engine, cost: OperatorCost) { (.host, RooflinePricer().cost(of: op, in: d)) }
        func memory() -> (engine: Engine, cost: OperatorCost) { (.memory, inMemoryCost(op, in: d)) }
        guard d.device.pim != nil else { return host() }
        switch placement {
        case .none: return host()
        case .attentionInMemory: return op.kind == .attentionDecode ? memory() : host()
        case .prefillOnHost: return op.kind == .attentionPrefill || op.kind.isCommunication ? host() : memory()
        case .decodeInMemory:
            switch op.kind {
            case .attentionDecode: return memory()
            case .qkvProjection, .outputProjection, .ffn, .moeRouter, .moeExperts, .lmHead, .norm, .elementwise:
                let (inMemory, onHost) = (memory(), host())
                return inMemory.cost.total <= onHost.cost.total ? inMemory : onHost
            default: return host()
            }
        }
    }

    public func engine(of op: Operator, in d: Deployment) -> Engine { placed(op, in: d).engine }

    public func cost(of op: Operator, in d: Deployment) -> OperatorCost { placed(op, in: d).cost }

    public func schedule(of step: StepWorkload, in d: Deployment) -> StepSchedule {
        switch placement {
        case .none, .decodeInMemory: return .serial
        case .attentionInMemory: return step.decodeSequences >= 2 ? .interleavedSubBatches : .serial
        case .prefillOnHost: return .concurrentEngines
        }
    }

    /// `op` run by the memory's MAC units.
    public func inMemoryCost(_ op: Operator, in d: Deployment) -> OperatorCost {
        guard let pim = d.device.pim else { return RooflinePricer().cost(of: op, in: d) }
        let cls = d.deviceClass
        let compute = op.flops.value / (pim.macFLOPsPerSecond * cls.computeFraction)
        let bytes = op.memoryBytes.value - op.activationBytes.value
        let memory = bytes > 0 ? (bytes + cls.halfBandwidthBytes) / (pim.internalBandwidthBytesPerSecond * cls.bandwidthFraction) : 0
        let crossing = op.activationBytes.value / pim.crossingBandwidthBytesPerSecond
        let atPeak = max(op.flops.value / pim.macFLOPsPerSecond, bytes / pim.internalBandwidthBytesPerSecond)
        return OperatorCost(compute: Seconds(compute), memory: Seconds(memory), communication: Seconds(crossing),
                            overhead: Seconds(d.rates.kernelOverheadSeconds), atPeak: Seconds(atPeak))
    }
}
