import Diagnostics
import CostModel
import CPUExecutor
import Foundation
import GGUF
import HardwareModel
import Scenarios
import Serving

/// One entry point per parser, shared by the libFuzzer executables (`Fuzz/`, built with
/// `scripts/fuzz.sh`) and the regression tests that replay the corpus and every crash found.
///
/// Each takes arbitrary bytes, parses them as a user's file would be parsed, and, when that
/// succeeds, does the cheap work that follows in the CLI (resolving a deployment, a memory plan,
/// pricing a few steps, a forward pass of a tiny model). Errors are the expected outcome of most
/// inputs; a trap, an abort or an unbounded allocation is a crash. An error whose message spans
/// more than one line is a crash too (every error must be one line).
public enum FuzzTargets {
    public enum Target: String, CaseIterable, Sendable {
        case scenario, device, model, interconnect
        case traceAzure = "trace-azure", traceMooncake = "trace-mooncake", traceCSV = "trace-csv", traceJSONL = "trace-jsonl"
        case gguf, tokenizer
    }

    /// Runs `target` on `data`. Returns the error message if the input was refused, nil if accepted.
    @discardableResult
    public static func run(_ target: Target, _ data: Data) -> String? {
        do {
            switch target {
            case .scenario: try scenario(data)
            case .device: try device(data)
            case .model: try model(data)
            case .interconnect: try interconnect(data)
            case .traceAzure: try trace(data, .azure2023)
            case .traceMooncake: try trace(data, .mooncake)
            case .traceCSV: try trace(data, .csv)
            case .traceJSONL: try trace(data, .jsonl)
            case .gguf: try gguf(data)
            case .tokenizer: try tokenizer(data)
            }
            return nil
        } catch {
            let message = "\(error)"
            precondition(!message.contains("\n"), "multi-line error: \(message)")
            precondition(!message.isEmpty, "empty error message")
            return message
        }
    }

    static let catalog = ProfileCatalog(root: nil)
    static let file = "fuzz.json"

    /// Prices a prefill, a decode batch and a mixed step.
    static func price(_ model: any StepCostModel, context: Int) {
        var prefill = StepWorkload()
        prefill.addPrefillChunk(tokens: min(512, context), contextBefore: 0)
        var decode = StepWorkload()
        for _ in 0..<8 { decode.addDecode(contextLength: context) }
        var mixed = decode
        mixed.addPrefillChunk(tokens: 64, contextBefore: max(0, context - 64))
        for step in [prefill, decode, mixed] {
            let c = model.cost(of: step)
            precondition(c.duration.value.isFinite && c.duration.value >= 0, "step price \(c.duration.value)")
        }
    }

    static func scenario(_ data: Data) throws {
        var s = try StrictJSON.decode(Scenario.self, from: data, file: file)
        let replica = try ReplicaResolvers.catalog(root: nil)(s, file)
        let context = min(replica.maxContextTokens ?? 4096, s.kvCache.maxSequenceTokens ?? 4096)
        price(replica.costModel, context: max(1, context))
        // The cluster as configured, serving a tiny fixed workload (the scenario's own workload
        // may name files or ask for millions of requests; its decoding is fuzzed above).
        // The scenario's arrival process is kept (rates of 1e308 and the like are inputs to fuzz).
        var arrivals = ArrivalProcess.poisson(ratePerSecond: 50)
        if case .generator(let g) = s.workload { arrivals = g.arrivals }
        s.workload = .generator(GeneratorWorkloadSpec(arrivals: arrivals, promptTokens: .fixed(tokens: 24),
                                                      outputTokens: .fixed(tokens: 4), requests: 6))
        if var pools = s.disaggregation {
            // Pools are capped one by one: `replicas` is their sum, and a prefill pool as large as
            // the cluster would leave no decode replica.
            pools.prefillReplicas = min(pools.prefillReplicas, 2)
            pools.decodeReplicas = min(pools.decodeReplicas, 2)
            s.disaggregation = pools
            s.replicas = pools.prefillReplicas + pools.decodeReplicas
        } else {
            s.replicas = min(s.replicas, 4)
        }
        _ = try SimulationRunner(resolve: { _, _ in replica }).run(s, file: file)
    }

    static func device(_ data: Data) throws {
        let d = try StrictJSON.decode(DeviceProfile.self, from: data, file: file)
        let cls = try catalog.deviceClass(d.deviceClass)
        let deployment = try Deployment(model: try catalog.model("llama-3-8b"), device: d, deviceClass: cls)
        _ = deployment.memoryPlan(maxStepTokens: 2048, maxLogitRows: 8)
        price(InferenceCostModel(deployment: deployment), context: 1024)
    }

    static func model(_ data: Data) throws {
        let m = try StrictJSON.decode(ModelProfile.self, from: data, file: file)
        let device = try catalog.device("nvidia-h100-sxm")
        let deployment = try Deployment(model: m, device: device, deviceClass: try catalog.deviceClass(device.deviceClass))
        _ = deployment.memoryPlan(maxStepTokens: 2048, maxLogitRows: 8)
        price(InferenceCostModel(deployment: deployment), context: max(1, min(m.maxContextTokens, 4096)))
    }

    static func interconnect(_ data: Data) throws {
        let link = try StrictJSON.decode(InterconnectProfile.self, from: data, file: file)
        let device = try catalog.device("nvidia-h100-sxm")
        let deployment = try Deployment(model: try catalog.model("llama-3-70b"), device: device,
                                        deviceClass: try catalog.deviceClass(device.deviceClass),
                                        tensorParallel: 4, pipelineParallel: 2, scaleUpLink: link, scaleOutLink: link)
        price(InferenceCostModel(deployment: deployment), context: 1024)
    }

    static func trace(_ data: Data, _ format: TraceFormat) throws {
        var reader = TraceReader(text: String(decoding: data, as: UTF8.self), name: "fuzz-trace", format: format)
        var n = 0
        while let r = try reader.next(), n < 10_000 {
            precondition(r.promptTokens >= 0 && r.outputTokens >= 0, "negative token counts")
            n += 1
        }
    }

    /// A GGUF file: parsed, loaded as a Llama model when it is one, and run for two tokens when
    /// small enough; its tokenizer, when it has one, encodes and decodes a fixed text.
    static func gguf(_ data: Data) throws {
        let file = try GGUFFile(bytes: [UInt8](data))
        let model = try LlamaModel(file: file)
        if model.weightBytes <= 64 << 20 {
            let session = InferenceSession(model: model, options: .init(contextLength: 8, threads: 1))
            _ = try session.forward(tokens: [0, 1].map { Int32($0 % max(1, model.config.vocabularySize)) })
        }
        let tokenizer = try BPETokenizer(gguf: file)
        let ids = tokenizer.encode("Hello, world! <|im_start|>", parseSpecial: true)
        _ = tokenizer.decodeBytes(ids, renderSpecial: true)
    }

    /// The tokenizer of a tiny built-in vocabulary on arbitrary text.
    static func tokenizer(_ data: Data) throws {
        let text = String(decoding: data, as: UTF8.self)
        let ids = tokenizerFixture.encode(text, parseSpecial: true)
        _ = tokenizerFixture.decodeBytes(ids, renderSpecial: true)
        _ = tokenizerFixture.applyChatTemplate(messages: [(role: "user", content: text)], addGenerationPrompt: true)
    }

    /// The tokenizer of a GGUF file (for `tokenizerFixture`).
    public static func tokenizer(ggufAt path: String) throws -> BPETokenizer {
        try BPETokenizer(gguf: GGUFFile(path: path))
    }

    /// Set by the tokenizer executable (or a test) before fuzzing: a tokenizer read from a GGUF file.
    nonisolated(unsafe) public static var tokenizerFixture: BPETokenizer!
}
