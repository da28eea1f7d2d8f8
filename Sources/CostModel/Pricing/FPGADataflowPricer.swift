import HardwareModel

/// An FPGA running a configured LLM datapath (`FPGADesign`, FlightLLM style).
///
/// - Compute: the design's MACs (`dspSlices · macsPerDSPPerCycle · clock`, per arithmetic type)
///   times the design's reached fraction, with the class's row fall-off; an N:M-sparse datapath
///   skips the pruned weights' MACs (`n / m` of a weight GEMM's FLOPs).
/// - Memory: weights stream from HBM at the design's reached fraction of its peak; weights that
///   do not fit the HBM tier spill to the next tier (DDR) and stream from there in parallel, so
///   a weight GEMM costs `max(HBM bytes / HBM rate, DDR bytes / DDR rate)` for its weights. An
///   N:M-sparse matrix stores `n / m` of its weights plus `indexBits` per kept weight.
/// - Activations stay on chip during decode (FlightLLM's always-on-chip decode); the KV cache
///   and activations otherwise move at the HBM rate.
public struct FPGADataflowPricer: ExecutionPricer {
    public init() {}

    public func cost(of op: Operator, in d: Deployment) -> OperatorCost {
        guard let design = d.device.fpga else { return RooflinePricer().cost(of: op, in: d) }
        if op.kind.isCommunication { return RooflinePricer.communication(op, in: d) }
        let cls = d.deviceClass
        let sparse = op.kind.isWeightGEMM ? design.sparsity : nil
        let kept = sparse?.keptFraction ?? 1
        let peak = design.peakFLOPsPerSecond(for: op.arithmetic) ?? d.computeRates(op.arithmetic).peakFLOPsPerSecond
        let rows = max(op.rows, 1)
        let flops = op.flops.value * kept
        let compute = flops > 0 ? flops * (rows + cls.halfComputeRows) / (peak * design.computeFraction * rows) : 0
        // Weight bytes as stored: kept weights plus their position metadata.
        var weights = op.weightBytes.value * kept
        if let s = sparse, op.weightBytes.value > 0 {
            let elements = op.weightBytes.value / d.precision.weights.bytesPerElement * kept
            weights += elements * s.indexBits / 8
        }
        let hbm = d.device.mainMemory
        let spill = d.fpgaSpillFraction
        let hbmRate = hbm.bandwidthBytesPerSecond * design.bandwidthFraction
        var memory = (weights * (1 - spill) + op.kvBytes.value + cls.halfBandwidthBytes) / hbmRate
        if spill > 0, let ddr = d.spillTier {
            memory = max(memory, weights * spill / (ddr.bandwidthBytesPerSecond * design.bandwidthFraction))
        }
        let atPeak = max(flops / peak, (weights + op.kvBytes.value) / hbm.bandwidthBytesPerSecond)
        return OperatorCost(compute: Seconds(compute), memory: Seconds(memory), communication: .zero,
                            overhead: Seconds(d.rates.kernelOverheadSeconds), atPeak: Seconds(atPeak))
    }
}
