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

    /// A tensor-parallel collective (ring, or hierarchical across nodes), an expert all-to-all,
    /// or a pipeline transfer (one message) on the deployment's link, plus one kernel overhead;
    /// free on one device.
    @inline(__always) static func communication(_ op: Operator, in d: Deployment) -> OperatorCost {
        let bytes = op.communicationBytes.value
        let time: Double
        switch op.kind {
        case .pipelineTransfer:
            guard let link = d.pipelineLink else { return .zero }
            time = link.transferTime(op.communicationBytes).value
        case .allReduce:
            guard let t = ring(bytes, passes: 2, in: d) else { return .zero }
            time = t
        case .allGather, .reduceScatter:
            guard let t = ring(bytes, passes: 1, in: d) else { return .zero }
            time = t
        case .allToAll:
            guard let t = allToAll(bytes, in: d) else { return .zero }
            time = t
        default:
            return .zero
        }
        return OperatorCost(compute: .zero, memory: .zero, communication: Seconds(time), overhead: Seconds(d.rates.kernelOverheadSeconds))
    }

    /// A ring all-reduce (`passes` 2) or its half, a reduce-scatter or all-gather (`passes` 1),
    /// of a `bytes` buffer over the tensor-parallel group; nil on one device.
    @inline(__always) static func ring(_ bytes: Double, passes: Double, in d: Deployment) -> Double? {
        let n = Double(d.tensorParallel)
        guard n > 1, let link = d.tensorLink else { return nil }
        let allReduce: Double
        if let (up, g) = d.tensorNodeLink {
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
            allReduce = inside + across
        } else {
            let steps = 2 * (n - 1)
            allReduce = steps * link.latencySeconds
                + steps / n * bytes / (link.bandwidthBytesPerSecondPerDirection * link.achievableFraction)
        }
        // A reduce-scatter or an all-gather is one of the all-reduce's two halves.
        return allReduce * (passes / 2)
    }

    /// An all-to-all in which each device sends `bytes` spread evenly over the other `n − 1`,
    /// every pair at once (NCCL's grouped send/receive): one latency plus the busiest link's
    /// bytes. Across nodes, `(g − 1)/(n − 1)` of them stay on the scale-up link and the rest
    /// cross the scale-out link, both at once.
    @inline(__always) static func allToAll(_ bytes: Double, in d: Deployment) -> Double? {
        let n = Double(d.tensorParallel)
        guard n > 1, let link = d.tensorLink else { return nil }
        let rate = link.bandwidthBytesPerSecondPerDirection * link.achievableFraction
        guard let (up, g) = d.tensorNodeLink else { return link.latencySeconds + bytes / rate }
        let peers = Double(g) - 1
        let upRate = up.bandwidthBytesPerSecondPerDirection * up.achievableFraction
        let inside = bytes * peers / (n - 1) / upRate, across = bytes * (n - 1 - peers) / (n - 1) / rate
        return max(up.latencySeconds, link.latencySeconds) + max(inside, across)
    }
}
