import ArgumentParser
import CostModel
import HardwareModel
import Scenarios

/// Options shared by `predict` and `explain`: what runs where, in which formats.
struct DeploymentOptions: ParsableArguments {
    @Option(help: "Hardware id: a device or a system (see `infersim profiles list`).")
    var hardware: String
    @Option(help: "Model id (see `infersim profiles list`).")
    var model: String
    @Option(name: .customLong("tp"), help: "Tensor-parallel degree.")
    var tensorParallel: Int = 1
    @Option(name: .customLong("pp"), help: "Pipeline-parallel degree.")
    var pipelineParallel: Int = 1
    @Option(help: "Weight format: \(DType.knownNames).")
    var weights: String = "fp16"
    @Option(help: "Activation format.")
    var activations: String = "fp16"
    @Option(help: "KV-cache format.")
    var kv: String = "fp16"
    @Option(help: "Fraction of device memory the engine may use.")
    var memoryUtilization: Double = 0.9
    @Option(help: "Chips (or wafers) of an SRAM machine (groq-lpu, cerebras-wse-3); default: the fewest whose SRAM holds the weights and the batch's KV cache.")
    var chips: Int?
    @Option(help: "Where a processing-in-memory device runs what: \(PIMPlacement.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pimPlacement: String = "none"
    @Option(help: "Directory holding hardware-profiles/ and scenarios/ (default: found from the working directory).")
    var profiles: String?

    func validate() throws {
        guard tensorParallel >= 1 else { throw ValidationError("--tp must be at least 1, got \(tensorParallel)") }
        guard pipelineParallel >= 1 else { throw ValidationError("--pp must be at least 1, got \(pipelineParallel)") }
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
                                      chips: chips, onChipKVTokens: kvTokens)
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
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard input >= 1 else { throw ValidationError("--input must be at least 1, got \(input)") }
        guard output >= 1 else { throw ValidationError("--output must be at least 1, got \(output)") }
    }
}
