import Foundation
import Diagnostics
import ArgumentParser
import CostModel
import HardwareModel
import Scenarios

/// Options shared by `predict` and `explain`: what runs where, in which formats.
struct DeploymentOptions: ParsableArguments {
    @Option(help: "Hardware: a device or system id (see `infersim profiles list`), or a device profile's JSON file.",
            completion: .list(Completions.hardware))
    var hardware: String
    @Option(help: "Model: an id (see `infersim profiles list`), or a model profile's JSON file.", completion: .list(Completions.models))
    var model: String
    @Option(name: .customLong("tp"), help: "Tensor-parallel degree.")
    var tensorParallel: Int = 1
    @Option(name: .customLong("pp"), help: "Pipeline-parallel degree.")
    var pipelineParallel: Int = 1
    @Option(name: .customLong("ep"), help: "Expert-parallel degree of a mixture-of-experts model: the MoE layers' experts spread whole over the tensor-parallel devices (divides --tp and the experts).")
    var expertParallel: Int = 1
    @Flag(name: .customLong("dp-attention"), help: "Data-parallel attention for a mixture-of-experts model: each of the --tp devices runs attention on its own share of the batch with the whole attention weights and its own sequences' KV; the experts are spread over all of them (--ep equal to --tp), and each MoE layer dispatches and combines tokens instead of all-reducing.")
    var dataParallelAttention = false
    @Option(help: "With --dp-attention, how tokens reach their experts: \(ExpertDispatch.allCases.map(\.rawValue).joined(separator: ", ")) (default allToAll).")
    var expertDispatch: String?
    @Option(help: "Weight format: \(DType.knownNames).", completion: .list(Completions.dtypes))
    var weights: String = "fp16"
    @Option(help: "Activation format.", completion: .list(Completions.dtypes))
    var activations: String = "fp16"
    @Option(help: "KV-cache format.", completion: .list(Completions.dtypes))
    var kv: String = "fp16"
    @Option(help: "Fraction of device memory the engine may use.")
    var memoryUtilization: Double = 0.9
    @Option(help: "Chips (or wafers) of an SRAM machine (groq-lpu, cerebras-wse-3); default: the fewest whose SRAM holds the weights and the batch's KV cache.")
    var chips: Int?
    @Option(help: "Where a processing-in-memory device runs what: \(PIMPlacement.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pimPlacement: String = "none"
    @Option(help: "Serving engine: an id (tensorrt-llm, vllm, pytorch-cudagraphs; see `infersim profiles list`) or an engine profile's JSON file (`infersim calibrate --from` writes one). Default: the device class's figures, as tensorrt-llm.")
    var engine: String?
    @Option(help: "Directory of your own profiles, laid out like the built-in ones; they override and extend them (default: $INFERSIM_HOME, a checkout found from the working directory, or ~/.infersim).",
            completion: .directory)
    var profiles: String?

    func validate() throws {
        guard tensorParallel >= 1 else { throw ValidationError("--tp must be at least 1, got \(tensorParallel)") }
        guard (1...4096).contains(expertParallel) else { throw ValidationError("--ep must be in 1...4096, got \(expertParallel)") }
        guard pipelineParallel >= 1 else { throw ValidationError("--pp must be at least 1, got \(pipelineParallel)") }
        if let expertDispatch {
            guard ExpertDispatch(rawValue: expertDispatch) != nil else {
                throw ValidationError("--expert-dispatch: unknown dispatch \"\(expertDispatch)\"; known: \(ExpertDispatch.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard dataParallelAttention else { throw ValidationError("--expert-dispatch applies with --dp-attention") }
        }
        for (flag, value) in [("--weights", weights), ("--activations", activations), ("--kv", kv)] where DType(parsing: value) == nil {
            throw ValidationError("\(flag): unknown format \"\(value)\"; known: \(DType.knownNames)")
        }
        if let chips, !(1...1_000_000).contains(chips) { throw ValidationError("--chips must be in 1...1000000, got \(chips)") }
        guard PIMPlacement(rawValue: pimPlacement) != nil else {
            throw ValidationError("--pim-placement: unknown placement \"\(pimPlacement)\"; known: \(PIMPlacement.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard memoryUtilization > 0 && memoryUtilization <= 1 else {
            throw ValidationError("--memory-utilization must be in (0, 1], got \(memoryUtilization)")
        }
    }

    var precision: Precision {
        Precision(weights: DType(parsing: weights)!, activations: DType(parsing: activations)!, kvCache: DType(parsing: kv)!)
    }

    /// - Parameter kvTokens: the KV cache an SRAM machine's chips must hold beside the weights.
    func makeDeployment(kvTokens: Int? = nil) throws -> Deployment {
        let catalog = try ProfileCatalog.locate(explicit: profiles)
        return try catalog.deployment(hardware: hardware, model: model, tensorParallel: tensorParallel,
                                      pipelineParallel: pipelineParallel, precision: precision,
                                      memoryUtilization: memoryUtilization, pimPlacement: PIMPlacement(rawValue: pimPlacement)!,
                                      chips: chips, onChipKVTokens: kvTokens, expertParallel: expertParallel, engine: engine,
                                      dataParallelAttention: dataParallelAttention,
                                      expertDispatch: expertDispatch.flatMap(ExpertDispatch.init(rawValue:)) ?? .allToAll)
    }
}

extension DeploymentOptions {
    /// One warning line on standard error when a prediction extrapolates the engine's kernel fit.
    static func warn(_ d: Deployment, _ outside: [String]) {
        guard !outside.isEmpty, let engine = d.engine else { return }
        FileHandle.standardError.write(Data("warning: extrapolating the kernels engine \(engine.name) fitted on \(d.device.name): \(outside.joined(separator: "; "))\n".utf8))
    }
}

/// The static-batch shape shared by `predict` and `explain`.
struct BatchOptions: ParsableArguments {
    @Option(help: "Requests in the static batch.")
    var batch: Int = 1
    @Option(help: "Prompt tokens per request.")
    var input: Int = 128
    @Option(help: "Output tokens per request.")
    var output: Int = 128

    func validate() throws {
        guard (1...1_048_576).contains(batch) else { throw ValidationError("--batch must be in 1...1048576, got \(batch)") }
        guard (1...100_000_000).contains(input) else { throw ValidationError("--input must be in 1...100000000, got \(input)") }
        guard (1...100_000_000).contains(output) else { throw ValidationError("--output must be in 1...100000000, got \(output)") }
    }

    /// Where the batch's prefill and its last decode step leave the shapes the engine's kernels
    /// were fitted on (prefix `prefill:` or `last decode:`).
    func extrapolations(_ d: Deployment) -> [String] {
        var prefill = StepWorkload(), decode = StepWorkload()
        for _ in 0 ..< batch {
            prefill.addPrefillChunk(tokens: input, contextBefore: 0)
            decode.addDecode(contextLength: input + output)
        }
        return d.extrapolations(of: prefill).map { "prefill: " + $0 } + d.extrapolations(of: decode).map { "last decode: " + $0 }
    }

    /// Refuses a prompt plus output longer than the model's context, as `simulate` does.
    func checkContext(_ model: ModelProfile) throws {
        guard input + output <= model.maxContextTokens else {
            throw InputError(option: "--input/--output",
                             "expected a prompt plus output of at most \(model.maxContextTokens) tokens (\(model.name)'s context), found \(input) + \(output) = \(input + output)")
        }
    }
}
