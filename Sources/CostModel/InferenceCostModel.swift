import HardwareModel

/// One operator of a step with its price, for `explain` tables.
public struct PricedOperator: Sendable {
    public var op: Operator
    /// Price of one execution.
    public var cost: OperatorCost
    /// `cost.total × op.repeats`.
    public var totalTime: Seconds { cost.total * Double(op.repeats) }
}

/// A forward step priced operator by operator.
public struct StepBreakdown: Sendable {
    public var operators: [PricedOperator]
    public var stepOverhead: Seconds
    public var cost: StepCost
    /// FLOPs and main-memory bytes of one device over the whole step.
    public var flopsPerDevice: FLOPs
    public var bytesPerDevice: Bytes
    /// Time if every operator ran at its memory-traffic time only (the bandwidth floor).
    public var memoryFloor: Seconds
    /// Model FLOPs utilisation: achieved FLOP/s over the device's peak for the arithmetic type.
    public var mfu: Double
    /// Memory bandwidth utilisation: achieved bytes/s over the peak bandwidth.
    public var mbu: Double
}

/// Prices forward steps of a deployment: the `StepCostModel` the simulator uses, and the
/// breakdowns `predict` and `explain` print.
///
/// Step time = Σ over operators of `repeats × (max(compute, memory) + communication + kernel
/// overhead)` + the device class's per-step overhead. Energy = every device's idle power over the
/// step, plus for the devices at work `(peak − idle) power × busy time × utilisation`, where an
/// operator's utilisation is its larger fraction of peak compute or peak bandwidth.
public struct InferenceCostModel: StepCostModel {
    public let deployment: Deployment

    public init(deployment: Deployment) {
        self.deployment = deployment
    }

    public func cost(of step: StepWorkload) -> StepCost {
        guard !step.isEmpty else { return StepCost(duration: .zero, energy: .zero, boundBy: .overhead) }
        var byBound = (compute: 0.0, memory: 0.0, communication: 0.0, overhead: 0.0)
        var busyEnergyTime = 0.0
        deployment.forEachOperator(in: step) { op in
            let c = deployment.cost(of: op)
            let t = c.total.value * Double(op.repeats)
            switch c.boundBy {
            case .compute: byBound.compute += t
            case .memory: byBound.memory += t
            case .communication: byBound.communication += t
            case .overhead: byBound.overhead += t
            }
            busyEnergyTime += Double(op.repeats) * utilisationTime(op, c)
        }
        let stepOverhead = deployment.deviceClass.stepOverheadSeconds
        byBound.overhead += stepOverhead
        let duration = byBound.compute + byBound.memory + byBound.communication + byBound.overhead
        let bound: Bound
        if byBound.compute >= max(byBound.memory, byBound.communication, byBound.overhead) { bound = .compute }
        else if byBound.memory >= max(byBound.communication, byBound.overhead) { bound = .memory }
        else if byBound.communication >= byBound.overhead { bound = .communication }
        else { bound = .overhead }
        return StepCost(duration: Seconds(duration), energy: energy(duration: duration, busy: busyEnergyTime), boundBy: bound)
    }

    /// The same price as `cost(of:)`, with every operator listed.
    public func breakdown(of step: StepWorkload) -> StepBreakdown {
        var rows: [PricedOperator] = []
        var flops = 0.0, bytes = 0.0, floor = 0.0
        deployment.forEachOperator(in: step) { op in
            let c = deployment.cost(of: op)
            rows.append(PricedOperator(op: op, cost: c))
            flops += op.flops.value * Double(op.repeats)
            bytes += op.memoryBytes.value * Double(op.repeats)
            floor += (op.memoryBytes / deployment.device.mainMemory.bandwidth).value * Double(op.repeats)
        }
        let cost = cost(of: step)
        let d = cost.duration.value
        let (peak, _) = deployment.device.peakCompute(for: deployment.precision.activations)
        return StepBreakdown(
            operators: rows, stepOverhead: Seconds(deployment.deviceClass.stepOverheadSeconds), cost: cost,
            flopsPerDevice: FLOPs(flops), bytesPerDevice: Bytes(bytes), memoryFloor: Seconds(floor),
            mfu: d > 0 ? flops / (d * peak.value) / Double(deployment.pipelineParallel) : 0,
            mbu: d > 0 ? bytes / (d * deployment.device.mainMemory.bandwidthBytesPerSecond) / Double(deployment.pipelineParallel) : 0)
    }

    /// Busy time of one execution weighted by how hard it drives the device: its larger
    /// fraction of peak compute or of peak bandwidth over its duration.
    private func utilisationTime(_ op: Operator, _ c: OperatorCost) -> Double {
        let t = max(c.compute.value, c.memory.value)
        guard t > 0 else { return 0 }
        let (peak, _) = deployment.device.peakCompute(for: op.arithmetic)
        let computeShare = op.flops.value / peak.value
        let memoryShare = op.memoryBytes.value / deployment.device.mainMemory.bandwidthBytesPerSecond
        return min(t, max(computeShare, memoryShare))
    }

    private func energy(duration: Double, busy: Double) -> Joules {
        let power = deployment.device.power
        let idle = power.idleWatts * duration * Double(deployment.deviceCount)
        // Each operator runs on the tensor-parallel ranks of one stage at a time.
        let dynamic = (power.peakWatts - power.idleWatts) * busy * Double(deployment.tensorParallel)
        return Joules(idle + dynamic)
    }
}
