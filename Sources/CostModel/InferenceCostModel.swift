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
    /// Sums of the context-independent operators of decode-only steps, by batch size: a
    /// decode-only step of `b` sequences differs from another of `b` only in its attention, so
    /// the simulator prices the rest once. Both paths add the same terms in the same order, so
    /// a step costs the same, to the bit, with or without the table.
    private let decodeTable: [Sums]

    /// - Parameter decodeBatchTable: the largest decode batch to tabulate (the scheduler's
    ///   `maxBatchSize`); 0, the default, tabulates nothing (for one-off predictions).
    public init(deployment: Deployment, decodeBatchTable: Int = 0) {
        self.deployment = deployment
        var table: [Sums] = []
        if decodeBatchTable > 0 {
            table.reserveCapacity(decodeBatchTable + 1)
            table.append(Sums())
            for b in 1 ... decodeBatchTable {
                var step = StepWorkload()
                for _ in 0 ..< b { step.addDecode(contextLength: 1) }
                var sums = Sums()
                Self.add(deployment, step, .contextIndependent, to: &sums)
                table.append(sums)
            }
        }
        decodeTable = table
    }

    /// Running sums of one step's operator times by what bounds them, and its busy time for energy.
    private struct Sums {
        var compute = 0.0, memory = 0.0, communication = 0.0, overhead = 0.0
        var busy = 0.0
    }

    private static func add(_ deployment: Deployment, _ step: StepWorkload, _ part: OperatorPart, to sums: inout Sums) {
        deployment.forEachOperator(in: step, part) { op in
            let c = deployment.cost(of: op)
            let repeats = Double(op.repeats)
            let t = c.total.value * repeats
            switch c.boundBy {
            case .compute: sums.compute += t
            case .memory: sums.memory += t
            case .communication: sums.communication += t
            case .overhead: sums.overhead += t
            }
            // Busy time weighted by how hard the operator drives the device: its larger fraction
            // of peak compute or of peak bandwidth over its duration.
            sums.busy += repeats * min(max(c.compute.value, c.memory.value), c.atPeak.value)
        }
    }

    public func cost(of step: StepWorkload) -> StepCost {
        guard !step.isEmpty else { return StepCost(duration: .zero, energy: .zero, boundBy: .overhead) }
        var sums: Sums
        if step.prefillTokens == 0 && step.decodeTokens < decodeTable.count {
            sums = decodeTable[step.decodeTokens]
        } else {
            sums = Sums()
            Self.add(deployment, step, .contextIndependent, to: &sums)
        }
        Self.add(deployment, step, .contextDependent, to: &sums)
        sums.overhead += deployment.rates.stepOverheadSeconds
        let duration = sums.compute + sums.memory + sums.communication + sums.overhead
        let bound: Bound
        if sums.compute >= max(sums.memory, sums.communication, sums.overhead) { bound = .compute }
        else if sums.memory >= max(sums.communication, sums.overhead) { bound = .memory }
        else if sums.communication >= sums.overhead { bound = .communication }
        else { bound = .overhead }
        return StepCost(duration: Seconds(duration), energy: energy(duration: duration, busy: sums.busy), boundBy: bound)
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
            operators: rows, stepOverhead: Seconds(deployment.rates.stepOverheadSeconds), cost: cost,
            flopsPerDevice: FLOPs(flops), bytesPerDevice: Bytes(bytes), memoryFloor: Seconds(floor),
            mfu: d > 0 ? flops / (d * peak.value) / Double(deployment.pipelineParallel) : 0,
            mbu: d > 0 ? bytes / (d * deployment.device.mainMemory.bandwidthBytesPerSecond) / Double(deployment.pipelineParallel) : 0)
    }

    private func energy(duration: Double, busy: Double) -> Joules {
        let power = deployment.device.power
        let idle = power.idleWatts * duration * Double(deployment.deviceCount)
        // Each operator runs on the tensor-parallel ranks of one stage at a time.
        let dynamic = (power.peakWatts - power.idleWatts) * busy * Double(deployment.tensorParallel)
        return Joules(idle + dynamic)
    }
}
