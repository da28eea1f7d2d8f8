import Diagnostics
import Foundation
import HardwareModel
import Scenarios
import ServingMetrics
import Validation

/// `infersim calibrate --from FILE ... --hardware ID --engine NAME --output PROFILE.json`.
extension Calibrate {
    enum InputKind { case microbenchmark, steps, vllm }

    /// What a measurement file holds: a CSV is a step log; a JSON object with `gemm` is a
    /// microbenchmark, with `ttfts` a vLLM benchmark result.
    static func kind(of path: String) throws -> InputKind {
        if path.lowercased().hasSuffix(".csv") { return .steps }
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "file not found or not readable") }
        try JSONSyntax.check(data, file: path)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InputError(file: path, jsonPath: "$", "expected a JSON object (a microbenchmark with \"gemm\", or a vLLM result with \"ttfts\")")
        }
        if object["gemm"] != nil { return .microbenchmark }
        if object["ttfts"] != nil { return .vllm }
        throw InputError(file: path, jsonPath: "$", "expected a microbenchmark (with \"gemm\") or a vLLM benchmark result (with \"ttfts\"), found neither key")
    }

    func runFit() throws {
        guard let hardware, let engineID = engine, let output else { return }
        try OutputPaths.check([("--output", output)])
        let catalog = try ProfileCatalog.locate(explicit: profiles)
        let device = try catalog.device(hardware)
        var profile = try catalog.engine(engineID)
        var micro: [(path: String, file: MicrobenchmarkFile)] = []
        var steps: [String] = []
        var results: [String] = []
        for path in from {
            switch try Self.kind(of: path) {
            case .microbenchmark: micro.append((path, try KernelCalibration.read(path)))
            case .steps: steps.append(path)
            case .vllm: results.append(path)
            }
        }
        if (!steps.isEmpty || !results.isEmpty) && model == nil {
            throw InputError(option: "--model", "a step CSV or vLLM result needs the model that ran; give --model")
        }
        var lines: [String] = []
        if !micro.isEmpty {
            let fit = try KernelCalibration.fit(micro)
            var kernels = profile.kernels ?? [:]
            kernels[device.name] = fit
            profile.kernels = kernels
            lines.append(Self.describe(fit, device: device.name))
        }
        if !steps.isEmpty || !results.isEmpty, let model {
            let fitter = try EngineStepFitter(catalog: catalog, hardware: hardware, model: model, engine: profile)
            var fitted = profile
            if !steps.isEmpty {
                let rows = try steps.flatMap { try StepLog.read($0) }
                let result = try fitter.fitSteps(rows, inputs: steps.map { ($0 as NSString).lastPathComponent })
                fitted = result.engine
                lines.append(result.summary)
            }
            if !results.isEmpty {
                let runs = try results.map { try VLLMResult.read($0) }
                let result = try EngineStepFitter(catalog: catalog, hardware: hardware, model: model, engine: fitted)
                    .fitServing(runs, inputs: results.map { ($0 as NSString).lastPathComponent })
                fitted = result.engine
                lines.append(result.summary)
            }
            profile = fitted
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(profile), as: UTF8.self) + "\n"
        let writer = try AtomicFileWriter(path: output)
        try writer.write(text)
        try writer.commit()
        print("wrote \(output): engine \(profile.name) on \(device.name)")
        for line in lines { print(line) }
    }

    static func describe(_ fit: KernelFit, device: String) -> String {
        func f(_ v: Double, _ d: Int) -> String { JSONText.number(v, decimals: d) }
        let rates = fit.gemm.flopsPerSecond.keys.sorted().map { "\($0) \(f(fit.gemm.flopsPerSecond[$0]! / 1e12, 0)) TFLOP/s" }.joined(separator: ", ")
        return """
        kernels on \(device) from \(fit.provenance.inputs.joined(separator: ", ")): \(fit.provenance.points) points, median |error| \(f(100 * fit.provenance.medianAbsError, 1))%, worst \(f(100 * fit.provenance.maxAbsError, 1))%
          GEMM: fixed \(f(fit.gemm.fixedSeconds * 1e6, 1)) us, \(f(fit.gemm.bandwidthBytesPerSecond / 1e12, 2)) TB/s, \(rates), overlap exponent \(f(fit.gemm.overlapExponent, 2))
          decode attention: fixed \(f(fit.decodeAttention.fixedSeconds * 1e6, 1)) us, \(f(fit.decodeAttention.bandwidthBytesPerSecond / 1e12, 2)) TB/s, \(f(fit.decodeAttention.perBlockBytesPerSecond / 1e9, 1)) GB/s per thread block
          fitted shapes: GEMM rows \(f(fit.range.gemmRows[0], 0))-\(f(fit.range.gemmRows[1], 0)), decode batch \(f(fit.range.attentionSequences[0], 0))-\(f(fit.range.attentionSequences[1], 0)), context \(f(fit.range.attentionContext[0], 0))-\(f(fit.range.attentionContext[1], 0))
        """
    }
}
