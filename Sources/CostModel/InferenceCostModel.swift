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
/// overhead)` + the device class's per-step overhead. Energy = every device's held-idle power over
/// the step, plus for the devices at work `(peak − idle) power × Deployment.dynamicSeconds`: with
/// the class's power model, compute and memory weighted by how hard each drives the board
/// (docs/notes/device-classes.md#power); without one, the larger fraction of peak compute or peak
/// bandwidth.
public struct InferenceCostModel: StepCostModel {
    public let deployment: Deployment
    /// Sums of the context-independent operators of decode-only steps, by batch size: a
    /// decode-only step of `b` sequences differs from another of `b` only in its attention, so
    /// the simulator prices the rest once. Both paths add the same terms in the same order, so
    /// a step costs the same, to the bit, with or without the table.
    private let decodeTable: [Sums]
    /// The deployment's attention constants: a decode-only step prices its one context-dependent
    /// operator directly (`addContextDependent`).
    private let attention: AttentionTerms
    /// Whether that direct path applies: no processing-in-memory split, no data-parallel attention.
    private let directDecodeAttention: Bool

    /// - Parameter decodeBatchTable: the largest decode batch to tabulate (the scheduler's
    ///   `maxBatchSize`); 0, the default, tabulates nothing (for one-off predictions).
    public init(deployment: Deployment, decodeBatchTable: Int = 0) {
        self.deployment = deployment
        attention = deployment.attentionTerms()
        directDecodeAttention = deployment.pimPlacement == .none && deployment.attentionDataParallel == 1
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

    /// Running sums of one step's operator times by what bounds them, the time of operators run
    /// by the memory's own engine (processing in memory), and the busy time for energy.
    private struct Sums {
        var compute = 0.0, memory = 0.0, communication = 0.0, overhead = 0.0
        /// Time of the communication operators, whatever bounds them (a tiny transfer is bound
        /// by its launch overhead but is still communication).
        var communicationOperators = 0.0
        /// Of that, what the engine runs beside the step's compute and memory work.
        var hidden = 0.0
        var inMemory = 0.0
        var busy = 0.0
        var host: Double { compute + memory + communication + overhead - hidden }
    }

    /// `addSplit` for a device whose operators all run on one engine at its own prices (every
    /// GPU and CPU): the loop a simulation runs for each step.
    private static func add(_ deployment: Deployment, _ step: StepWorkload, _ part: OperatorPart, to sums: inout Sums) {
        if deployment.pimPlacement != .none { return addSplit(deployment, step, part, to: &sums, onHost: false) }
        deployment.forEachOperator(in: step, part) { op in add(deployment, op, to: &sums) }
    }

    /// One operator of `add`, priced and summed.
    @inline(__always) private static func add(_ deployment: Deployment, _ op: Operator, to sums: inout Sums) {
        add(deployment, op, deployment.cost(of: op), inMemory: false, to: &sums)
    }

    /// One operator at price `c` summed by what bounds it (or as the memory engine's, `inMemory`).
    @inline(__always) private static func add(_ deployment: Deployment, _ op: Operator, _ c: OperatorCost, inMemory: Bool,
                                              to sums: inout Sums) {
        let repeats = Double(op.repeats)
        let t = c.total.value * repeats
        if op.kind.isCommunication { sums.communicationOperators += t }
        if inMemory {
            sums.inMemory += t
        } else {
            switch c.boundBy {
            case .compute: sums.compute += t
            case .memory: sums.memory += t
            case .communication: sums.communication += t
            case .overhead: sums.overhead += t
            }
        }
        // Busy time weighted by how hard the operator drives the device (`dynamicSeconds`).
        sums.busy += repeats * deployment.dynamicSeconds(op, c)
    }

    private static func addSplit(_ deployment: Deployment, _ step: StepWorkload, _ part: OperatorPart, to sums: inout Sums,
                                 onHost: Bool) {
        let pricer = deployment.pricer
        deployment.forEachOperator(in: step, part) { op in
            let (engine, c) = onHost ? (.host, RooflinePricer().cost(of: op, in: deployment)) : pricer.placed(op, in: deployment)
            add(deployment, op, c, inMemory: engine == .memory, to: &sums)
        }
    }

    /// `add` of the context-dependent operators of `step`: of a decode-only step, when the
    /// direct path applies, its decode attention alone, built from the cached terms.
    @inline(__always) private func addContextDependent(_ step: StepWorkload, to sums: inout Sums) {
        if directDecodeAttention && step.prefillTokens == 0 && step.decodeTokens > 0 {
            Self.add(deployment, attention.decode(step), to: &sums)
        } else {
            Self.add(deployment, step, .contextDependent, to: &sums)
        }
    }

    /// The sums of every operator of `step`, the decode table standing in for the
    /// context-independent ones of a decode-only step.
    private func sums(of step: StepWorkload, onHost: Bool = false) -> Sums {
        var sums: Sums
        if !onHost && step.prefillTokens == 0 && step.decodeTokens < decodeTable.count {
            sums = decodeTable[step.decodeTokens]
        } else {
            sums = Sums()
            if onHost { Self.addSplit(deployment, step, .contextIndependent, to: &sums, onHost: true) }
            else { Self.add(deployment, step, .contextIndependent, to: &sums) }
        }
        if onHost { Self.addSplit(deployment, step, .contextDependent, to: &sums, onHost: true) }
        else { addContextDependent(step, to: &sums) }
        return sums
    }

    /// Prices `step` by its schedule (`ExecutionPricer.schedule(of:in:)`):
    /// - serial: the sum of its operators plus the per-step overhead;
    /// - a filled pipeline of `S` stages: one pass of a micro-batch of `⌈B / m⌉` sequences,
    ///   `m = min(B, S)` micro-batches in flight (each busy on its own stage);
    /// - interleaved sub-batches (host and memory engines): two half-batches,
    ///   `2·max(host, memory) + min(host, memory) / layers`, when that is faster than the
    ///   whole batch on one engine after the other;
    /// - concurrent engines: the prefill part on the host and the decode part in memory at once.
    public func cost(of step: StepWorkload) -> StepCost {
        guard !step.isEmpty else { return StepCost(duration: .zero, energy: .zero, boundBy: .overhead) }
        var s: Sums
        var inFlight = 1.0
        var duration: Double
        let stepOverhead = deployment.rates.stepOverheadSeconds
        switch deployment.schedule(of: step) {
        case .serial:
            return serialCost(sums(of: step))
        case .filledPipeline(let stages):
            let m = max(1, min(step.decodeSequences + step.prefillSequences, stages))
            s = sums(of: m > 1 ? step.microBatch(m) : step)
            inFlight = Double(m)
            s.overhead += stepOverhead
            duration = s.host + s.inMemory
        case .interleavedSubBatches:
            // Interleaving reads every weight once per sub-batch; a runtime interleaves only when
            // that pays, so the cheaper of the two schedules is taken.
            let half = sums(of: step.microBatch(2))
            let interleaved = 2 * max(half.host, half.inMemory) + min(half.host, half.inMemory) / Double(deployment.model.layers)
            let whole = sums(of: step)
            if interleaved < whole.host + whole.inMemory {
                s = half
                inFlight = 2
                duration = interleaved + stepOverhead
            } else {
                s = whole
                duration = whole.host + whole.inMemory + stepOverhead
            }
            s.overhead += stepOverhead
        case .concurrentEngines:
            let (prefill, decode) = step.splitPrefillDecode()
            let host = prefill.isEmpty ? Sums() : sums(of: prefill, onHost: true)
            s = decode.isEmpty ? Sums() : sums(of: decode)
            duration = max(host.host, s.host + s.inMemory)
            s.compute += host.compute; s.memory += host.memory; s.communication += host.communication; s.overhead += host.overhead
            s.communicationOperators += host.communicationOperators
            s.busy += host.busy
            s.overhead += stepOverhead
            duration += stepOverhead
        }
        return finished(s, duration: duration, inFlight: inFlight)
    }

    /// A serial step's price from its operators' sums: their time plus the per-step overhead,
    /// less the communication the engine hides behind compute and memory work.
    @inline(__always) private func serialCost(_ sums: Sums) -> StepCost {
        var s = sums
        let stepOverhead = deployment.rates.stepOverheadSeconds
        let overlap = deployment.rates.communicationOverlap
        if overlap > 0 && s.communicationOperators > 0 {
            // The engine runs that share of its communication beside the step's own work.
            s.hidden = min(overlap * s.communicationOperators, s.compute + s.memory)
        }
        let duration: Double
        if deployment.rates.stepOverheadOverlaps {
            duration = max(s.host + s.inMemory, stepOverhead)
            s.overhead += max(0, stepOverhead - s.host - s.inMemory)
        } else {
            s.overhead += stepOverhead
            duration = s.host + s.inMemory
        }
        return finished(s, duration: duration, inFlight: 1)
    }

    /// The step's cost from its final sums: what bounds it, its energy, its exposed communication.
    @inline(__always) private func finished(_ s: Sums, duration: Double, inFlight: Double) -> StepCost {
        let bound: Bound
        let memory = s.memory + s.inMemory
        if s.compute >= max(memory, s.communication, s.overhead) { bound = .compute }
        else if memory >= max(s.communication, s.overhead) { bound = .memory }
        else if s.communication >= s.overhead { bound = .communication }
        else { bound = .overhead }
        return StepCost(duration: Seconds(duration), energy: energy(duration: duration, busy: s.busy * inFlight), boundBy: bound,
                        communication: Seconds(max(0, s.communicationOperators - s.hidden)))
    }

    /// A run of decode-only steps, priced as `cost(of:)` prices each (the same terms in the
    /// same order) but with the schedule, the table lookup and the context-independent sums
    /// settled once for the run.
    public func costs(ofDecodeRun step: StepWorkload, contextGrowth: Int, count: Int, into costs: inout [StepCost]) {
        guard count > 0 else { return }
        let serial: Bool
        switch deployment.executionModel {
        case .roofline, .measuredKernels, .shapedKernels: serial = true
        case .sramPipeline, .wafer, .pimHybrid, .fpgaDataflow: serial = false
        }
        guard serial, deployment.pimPlacement == .none, step.prefillTokens == 0, step.decodeTokens > 0,
              step.decodeTokens < decodeTable.count else {
            for i in 1...count {
                var s = step
                s.decodeContextTokens += i * contextGrowth
                costs.append(cost(of: s))
            }
            return
        }
        let independent = decodeTable[step.decodeTokens]
        var s = step
        for _ in 1...count {
            s.decodeContextTokens += contextGrowth
            var sums = independent
            addContextDependent(s, to: &sums)
            costs.append(serialCost(sums))
        }
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
            floor += op.memoryBytes.value / deployment.peakBandwidth(of: op) * Double(op.repeats)
        }
        let cost = cost(of: step)
        let d = cost.duration.value
        let (peak, _) = deployment.device.peakCompute(for: deployment.precision.activations)
        // The listed FLOPs and bytes are one tensor-parallel rank's over all stages; an SRAM
        // layout lists the whole model, spread over all its chips.
        let spread = Double(deployment.layout?.units ?? deployment.pipelineParallel)
        return StepBreakdown(
            operators: rows, stepOverhead: Seconds(deployment.rates.stepOverheadSeconds), cost: cost,
            flopsPerDevice: FLOPs(flops), bytesPerDevice: Bytes(bytes), memoryFloor: Seconds(floor),
            mfu: d > 0 ? flops / (d * peak.value) / spread : 0,
            // Processing in memory reads its operators' bytes at the banks' bandwidth: the floor
            // already weighs each byte by the bandwidth it is read at.
            mbu: d > 0 ? (deployment.pimPlacement == .none ? bytes / (d * deployment.device.mainMemory.bandwidthBytesPerSecond)
                                                              : floor / d) / spread : 0)
    }

    private func energy(duration: Double, busy: Double) -> Joules {
        let power = deployment.device.power
        let idle = deployment.heldIdleWatts * duration * Double(deployment.deviceCount)
        // Each operator runs on the tensor-parallel ranks of one stage at a time.
        let dynamic = (power.peakWatts - power.idleWatts) * busy * deployment.activeDevicesPerOperator
        return Joules(idle + dynamic)
    }
}
