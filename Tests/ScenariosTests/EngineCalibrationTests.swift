import CostModel
import Diagnostics
import Foundation
import HardwareModel
import Scenarios
import Testing

// Engines and the whole-step calibrations: a step log and a vLLM serving result, each generated
// by InferSim with known parameters, must be fitted back within 2% of them.

private let catalog = ProfileCatalog(root: Examples.repoRoot)
private let bf16 = Precision(weights: .bf16, activations: .bf16, kvCache: .bf16)

/// Deterministic noise in [-amplitude, +amplitude].
private func noise(_ i: Int, _ amplitude: Double) -> Double {
    var z = UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 31)) &* 0xBF58_476D_1CE4_E5B9
    return amplitude * (2 * Double(z >> 11) * 0x1.0p-53 - 1)
}

/// Steps a server runs: decodes from batch 1 to 256 over contexts 128 to 8k, prefills of 32 to
/// 4,096 tokens, and chunked-prefill steps mixing both.
private func stepShapes() -> [StepLog.Row] {
    var rows: [StepLog.Row] = []
    for b in [1, 4, 16, 64, 256] {
        for c in [128, 1024, 4096] where b * c <= 256 * 4096 {
            rows.append(StepLog.Row(prefillTokens: 0, prefillSequences: 0, decodeTokens: b, contextSum: b * c, contextMax: c, seconds: 1))
        }
    }
    for p in [32, 256, 1024, 4096] { rows.append(StepLog.Row(prefillTokens: p, prefillSequences: 1, decodeTokens: 0, contextSum: 0, contextMax: 0, seconds: 1)) }
    for (p, b) in [(512, 64), (2048, 32), (256, 128)] {
        rows.append(StepLog.Row(prefillTokens: p, prefillSequences: 1, decodeTokens: b, contextSum: b * 1024, contextMax: 1024, seconds: 1))
    }
    return rows
}

@Test func namingTensorRTLLMChangesNoPrice() throws {
    let engine = try catalog.engine("tensorrt-llm")
    for device in ["nvidia-h100-sxm", "nvidia-a100-sxm-80gb", "nvidia-h200", "nvidia-l40s"] {
        let plain = try catalog.deployment(hardware: device, model: "llama-3-8b", precision: bf16)
        let named = try catalog.deployment(hardware: device, model: "llama-3-8b", precision: bf16, engine: engine.name)
        #expect(named.executionModel == .roofline)
        for row in stepShapes() {
            let a = InferenceCostModel(deployment: plain).cost(of: row.workload)
            let b = InferenceCostModel(deployment: named).cost(of: row.workload)
            #expect(a == b, "\(device) \(row)")
        }
    }
}

@Test func anEngineFittedOnADevicePricesItByShape() throws {
    let d = try catalog.deployment(hardware: "nvidia-h200", model: "llama-3-8b", precision: bf16, engine: "pytorch-cudagraphs")
    #expect(d.executionModel == .shapedKernels)
    let cost = InferenceCostModel(deployment: d)
    func decode(_ b: Int, _ c: Int) -> Double {
        var w = StepWorkload()
        for _ in 0 ..< b { w.addDecode(contextLength: c) }
        return cost.cost(of: w).duration.value
    }
    // FlashAttention-2 gives a lone sequence 8 thread blocks of 132 SMs: attention of one
    // sequence at 4k costs far more than 1/8 of eight sequences'.
    let one = decode(1, 4096) - decode(1, 1), eight = decode(8, 4096) - decode(8, 1)
    #expect(one > eight / 8 * 3, "one \(one) eight \(eight)")
    // The same step on an H100, with no fit there, stays a roofline.
    let h100 = try catalog.deployment(hardware: "nvidia-h100-sxm", model: "llama-3-8b", precision: bf16, engine: "pytorch-cudagraphs")
    #expect(h100.executionModel == .roofline)
}

@Test func aStepLogIsFittedBackWithinTwoPercent() throws {
    let start = try catalog.engine("pytorch-cudagraphs")
    let device = "nvidia-h200"
    var truth = start
    truth.stepOverheadSeconds = 3e-4
    truth.kernels![device]!.gemm.bandwidthBytesPerSecond *= 0.9
    truth.kernels![device]!.decodeAttention.bandwidthBytesPerSecond *= 1.1
    truth.kernels![device]!.gemm.flopsPerSecond["bf16"]! *= 0.93
    let priced = InferenceCostModel(deployment: try Deployment(model: catalog.model("llama-3-8b"), device: catalog.device(device),
                                                               deviceClass: catalog.deviceClass("datacenter-gpu"), precision: bf16, engine: truth))
    for amplitude in [0.0, 0.01] {
        let rows = stepShapes().enumerated().map { i, r in
            var r = r
            r.seconds = priced.cost(of: r.workload).duration.value * (1 + noise(i, amplitude))
            return r
        }
        // Through the CSV, as a user's log arrives.
        let parsed = try StepLog.parse(StepLog.render(rows), file: "steps.csv")
        let fit = try EngineStepFitter(catalog: catalog, hardware: device, model: "llama-3-8b", engine: start).fitSteps(parsed, inputs: ["steps.csv"])
        let k = fit.engine.kernels![device]!, t = truth.kernels![device]!
        func close(_ a: Double, _ b: Double, _ what: String) { #expect(abs(a / b - 1) < 0.02, "\(what): fitted \(a), true \(b), noise \(amplitude)") }
        close(k.gemm.bandwidthBytesPerSecond, t.gemm.bandwidthBytesPerSecond, "GEMM bandwidth")
        close(k.decodeAttention.bandwidthBytesPerSecond, t.decodeAttention.bandwidthBytesPerSecond, "attention bandwidth")
        close(k.gemm.flopsPerSecond["bf16"]!, t.gemm.flopsPerSecond["bf16"]!, "GEMM rate")
        if amplitude == 0 { close(fit.engine.stepOverheadSeconds!, 3e-4, "step overhead") }
        #expect(fit.kept.isEmpty)
        #expect(k.provenance.parameters["gemm.bandwidthBytesPerSecond"]?.how == .fitted)
        #expect(k.provenance.inputs.contains("steps.csv"))
    }
}

@Test func decodeOnlyStepsDoNotPretendToKnowTheGEMMRate() throws {
    let start = try catalog.engine("pytorch-cudagraphs")
    let priced = InferenceCostModel(deployment: try catalog.deployment(hardware: "nvidia-h200", model: "llama-3-8b", precision: bf16, engine: start.name))
    let rows = stepShapes().filter { $0.prefillTokens == 0 && $0.decodeTokens <= 16 }.map { r -> StepLog.Row in
        var r = r
        r.seconds = priced.cost(of: r.workload).duration.value
        return r
    }
    let fit = try EngineStepFitter(catalog: catalog, hardware: "nvidia-h200", model: "llama-3-8b", engine: start).fitSteps(rows, inputs: ["decode.csv"])
    #expect(fit.kept == ["gemm.flopsPerSecond.bf16"])
    #expect(fit.summary.contains("not determined"))
}

@Test func aVLLMResultIsFittedBackWithinTwoPercent() throws {
    let start = try catalog.engine("pytorch-cudagraphs")
    let device = "nvidia-h200"
    let fitter = try EngineStepFitter(catalog: catalog, hardware: device, model: "llama-3.1-8b", engine: start)
    var truth = start
    truth.kernels![device]!.gemm.bandwidthBytesPerSecond *= 0.85
    truth.kernels![device]!.decodeAttention.bandwidthBytesPerSecond *= 0.85
    truth.kernels![device]!.streamBytesPerSecond *= 0.85
    for (type, rate) in truth.kernels![device]!.gemm.flopsPerSecond { truth.kernels![device]!.gemm.flopsPerSecond[type] = rate * 1.1 }
    // 100 requests at 2 per second: prompts of 500-4,000 tokens, outputs of 50-400.
    let n = 100
    let template = VLLMResult(file: "run.json", inputLens: (0 ..< n).map { 500 + ($0 * 7919) % 3500 }, outputLens: (0 ..< n).map { 50 + ($0 * 104_729) % 350 },
                              ttfts: [], itls: [], requestRate: 2)
    let directory = NSTemporaryDirectory() + "/infersim-vllm-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let synthetic = try fitter.replay(template, engine: truth, directory: directory)
    let path = directory + "/result.json"
    try synthetic.renderedJSON().write(toFile: path, atomically: true, encoding: .utf8)
    let run = try VLLMResult.read(path)
    #expect(run.ttfts.count == n)
    let fit = try fitter.fitServing([run], inputs: ["result.json"])
    let scale = try #require(fit.fitted["bandwidthScale"]?.value), rate = try #require(fit.fitted["gemmRateScale"]?.value)
    #expect(abs(scale / 0.85 - 1) < 0.02, "bandwidth scale \(scale)")
    #expect(abs(rate / 1.1 - 1) < 0.02, "GEMM rate scale \(rate)")
}

@Test func badStepLogsAndResultsNameTheFileAndField() throws {
    func message(_ text: String) -> String {
        do { _ = try StepLog.parse(text, file: "s.csv"); return "" } catch let e as InputError { return e.description } catch { return "\(error)" }
    }
    let header = "prefill_tokens,prefill_sequences,decode_tokens,context_sum,context_max,time_s\n"
    #expect(message(header + "0,0,4,4096,1024,nan\n").contains("line 2, column 6"))
    #expect(message(header + "0,0,4,40,1024,0.01\n").contains("context_sum"))
    #expect(message("prefill_tokens,decode_tokens\n").contains("missing column"))
    #expect(message(header + "0,0,4,4096,1024\n").contains("expected 6 fields"))
    #expect(message(header + "0,0,4,4096,1024,0.01,7\n").contains("s.csv"))
    #expect(message("prefill_tokens,prefil_sequences\n").contains("did you mean"))

    let directory = NSTemporaryDirectory() + "/infersim-bad-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    func result(_ json: String) -> String {
        let path = directory + "/r.json"
        try? json.write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try VLLMResult.read(path); return "" } catch let e as InputError { return e.description } catch { return "\(error)" }
    }
    let ten = "[" + Array(repeating: "100", count: 10).joined(separator: ",") + "]"
    let itls = "[" + Array(repeating: "[0.01]", count: 10).joined(separator: ",") + "]"
    #expect(result("{\"input_lens\": \(ten), \"output_lens\": \(ten), \"ttfts\": \(ten), \"request_rate\": 2}").contains("$.itls"))
    #expect(result("{\"input_lens\": \(ten), \"output_lens\": [1, 2], \"ttfts\": \(ten), \"itls\": \(itls), \"request_rate\": 2}").contains("$.output_lens"))
    #expect(result("{\"input_lens\": \(ten), \"output_lens\": \(ten), \"ttfts\": \(ten), \"itls\": \(itls), \"request_rate\": -1}").contains("$.request_rate"))
    #expect(result("{\"input_lens\": [1], \"output_lens\": [1], \"ttfts\": [0.1], \"itls\": [[]], \"request_rate\": \"inf\"}").contains("at least 10"))
}
