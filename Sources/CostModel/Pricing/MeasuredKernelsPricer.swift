import HardwareModel

/// A CPU running the executor's kernels: the roofline, with the figures `infersim calibrate`
/// measured on this host in place of the class's estimates where the profile has them.
///
/// - Attention operators run at the measured attention kernel's decode or prefill rate, with its
///   fixed time per operator and per sequence (`DeviceProfile.attentionKernel`).
/// - The FFN activation function's elements cost `elements / activationElementsPerSecond`
///   (`DeviceProfile.activationElementsPerSecond`: libm `expf` is ~40 cycles, not one FLOP).
/// - A weight GEMM whose kernel format has a measured streaming rate
///   (`DeviceProfile.weightStreamBytesPerSecond`) reads its weights at that rate.
/// - A weight GEMM over more than one activation row adds `exposedMemoryFraction · weight bytes /
///   peak bandwidth` to its compute before the `max`: a row-group kernel streams a group of
///   weight rows while computing the first activation row and computes the others from cache
///   (`DeviceProfile.exposedMemoryFraction`, else the class's).
///
/// Without any measured figure this is the roofline plus the class's exposed-memory fraction.
public struct MeasuredKernelsPricer: ExecutionPricer {
    public init() {}

    @inline(__always) public func cost(of op: Operator, in d: Deployment) -> OperatorCost {
        if op.kind.isCommunication { return RooflinePricer.communication(op, in: d) }
        let rates = d.rates
        let r: PricingRates.Compute
        var fixed = Seconds(rates.kernelOverheadSeconds)
        switch op.kind {
        case .attentionDecode, .attentionPrefill:
            let attention = op.kind == .attentionDecode ? rates.attentionDecode : rates.attentionPrefill
            r = op.arithmetic == attention.arithmetic ? attention : d.computeRates(op.arithmetic)
            fixed = Seconds(rates.attentionOverheadSeconds + op.sequences * rates.attentionPerSequenceSeconds)
        default: r = d.computeRates(op.arithmetic)
        }
        let rows = max(op.rows, 1)
        // Activation-function elements at the measured rate, weights of a GEMM at its kernel's
        // measured streaming rate; the rest of the FLOPs and bytes on the roofline.
        let activations = rates.activationElementsPerSecond > 0 ? op.activationElements : 0
        let streamed = r.weightStream != nil && op.kind.isWeightGEMM ? op.weightBytes.value : 0
        let flops = op.flops.value
        let bytes = op.memoryBytes.value
        let extraCompute = activations > 0 ? activations / rates.activationElementsPerSecond : 0
        var extraMemory = 0.0
        if streamed > 0, let stream = r.weightStream { extraMemory = streamed / stream }
        var exposed = 0.0
        if rows > 1 && op.kind.isWeightGEMM { exposed = rates.exposedMemoryFraction * op.weightBytes.value / rates.memoryBandwidth }
        return RooflinePricer.roofline(op, flops: flops - activations, bytes: bytes - streamed,
                                       compute: r, in: d, fixed: fixed,
                                       extraCompute: extraCompute, extraMemory: extraMemory, exposed: exposed)
    }
}
