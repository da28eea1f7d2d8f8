import Foundation
import HardwareModel

/// Chips that hold every weight and the KV cache in on-chip SRAM, layers spread across them and
/// stepped by a compiler schedule over a chip-to-chip fabric (Groq LPU).
///
/// - A layer's operators run on the `max(1, units / layers)` chips that hold it, at their
///   aggregate compute (the class's fraction and row fall-off: a weight-stationary matrix unit
///   reloads its weights for every few rows, so one row reaches `1 / (1 + n½)` of peak) and SRAM
///   bandwidth. The embedding and the LM head run on the chips their weights fill.
/// - A layer split over `n > 1` chips all-reduces twice (after attention and after the FFN): a
///   scheduled exchange inside each fully connected group of `devicesPerNode` chips, a
///   reduce-scatter and an all-gather of one hop each per level of groups,
///   `2·⌈log_r n⌉·(latency + (n−1)/n · bytes / bandwidth)` with `r = devicesPerNode`. No launch overheads beyond the
///   class's: the schedule is static.
/// - A token crosses `hops` chip boundaries between stages, one message each.
/// - Throughput comes from filling the pipeline: a step of `B` sequences costs one pass of
///   `⌈B / min(B, stages)⌉` (`StepSchedule.filledPipeline`).
public struct SRAMPipelinePricer: ExecutionPricer {
    public init() {}

    public func cost(of op: Operator, in d: Deployment) -> OperatorCost {
        guard let layout = d.layout else { return RooflinePricer().cost(of: op, in: d) }
        switch op.kind {
        case .allReduce:
            let n = Double(d.collectiveRanks)
            guard n > 1, let link = d.tensorLink else { return .zero }
            // One reduce-scatter and one all-gather hop per level of fully connected groups of
            // `devicesPerNode` chips (a node, then groups of nodes).
            let radix = Double(max(2, d.device.interconnect.devicesPerNode))
            var levels = 1.0
            while pow(radix, levels) < n { levels += 1 }
            let time = 2 * levels * (link.latencySeconds + (n - 1) / n * op.communicationBytes.value
                / (link.bandwidthBytesPerSecondPerDirection * link.achievableFraction))
            return OperatorCost(compute: .zero, memory: .zero, communication: Seconds(time), overhead: Seconds(d.rates.kernelOverheadSeconds))
        case .pipelineTransfer:
            return SpatialShare.hop(op, in: d)
        default:
            let units: Double
            if op.kind == .lmHead || op.kind == .embedding {
                units = max(1, op.weightBytes.value / layout.usablePerUnit)
            } else {
                units = max(1, layout.unitsPerLayer)
            }
            return SpatialShare.price(op, over: units, in: d)
        }
    }

    public func schedule(of step: StepWorkload, in d: Deployment) -> StepSchedule {
        .filledPipeline(stages: d.layout?.stages ?? 1)
    }
}

/// Prices an operator split evenly over `units` chips (or fractions of a wafer) on the roofline,
/// and a token's hop from one unit to the next.
enum SpatialShare {
    /// One message per stage boundary on the layout's link; no launch cost (the schedule is static).
    static func hop(_ op: Operator, in d: Deployment) -> OperatorCost {
        guard let link = d.pipelineLink else { return .zero }
        return OperatorCost(compute: .zero, memory: .zero, communication: link.transferTime(op.communicationBytes), overhead: .zero)
    }

    static func price(_ op: Operator, over units: Double, in d: Deployment) -> OperatorCost {
        var share = op
        share.flops = FLOPs(op.flops.value / units)
        share.weightBytes = op.weightBytes / units
        share.activationBytes = op.activationBytes / units
        share.kvBytes = op.kvBytes / units
        share.activationElements = op.activationElements / units
        return RooflinePricer.roofline(share, flops: share.flops.value, bytes: share.memoryBytes.value,
                                       compute: d.computeRates(op.arithmetic), in: d,
                                       fixed: Seconds(d.rates.kernelOverheadSeconds))
    }
}
