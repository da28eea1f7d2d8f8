import HardwareModel

/// A wafer-scale engine (Cerebras WSE): the model's weights and KV cache in on-wafer SRAM, each
/// layer laid out as its own region of the wafer, several wafers pipelined when one does not
/// hold the model.
///
/// - Every layer is a pipeline stage that owns `wafers / layers` of a wafer's cores and SRAM
///   bandwidth, so one token at a time uses a `1 / layers` share of the wafer; reductions inside
///   a region are part of its compute (the on-wafer fabric), so there are no all-reduces.
/// - The embedding and LM head own the share of a wafer their weights fill (at least a layer's).
/// - A token crosses `wafers − 1` wafer boundaries over the scale-out fabric.
/// - Throughput comes from filling the layer pipeline: a step of `B` sequences costs one pass of
///   `⌈B / min(B, layers)⌉` (`StepSchedule.filledPipeline`).
public struct WaferPricer: ExecutionPricer {
    public init() {}

    public func cost(of op: Operator, in d: Deployment) -> OperatorCost {
        guard let layout = d.layout else { return RooflinePricer().cost(of: op, in: d) }
        switch op.kind {
        case .allReduce:
            return .zero
        case .pipelineTransfer:
            return SpatialShare.hop(op, in: d)
        default:
            let share: Double
            if op.kind == .lmHead || op.kind == .embedding {
                share = max(layout.unitsPerLayer, op.weightBytes.value / layout.usablePerUnit)
            } else {
                share = layout.unitsPerLayer
            }
            return SpatialShare.price(op, over: share, in: d)
        }
    }

    public func schedule(of step: StepWorkload, in d: Deployment) -> StepSchedule {
        .filledPipeline(stages: d.layout?.stages ?? 1)
    }
}
