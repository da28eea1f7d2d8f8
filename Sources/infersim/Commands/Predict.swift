import ArgumentParser
import CostModel
import HardwareModel

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict a static batch: TTFT, TPOT, end-to-end latency, throughput and memory per device.")

    @OptionGroup var deployment: DeploymentOptions
    @OptionGroup var shape: BatchOptions
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let d = try deployment.makeDeployment(kvTokens: shape.batch * (shape.input + shape.output))
        try shape.checkContext(d.model)
        DeploymentOptions.warn(d, shape.extrapolations(d))
        let p = InferenceCostModel(deployment: d).predictStaticBatch(batch: shape.batch, inputTokens: shape.input, outputTokens: shape.output)
        print(json ? PredictReport.json(p, d, hardware: deployment.hardware) : PredictReport.text(p, d))
    }
}

enum PredictReport {
    static func header(_ d: Deployment) -> String {
        let n = d.deviceCount
        let how: String
        if let layout = d.layout {
            how = "\(d.executionModel.rawValue): \(Format.fixed(layout.unitsPerLayer, 2)) \(layout.unitName)s per layer, \(layout.stages) stages"
        } else {
            how = "TP \(d.tensorParallel), PP \(d.pipelineParallel)"
                + (d.executionModel == .roofline ? "" : ", \(d.executionModel.rawValue)")
                + (d.pimPlacement == .none ? "" : ", PIM placement \(d.pimPlacement.rawValue)")
                + (d.engine.map { ", engine \($0.name)" } ?? "")
        }
        return "\(d.model.displayName) on \(n) × \(d.device.displayName) (\(how)); \(d.precision.description)"
    }

    static func memoryLines(_ p: StaticBatchPrediction, _ d: Deployment) -> [String] {
        let m = p.memory
        let kvNeed = Double(p.kvTokens) * m.kvBytesPerTokenPerDevice.value
        var lines = [
            d.layout == nil ? "Memory per device" : "Memory of all \(d.deviceCount) \(d.layout!.unitName)s together (SRAM)",
            "  capacity            \(Format.gb(m.capacityPerDevice.value)) (usable \(Format.gb(m.usablePerDevice.value)) at \(Format.percent(d.memoryUtilization)))",
            "  weights             \(Format.gb(m.weightsPerDevice.value))",
            "  activations         \(Format.gb(m.activationsPerDevice.value)) (prefill workspace of \(Format.grouped(p.batch * p.inputTokens)) tokens)",
            "  KV cache            \(Format.gb(kvNeed)) for \(Format.grouped(p.kvTokens)) tokens; \(Format.grouped(Int(m.kvBytesPerToken.value))) B/token (\(Format.fixed(m.kvBytesPerToken.mebibytes, 4)) MiB) for the model, \(Format.grouped(Int(m.kvBytesPerTokenPerDevice.value))) B/token on each device",
            "  free                \(Format.gb(m.usablePerDevice.value - m.weightsPerDevice.value - m.activationsPerDevice.value - kvNeed))",
            "  largest batch that fits: \(p.maxBatch)",
        ]
        if !m.weightsFit {
            lines.append("DOES NOT FIT: weights and workspace need \(Format.gb(m.weightsPerDevice.value + m.activationsPerDevice.value)) per device, \(Format.gb(m.shortfall.value)) more than the usable \(Format.gb(m.usablePerDevice.value)); add devices (--tp/--pp) or use smaller formats (--weights)")
        } else if !p.fits {
            lines.append("DOES NOT FIT: the batch's KV cache needs \(Format.gb(m.shortfall(kvTokens: p.kvTokens).value)) more per device; the largest batch that fits is \(p.maxBatch)")
        }
        return lines
    }

    /// The steps whose communication a prediction shows: the prefill and the last decode.
    static func communicationSteps(_ p: StaticBatchPrediction) -> [(String, StepBreakdown)] {
        [("prefill", p.prefill)] + (p.lastDecode.map { [("decode", $0)] } ?? [])
    }

    static func text(_ p: StaticBatchPrediction, _ d: Deployment) -> String {
        var lines = [header(d),
                     "Static batch: \(p.batch) request(s) × \(p.inputTokens) input + \(p.outputTokens) output tokens", ""]
        if p.fits {
            lines += [
                "Latency",
                "  time to first token \(Format.ms(p.timeToFirstToken.value))  (prefill \(p.prefill.cost.boundBy.rawValue)-bound, MFU \(Format.percent(p.prefill.mfu)), MBU \(Format.percent(p.prefill.mbu)))",
                "  time per output token \(p.timePerOutputToken.map { Format.ms($0.value) } ?? "n/a (one output token)")"
                    + (p.lastDecode.map { "  (decode \($0.cost.boundBy.rawValue)-bound, MFU \(Format.percent(p.decodeMFU)), MBU \(Format.percent(p.decodeMBU)))" } ?? ""),
                "  end-to-end          \(Format.ms(p.endToEnd.value))",
                "  output throughput   \(Format.fixed(p.outputTokensPerSecond, 1)) tokens/s (\(Format.fixed(p.outputTokensPerSecond / Double(d.deviceCount), 1)) per device)",
                "  energy              \(Format.fixed(p.energy.value, 1)) J (\(Format.fixed(p.energy.value / Double(p.batch * p.outputTokens), 3)) J per output token)",
                "",
            ]
            let comm = CommunicationLines.text(communicationSteps(p), d)
            if !comm.isEmpty { lines += comm + [""] }
        }
        lines += memoryLines(p, d)
        return lines.joined(separator: "\n")
    }

    /// - Parameter hardware: the id given with `--hardware` (a device or a system); `device` is the device it resolves to.
    static func json(_ p: StaticBatchPrediction, _ d: Deployment, hardware: String) -> String {
        var w = JSONWriter()
        w.add("hardware", hardware)
        w.add("device", d.device.name)
        w.add("model", d.model.name)
        w.add("tp", d.tensorParallel)
        w.add("pp", d.pipelineParallel)
        w.add("execution_model", d.executionModel.rawValue)
        w.add("devices", d.deviceCount)
        if d.pimPlacement != .none { w.add("pim_placement", d.pimPlacement.rawValue) }
        w.add("joules_per_output_token", p.fits ? p.energy.value / Double(p.batch * p.outputTokens) : nil)
        w.add("batch", p.batch)
        w.add("input_tokens", p.inputTokens)
        w.add("output_tokens", p.outputTokens)
        w.add("fits", p.fits)
        w.add("ttft_ms", p.fits ? p.timeToFirstToken.milliseconds : nil)
        w.add("tpot_ms", p.fits ? p.timePerOutputToken?.milliseconds : nil)
        w.add("e2e_ms", p.fits ? p.endToEnd.milliseconds : nil)
        w.add("output_tokens_per_s", p.fits ? p.outputTokensPerSecond : nil)
        w.add("energy_j", p.fits ? p.energy.value : nil)
        w.add("weights_bytes_per_device", p.memory.weightsPerDevice.value)
        w.add("activation_bytes_per_device", p.memory.activationsPerDevice.value)
        w.add("kv_bytes_per_token", p.memory.kvBytesPerToken.value)
        w.add("kv_bytes_per_token_per_device", p.memory.kvBytesPerTokenPerDevice.value)
        w.add("kv_bytes_per_device", Double(p.kvTokens) * p.memory.kvBytesPerTokenPerDevice.value)
        w.add("usable_bytes_per_device", p.memory.usablePerDevice.value)
        w.add("shortfall_bytes_per_device", p.memory.shortfall(kvTokens: p.kvTokens).value)
        w.add("max_batch", p.maxBatch)
        w.addRaw("communication", CommunicationLines.json(communicationSteps(p), d))
        w.add("prefill_bound", p.prefill.cost.boundBy.rawValue)
        w.add("decode_bound", p.decodeBound?.rawValue)
        w.add("prefill_mfu", p.prefill.mfu)
        w.add("prefill_mbu", p.prefill.mbu)
        w.add("decode_mfu", p.lastDecode == nil ? nil : p.decodeMFU)
        w.add("decode_mbu", p.lastDecode == nil ? nil : p.decodeMBU)
        return w.rendered()
    }
}
