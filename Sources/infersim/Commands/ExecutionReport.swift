import CostModel
import HardwareModel

/// What `explain` says about a device that does not execute as a plain roofline: how an SRAM
/// machine's chip count was reached and what bounds a token, what a PIM placement puts in
/// memory, how an FPGA design's datapath and memory tiers are used.
enum ExecutionReport {
    static func lines(_ d: Deployment, model: InferenceCostModel, decode: StepWorkload, context: Int) -> [String] {
        var lines: [String] = []
        var single = StepWorkload()
        single.addDecode(contextLength: context)
        switch d.executionModel {
        case .roofline, .measuredKernels:
            break
        case .shapedKernels:
            if let engine = d.engine, let fit = d.kernelFit {
                lines.append("Execution model shapedKernels: kernel efficiencies of engine \(engine.name) fitted on \(d.device.name) (\(fit.provenance.points) points, median error \(Format.percent(fit.provenance.medianAbsError)); \(fit.provenance.inputs.joined(separator: ", ")))")
            }
        case .sramPipeline, .wafer:
            guard let layout = d.layout else { break }
            let b = model.breakdown(of: single)
            let token = b.cost.duration.value
            let hops = b.operators.filter { $0.op.kind.isCommunication }.reduce(0.0) { $0 + $1.totalTime.value }
            let batch = model.cost(of: decode)
            lines.append("Execution model \(d.executionModel.rawValue): \(layout.derivation).")
            lines.append("  one token (batch 1) crosses \(layout.stages) stages: \(Format.ms(token)) per token = \(Format.ms(token / Double(layout.stages))) per stage on average, of which \(Format.ms(hops)) is \(d.executionModel == .wafer ? "wafer-to-wafer transfer" : "chip-to-chip hops and all-reduces") (\(Format.percent(hops / token))); bound by \(b.cost.boundBy.rawValue)")
            lines.append("  \(decode.decodeTokens) sequence(s) fill \(min(decode.decodeTokens, layout.stages)) of the \(layout.stages) stages: \(Format.ms(batch.duration.value)) per step, \(Format.fixed(Double(decode.decodeTokens) / batch.duration.value, 1)) tokens/s in all, \(Format.fixed(1 / batch.duration.value, 1)) per sequence; bound by \(batch.boundBy.rawValue)")
        case .pimHybrid:
            guard let pim = d.device.pim else { break }
            var inMemory: [String] = []
            d.forEachOperator(in: decode) { op in
                if d.pricer.engine(of: op, in: d) == .memory { inMemory.append(op.name) }
            }
            lines.append("Execution model pimHybrid, placement \(d.pimPlacement.rawValue): memory computes at \(Format.fixed(pim.internalBandwidthBytesPerSecond / 1e12, 2)) TB/s inside the banks (\(Format.fixed(pim.internalBandwidthBytesPerSecond / d.device.mainMemory.bandwidthBytesPerSecond, 1))× the \(Format.fixed(d.device.mainMemory.bandwidthBytesPerSecond / 1e12, 3)) TB/s the host reads) with \(Format.fixed(pim.macFLOPsPerSecond / 1e12, 2)) TFLOP/s of MACs")
            lines.append("  decode operators in memory: \(inMemory.isEmpty ? "none" : inMemory.joined(separator: ", "))")
        case .fpgaDataflow:
            guard let design = d.device.fpga else { break }
            let peak = design.peakFLOPsPerSecond(for: d.precision.gemmArithmetic(weightFormat: d.precision.weights)) ?? 0
            var s = "Execution model fpgaDataflow: \(design.dspSlices) DSPs at \(Format.fixed(design.clockHertz / 1e6, 0)) MHz = \(Format.fixed(peak / 1e12, 2)) TOP/s for the weight GEMMs (\(Format.percent(design.computeFraction)) reached), HBM at \(Format.percent(design.bandwidthFraction)) of peak"
            if let sp = design.sparsity { s += "; \(sp.n):\(sp.m) sparse weights (\(Format.fixed(sp.indexBits, 1)) index bits each)" }
            if d.fpgaSpillFraction > 0, let tier = d.spillTier { s += "; \(Format.percent(d.fpgaSpillFraction)) of the weights spill to \(tier.name)" }
            lines.append(s)
        }
        return lines
    }
}

/// The communication of priced steps, per layer (per call) and per step, for `predict` and `explain`.
enum CommunicationLines {
    static func text(_ steps: [(String, StepBreakdown)], _ d: Deployment) -> [String] {
        var lines: [String] = []
        for (label, b) in steps {
            let c = b.communication(in: d)
            guard !c.lines.isEmpty, c.total.value > 0 else { continue }
            let step = b.cost.duration.value
            var s = "  \(label): \(Format.ms(c.total.value)) a step (\(Format.percent(c.total.value / step)) of \(Format.ms(step)))"
            if c.hidden.value > 0 { s += ", \(Format.ms(c.hidden.value)) of it hidden behind compute by the engine" }
            lines.append(s)
            for l in c.lines {
                lines.append("    \(l.name): \(l.calls) × \(Format.fixed(l.perCall.value * 1e6, 1)) µs (\(Format.fixed(l.bytesSentPerCall.value / 1e6, 3)) MB sent per device each) — \(l.route)")
            }
        }
        return lines.isEmpty ? [] : ["Communication (per call: one layer's collective or one stage boundary)"] + lines
    }

    static func json(_ steps: [(String, StepBreakdown)], _ d: Deployment) -> String {
        var w = JSONWriter()
        for (label, b) in steps {
            let c = b.communication(in: d)
            var o = JSONWriter()
            o.add("total_ms", c.total.value * 1e3)
            o.add("exposed_ms", c.exposed.value * 1e3)
            o.add("hidden_ms", c.hidden.value * 1e3)
            o.addRaw("operators", JSONWriter.array(c.lines.map { l in
                var x = JSONWriter()
                x.add("name", l.name)
                x.add("calls", l.calls)
                x.add("per_call_ms", l.perCall.value * 1e3)
                x.add("per_step_ms", l.perStep.value * 1e3)
                x.add("bytes_per_call_per_device", l.bytesPerCall.value)
                x.add("bytes_sent_per_call_per_device", l.bytesSentPerCall.value)
                x.add("route", l.route)
                return x.rendered(indent: "      ")
            }))
            w.addRaw(label, o.rendered(indent: "    "))
        }
        return w.rendered(indent: "  ")
    }
}
