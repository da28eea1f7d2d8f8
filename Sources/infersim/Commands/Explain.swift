import Diagnostics
import ArgumentParser
import CostModel
import Foundation
import HardwareModel
import Scenarios
import ServingMetrics

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-operator roofline tables of one prefill step and one decode step.")

    @OptionGroup var deployment: DeploymentOptions
    @OptionGroup var shape: BatchOptions
    @Flag(help: "Print one JSON object (schema: schemas/explain.schema.json).")
    var json = false
    @Option(help: "Price one arbitrary step instead: comma-separated prefill=S[@C] (a chunk of S tokens after C in the cache) and decode=B@C (B sequences at context C), e.g. prefill=512@1024,decode=64@1024.")
    var step: String?
    @Option(help: "Also draw an SVG file: the device's roofline with the prefill and decode operators, and each step's time stacked by operator class (with --step: that step's stacked time).") var plot: String?

    func run() throws {
        try OutputPaths.check([("--plot", plot)])
        if let step {
            let (workload, maxContext) = try StepSpec.parse(step)
            let d = try deployment.makeDeployment(kvTokens: workload.decodeContextTokens + workload.prefillContextTokens)
            guard maxContext <= d.model.maxContextTokens else {
                throw InputError(option: "--step", "a context of \(maxContext) tokens exceeds the \(d.model.maxContextTokens) of \(d.model.name)")
            }
            let b = InferenceCostModel(deployment: d).breakdown(of: workload)
            let outside = d.extrapolations(of: workload)
            DeploymentOptions.warn(d, outside)
            if let plot {
                let bars = Plots.breakdown([("step", b)], title: "\(d.model.name) on \(d.device.name): \(step)")
                let writer = try AtomicFileWriter(path: plot)
                try writer.write(bars.rendered())
                try writer.commit()
            }
            if json {
                var w = JSONWriter()
                w.add("hardware", deployment.hardware)
                w.add("device", d.device.name)
                w.add("model", d.model.name)
                w.add("tp", d.tensorParallel)
                w.add("pp", d.pipelineParallel)
                w.add("step", step)
                w.add("engine", d.engine?.name)
                w.addRaw("extrapolations", "[" + outside.map { JSONText.quoted($0) }.joined(separator: ", ") + "]")
                w.add("ridge_flops_per_byte", ExplainReport.ridgePoint(d))
                w.addRaw("breakdown", ExplainReport.stepJSON(b, d, description: step))
                print(w.rendered())
            } else {
                print([PredictReport.header(d), "", "Step: \(step) (\(workload.prefillTokens) prefill tokens in \(workload.prefillSequences) chunk(s), \(workload.decodeTokens) decode(s))",
                       ExplainReport.table(b, d)].joined(separator: "\n"))
            }
            return
        }
        let d = try deployment.makeDeployment(kvTokens: shape.batch * (shape.input + shape.output))
        try shape.checkContext(d.model)
        DeploymentOptions.warn(d, shape.extrapolations(d))
        if let plot {
            let model = InferenceCostModel(deployment: d)
            var prefill = StepWorkload(), decode = StepWorkload()
            for _ in 0..<shape.batch {
                prefill.addPrefillChunk(tokens: shape.input, contextBefore: 0)
                decode.addDecode(contextLength: shape.input + 1)
            }
            let (p, q) = (model.breakdown(of: prefill), model.breakdown(of: decode))
            let chart = Plots.roofline(d, prefill: p, decode: q,
                                       title: "\(d.model.name) on \(d.device.name): batch \(shape.batch), \(shape.input)-token prompts")
            let bars = Plots.breakdown([("prefill", p), ("decode", q)], title: "Step time by operator class")
            let writer = try AtomicFileWriter(path: plot)
            try writer.write(SVGPanels.stacked([(chart.rendered(), chart.height), (bars.rendered(), bars.height)]))
            try writer.commit()
        }
        print(json ? ExplainReport.json(d, hardware: deployment.hardware, batch: shape.batch, input: shape.input, output: shape.output)
                   : ExplainReport.text(d, batch: shape.batch, input: shape.input, output: shape.output))
    }
}

enum ExplainReport {
    static func table(_ b: StepBreakdown, _ d: Deployment) -> String {
        let ridge = ridgePoint(d)
        var t = TextTable(["operator", "×", "GFLOP", "MB", "FLOP/B", "time ms", "bound", "share"], leftAligned: [0, 6])
        let total = b.cost.duration.value
        for row in b.operators {
            let r = Double(row.op.repeats)
            let intensity = row.op.memoryBytes.value > 0 ? Format.fixed(row.op.arithmeticIntensity, 1) : "-"
            t.add([row.op.name, "\(row.op.repeats)", Format.fixed(row.op.flops.value * r / 1e9, 3),
                   Format.fixed((row.op.memoryBytes.value + row.op.communicationBytes.value) * r / 1e6, 2), intensity,
                   Format.fixed(row.totalTime.value * 1e3, 3), row.cost.boundBy.rawValue, Format.percent(row.totalTime.value / total)])
        }
        t.add(["step overhead", "1", "", "", "", Format.fixed(b.stepOverhead.value * 1e3, 3), "overhead", Format.percent(b.stepOverhead.value / total)])
        var lines = [t.rendered()]
        lines.append("step: \(Format.ms(total)), \(b.cost.boundBy.rawValue)-bound; MFU \(Format.percent(b.mfu)), MBU \(Format.percent(b.mbu)); ridge point \(Format.fixed(ridge, 1)) FLOP/B (operators above it are compute-bound at peak)")
        let whose = d.pipelineParallel > 1 ? "per tensor-parallel rank over the \(d.pipelineParallel) stages in turn" : "per device"
        let host = Format.fixed(d.device.mainMemory.bandwidthBytesPerSecond / 1e12, 2)
        let readAt = d.device.pim.flatMap { pim in d.pimPlacement == .none ? nil :
            ", read at \(host) TB/s by the host and \(Format.fixed(pim.internalBandwidthBytesPerSecond / 1e12, 2)) TB/s in the banks for the operators in memory" } ?? " / \(host) TB/s"
        lines.append("bandwidth floor: \(Format.gb(b.bytesPerDevice.value)) \(whose)\(readAt) = \(Format.ms(b.memoryFloor.value)) (no step can be faster than reading its bytes at peak bandwidth)")
        lines += CommunicationLines.text([("in all", b)], d)
        return lines.joined(separator: "\n")
    }

    /// Seconds to read a step's weights at the bandwidth each operator reads them at.
    static func weightFloor(_ b: StepBreakdown, _ d: Deployment) -> Double {
        b.operators.reduce(0.0) { $0 + $1.op.weightBytes.value * Double($1.op.repeats) / d.peakBandwidth(of: $1.op) }
    }

    /// One step's breakdown as JSON: totals, bounds and one object per operator.
    static func stepJSON(_ b: StepBreakdown, _ d: Deployment, description: String) -> String {
        let total = b.cost.duration.value
        var w = JSONWriter()
        w.add("description", description)
        w.add("time_ms", total * 1e3)
        w.add("bound", b.cost.boundBy.rawValue)
        w.add("mfu", b.mfu)
        w.add("mbu", b.mbu)
        w.add("step_overhead_ms", b.stepOverhead.value * 1e3)
        w.add("bytes_per_device", b.bytesPerDevice.value)
        w.add("flops_per_device", b.flopsPerDevice.value)
        w.add("memory_floor_ms", b.memoryFloor.value * 1e3)
        let communication = b.communication(in: d)
        w.add("communication_ms", communication.total.value * 1e3)
        w.add("communication_exposed_ms", communication.exposed.value * 1e3)
        w.addRaw("operators", JSONWriter.array(b.operators.map { row in
            var o = JSONWriter()
            let r = Double(row.op.repeats)
            o.add("name", row.op.name)
            o.add("repeats", row.op.repeats)
            o.add("flops", row.op.flops.value * r)
            o.add("memory_bytes", row.op.memoryBytes.value * r)
            o.add("communication_bytes", row.op.communicationBytes.value * r)
            o.add("arithmetic_intensity", row.op.memoryBytes.value > 0 ? row.op.arithmeticIntensity : nil)
            o.add("time_ms", row.totalTime.value * 1e3)
            o.add("bound", row.cost.boundBy.rawValue)
            o.add("share", total > 0 ? row.totalTime.value / total : nil)
            return o.rendered(indent: "    ")
        }))
        return w.rendered(indent: "  ")
    }

    static func json(_ d: Deployment, hardware: String, batch: Int, input: Int, output: Int) -> String {
        let model = InferenceCostModel(deployment: d)
        var prefill = StepWorkload()
        for _ in 0..<batch { prefill.addPrefillChunk(tokens: input, contextBefore: 0) }
        var decode = StepWorkload()
        let context = input + 1
        for _ in 0..<batch { decode.addDecode(contextLength: context) }
        let plan = d.memoryPlan(maxStepTokens: batch * input, maxLogitRows: batch)
        let decodeBreakdown = model.breakdown(of: decode)
        let streamed = decodeBreakdown.operators.reduce(0.0) { $0 + $1.op.weightBytes.value * Double($1.op.repeats) }
        var w = JSONWriter()
        w.add("hardware", hardware)
        w.add("device", d.device.name)
        w.add("model", d.model.name)
        w.add("tp", d.tensorParallel)
        w.add("pp", d.pipelineParallel)
        w.add("execution_model", d.executionModel.rawValue)
        w.add("devices", d.deviceCount)
        w.add("batch", batch)
        w.add("input_tokens", input)
        w.add("output_tokens", output)
        w.add("ridge_flops_per_byte", ridgePoint(d))
        w.add("weights_bytes_per_device", plan.weightsPerDevice.value)
        w.add("decode_streamed_weight_bytes", streamed)
        w.add("decode_weight_floor_ms", weightFloor(decodeBreakdown, d) * 1e3)
        w.add("kv_bytes_per_token", plan.kvBytesPerToken.value)
        if let b = computeBoundDecodeBatch(model, context: context) { w.add("compute_bound_decode_batch", b) } else { w.add("compute_bound_decode_batch", nil as String?) }
        w.addRaw("prefill", stepJSON(model.breakdown(of: prefill), d, description: "\(batch) × \(input) prompt tokens"))
        w.addRaw("decode", stepJSON(decodeBreakdown, d, description: "\(batch) sequence(s) at context \(context)"))
        w.addArray("notes", ExecutionReport.lines(d, model: model, decode: decode, context: context).map(JSONText.quoted))
        return w.rendered()
    }

    /// Peak FLOP/s over peak bytes/s for the deployment's arithmetic format.
    static func ridgePoint(_ d: Deployment) -> Double {
        d.device.peakCompute(for: d.precision.activations).0.value / d.device.mainMemory.bandwidthBytesPerSecond
    }

    /// Smallest batch at which a decode step at `context` is compute-bound, or nil if none up to 65,536.
    static func computeBoundDecodeBatch(_ model: InferenceCostModel, context: Int) -> Int? {
        func computeBound(_ b: Int) -> Bool {
            var s = StepWorkload()
            for _ in 0..<b { s.addDecode(contextLength: context) }
            return model.cost(of: s).boundBy == .compute
        }
        var b = 1
        while b <= 65_536 && !computeBound(b) { b *= 2 }
        guard b <= 65_536 else { return nil }
        var lo = b / 2, hi = b
        while hi - lo > 1 { let mid = (lo + hi) / 2; if computeBound(mid) { hi = mid } else { lo = mid } }
        return hi
    }

    static func text(_ d: Deployment, batch: Int, input: Int, output: Int) -> String {
        let model = InferenceCostModel(deployment: d)
        var prefill = StepWorkload()
        for _ in 0..<batch { prefill.addPrefillChunk(tokens: input, contextBefore: 0) }
        var decode = StepWorkload()
        let context = input + 1
        for _ in 0..<batch { decode.addDecode(contextLength: context) }
        let plan = d.memoryPlan(maxStepTokens: batch * input, maxLogitRows: batch)
        var lines = [PredictReport.header(d), ""]
        lines.append("Prefill step: \(batch) × \(input) prompt tokens")
        lines.append(table(model.breakdown(of: prefill), d))
        lines.append("")
        lines.append("Decode step: \(batch) sequence(s) at context \(context)")
        lines.append(table(model.breakdown(of: decode), d))
        lines.append("")
        // The weights a decode step streams: every layer and the LM head (the embedding table is
        // only indexed), as this batch touches them (a mixture of experts reads the experts it routes to).
        let decodeBreakdown = model.breakdown(of: decode)
        let streamed = decodeBreakdown.operators.reduce(0.0) { $0 + $1.op.weightBytes.value * Double($1.op.repeats) }
        let weightFloor = Self.weightFloor(decodeBreakdown, d)
        lines.append("Weights: \(Format.gb(plan.weightsPerDevice.value)) held per device; a decode step streams \(Format.gb(streamed))"
            + (d.pipelineParallel > 1 ? " per tensor-parallel rank over its \(d.pipelineParallel) stages" : "")
            + ", which at peak bandwidth takes \(Format.ms(weightFloor))\(d.pimPlacement == .none ? "" : " (in the banks for the operators placed in memory)"): the floor of every decode step (\(Format.fixed(1 / weightFloor, 1)) tokens/s per sequence at most)")
        let kvFormula: String
        if d.model.mla != nil {
            kvFormula = "\(d.model.layers) layers × \(d.model.kvElementsPerTokenPerLayer) latent elements (MLA) × \(Format.fixed(d.precision.kvCache.bytesPerElement, 3)) B"
        } else {
            kvFormula = "2 × \(d.model.layers) layers × \(d.model.kvHeads) KV heads × \(d.model.headDim) × \(Format.fixed(d.precision.kvCache.bytesPerElement, 3)) B"
        }
        lines.append("KV cache: \(Format.grouped(Int(plan.kvBytesPerToken.value))) B per token (\(Format.fixed(plan.kvBytesPerToken.mebibytes, 4)) MiB) = \(kvFormula)")
        var single = StepWorkload()
        single.addDecode(contextLength: context)
        let pace: String
        switch model.cost(of: single).boundBy {
        case .memory: pace = "paced by memory traffic"
        case .compute: pace = "compute-bound already"
        case .communication: pace = "paced by communication between devices"
        case .overhead: pace = "paced by fixed per-kernel and per-step overheads"
        }
        lines.append(contentsOf: ExecutionReport.lines(d, model: model, decode: decode, context: context))
        if let b = computeBoundDecodeBatch(model, context: context) {
            lines.append(b == 1 ? "Decode is compute-bound from batch 1 (context \(context))."
                         : "Decode turns compute-bound at batch \(b) (context \(context)); below it, each step is \(pace).")
        } else {
            lines.append("Decode is not compute-bound up to batch 65,536 at context \(context); at batch 1 it is \(pace).")
        }
        return lines.joined(separator: "\n")
    }
}
