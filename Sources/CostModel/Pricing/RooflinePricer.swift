import HardwareModel

/// The roofline of a kernel-at-a-time device (GPUs, TPUs, Apple silicon): every operator costs
/// `max(FLOPs / achievable compute, bytes / achievable bandwidth) + kernel overhead`, and
/// collectives cost by the alpha-beta model on their link.
///
/// Achievable compute is the device's peak for the operator's arithmetic type times the class's
/// fraction and its row fall-off `rows / (rows + n½)`; achievable bandwidth is the weight tier's
/// peak times the class's fraction and its transfer fall-off `b / (b + b½)` (`DeviceClassProfile`).
///
/// Ring all-reduce over `n` devices sends `2(n−1)/n` of the data per device in `2(n−1)`
/// latency-bound steps (Patarasuk & Yuan, JPDC 2009); a pipeline transfer is one message. A
/// tensor-parallel group that spans nodes (`g` ranks in each of `m` nodes) all-reduces
/// hierarchically, as NCCL does: a reduce-scatter inside each node on the scale-up link, a ring
/// all-reduce of each rank's `1/g` share across the nodes on the scale-out link (each rank on
/// its own NIC), and an all-gather inside each node.
public struct RooflinePricer: ExecutionPricer {
    public init() {}

    @inline(__always) public func cost(of op: Operator, in d: Deployment) -> OperatorCost {
        if op.kind.isCommunication { return Self.communication(op, in: d) }
        let r = d.computeRates(op.arithmetic)
        return Self.roofline(op, flops: op.flops.value, bytes: op.memoryBytes.value, compute: r, in: d,
                             fixed: Seconds(d.rates.kernelOverheadSeconds))
    }

    /// The roofline of `op` with `flops` at `compute`'s achievable rate and `bytes` at the weight
    /// tier's peak bandwidth times the class's achievable fraction; the peak-rate time
    /// (`atPeak`, for energy) counts the operator's own FLOPs and bytes at the same peaks.
    @inline(__always) static func roofline(_ op: Operator, flops: Double, bytes: Double, compute r: PricingRates.Compute,
                                           in d: Deployment, fixed: Seconds,
                                           extraCompute: Double = 0, extraMemory: Double = 0, exposed: Double = 0) -> OperatorCost {
        let cls = d.deviceClass
        let bandwidth = d.rates.memoryBandwidth
        let rows = max(op.rows, 1)
        var compute = op.flops.value > 0 ? flops * (rows + cls.halfComputeRows) / (r.peakFLOPsPerSecond * r.fraction * rows) : 0
        if extraCompute > 0 { compute += extraCompute }
        var memory = op.memoryBytes.value > 0 ? (bytes + cls.halfBandwidthBytes) / (bandwidth * cls.bandwidthFraction) : 0
        if extraMemory > 0 { memory += extraMemory }
        let atPeak = max(op.flops.value / r.peakFLOPsPerSecond, op.memoryBytes.value / bandwidth)
        return OperatorCost(compute: Seconds(compute), memory: Seconds(memory), communication: .zero, overhead: fixed,
                            atPeak: Seconds(atPeak), exposedMemory: Seconds(exposed))
    }

    /// A tensor-parallel all-reduce (ring) or a pipeline transfer (one message) on the
    /// deployment's link, plus one kernel overhead; free on one device.
    @inline(__always) static func communication(_ op: Operator, in d: Deployment) -> OperatorCost {
        let n = Double(op.kind == .allReduce ? d.tensorParallel : 2)
        guard n > 1, let link = op.kind == .allReduce ? d.tensorLink : d.pipelineLink else {
            return .zero
        }
        let time: Seconds
        if op.kind == .allReduce, let (up, g) = d.tensorNodeLink {
            let bytes = op.communicationBytes.value
            let ranks = Double(g), nodes = n / Double(g)
            let upRate = up.bandwidthBytesPerSecondPerDirection * up.achievableFraction
            let outRate = link.bandwidthBytesPerSecondPerDirection * link.achievableFraction
            // Reduce-scatter and all-gather inside the node: (g−1) steps of bytes/g each, twice.
            // Once a collective spans nodes the network proxy paces every step, so an intra-node
            // step costs at least the network's latency (NCCL src/graph/tuning.cc, ring latency:
            // `intraLat = max(intraLat, netOverhead)` when nNodes > 1).
            let stepLatency = max(up.latencySeconds, link.latencySeconds)
            let inside = 2 * ((ranks - 1) * stepLatency + (ranks - 1) / ranks * bytes / upRate)
            // Ring all-reduce of bytes/g across the nodes.
            let across = 2 * (nodes - 1) * link.latencySeconds + 2 * (nodes - 1) / nodes * (bytes / ranks) / outRate
            time = Seconds(inside + across)
        } else if op.kind == .allReduce {
            let steps = 2 * (n - 1)
            time = Seconds(steps * link.latencySeconds
                + steps / n * op.communicationBytes.value / (link.bandwidthBytesPerSecondPerDirection * link.achievableFraction))
        } else {
            time = link.transferTime(op.communicationBytes)
        }
        return OperatorCost(compute: .zero, memory: .zero, communication: time, overhead: Seconds(d.rates.kernelOverheadSeconds))
    }
}
