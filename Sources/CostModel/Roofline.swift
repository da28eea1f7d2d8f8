import HardwareModel

extension Deployment {
    /// Prices one execution of `op` on one device:
    /// `max(FLOPs / achievable compute, bytes / achievable bandwidth) + kernel overhead`
    /// (attention at the device's measured attention kernel, its overhead and its fixed time per
    /// sequence where it has one),
    /// and for collectives the alpha-beta time on the link. Achievable compute is the device's peak
    /// for the operator's arithmetic type times the class's fraction and its row fall-off
    /// `rows / (rows + n½)`; achievable bandwidth is the main tier's peak times the class's fraction
    /// and its transfer fall-off `b / (b + b½)` (`DeviceClassProfile`), both from `rates`.
    ///
    /// The FFN activation function's elements cost `elements / activationElementsPerSecond` where
    /// the device has that measured figure.
    ///
    /// A weight GEMM whose kernel format has a measured streaming rate
    /// (`DeviceProfile.weightStreamBytesPerSecond`) reads its weights at that rate instead.
    ///
    /// Weight GEMMs with more than one activation row add `exposedMemoryFraction · weight bytes / peak
    /// bandwidth` to their compute before the `max` (`DeviceProfile.exposedMemoryFraction`).
    ///
    /// Ring all-reduce over `n` devices sends `2(n−1)/n` of the data per device in `2(n−1)`
    /// latency-bound steps (Patarasuk & Yuan, JPDC 2009); a pipeline transfer is one message.
    @inline(__always) public func cost(of op: Operator) -> OperatorCost {
        let overhead = Seconds(rates.kernelOverheadSeconds)
        if op.kind.isCommunication {
            let n = Double(op.kind == .allReduce ? tensorParallel : 2)
            guard n > 1, let link = op.kind == .allReduce ? tensorLink : pipelineLink else {
                return OperatorCost(compute: .zero, memory: .zero, communication: .zero, overhead: .zero)
            }
            let time: Seconds
            if op.kind == .allReduce {
                let steps = 2 * (n - 1)
                time = Seconds(steps * link.latencySeconds
                    + steps / n * op.communicationBytes.value / (link.bandwidthBytesPerSecondPerDirection * link.achievableFraction))
            } else {
                time = link.transferTime(op.communicationBytes)
            }
            return OperatorCost(compute: .zero, memory: .zero, communication: time, overhead: overhead)
        }
        let r: PricingRates.Compute
        var fixed = overhead
        switch op.kind {
        case .attentionDecode, .attentionPrefill:
            let attention = op.kind == .attentionDecode ? rates.attentionDecode : rates.attentionPrefill
            r = op.arithmetic == attention.arithmetic ? attention : computeRates(op.arithmetic)
            fixed = Seconds(rates.attentionOverheadSeconds + op.sequences * rates.attentionPerSequenceSeconds)
        default: r = computeRates(op.arithmetic)
        }
        let rows = max(op.rows, 1)
        let flops = op.flops.value
        let bytes = op.memoryBytes.value
        // FLOPs / (peak · fraction · rows / (rows + n½)) and bytes / (bandwidth · fraction · b / (b + b½)).
        // Activation-function elements at the device's measured rate, where it has one; weights of a
        // GEMM at its kernel's measured streaming rate, where it has one; the rest as above.
        let activations = rates.activationElementsPerSecond > 0 ? op.activationElements : 0
        let streamed = r.weightStream != nil && op.kind.isWeightGEMM ? op.weightBytes.value : 0
        var compute = flops > 0 ? (flops - activations) * (rows + deviceClass.halfComputeRows) / (r.peakFLOPsPerSecond * r.fraction * rows) : 0
        if activations > 0 { compute += activations / rates.activationElementsPerSecond }
        var memory = bytes > 0 ? (bytes - streamed + deviceClass.halfBandwidthBytes) / (rates.memoryBandwidth * deviceClass.bandwidthFraction) : 0
        if streamed > 0, let stream = r.weightStream { memory += streamed / stream }
        let atPeak = max(flops / r.peakFLOPsPerSecond, bytes / rates.memoryBandwidth)
        // A weight GEMM over more than one activation row leaves part of its stream exposed.
        var exposed = 0.0
        if rows > 1 && op.kind.isWeightGEMM { exposed = rates.exposedMemoryFraction * op.weightBytes.value / rates.memoryBandwidth }
        return OperatorCost(compute: Seconds(compute), memory: Seconds(memory), communication: .zero, overhead: fixed,
                            atPeak: Seconds(atPeak), exposedMemory: Seconds(exposed))
    }
}
