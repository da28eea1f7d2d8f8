import HardwareModel

extension Deployment {
    /// Achievable compute rate for `op`: the device's peak for the operator's arithmetic
    /// type, times the device class's efficiency at the operator's row count.
    
    public func achievableCompute(for op: Operator) -> FLOPsPerSecond {
        let (peak, type) = device.peakCompute(for: op.arithmetic)
        return peak * deviceClass.computeEfficiency(rows: max(op.rows, 1), type: type)
    }

    /// Achievable memory bandwidth for a transfer of `bytes` from the weight-holding tier.
    
    public func achievableBandwidth(for bytes: Bytes) -> BytesPerSecond {
        device.mainMemory.bandwidth * deviceClass.bandwidthEfficiency(bytes: bytes.value)
    }

    /// Prices one execution of `op` on one device:
    /// `max(FLOPs / achievable compute, bytes / achievable bandwidth) + kernel overhead`,
    /// and for collectives the alpha-beta time on the link.
    ///
    /// Ring all-reduce over `n` devices sends `2(n−1)/n` of the data per device in `2(n−1)`
    /// latency-bound steps (Patarasuk & Yuan, JPDC 2009); a pipeline transfer is one message.
    
    public func cost(of op: Operator) -> OperatorCost {
        let overhead = Seconds(deviceClass.kernelOverheadSeconds)
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
        let compute = op.flops.value > 0 ? op.flops / achievableCompute(for: op) : .zero
        let bytes = op.memoryBytes
        let memory = bytes.value > 0 ? bytes / achievableBandwidth(for: bytes) : .zero
        return OperatorCost(compute: compute, memory: memory, communication: .zero, overhead: overhead)
    }
}
