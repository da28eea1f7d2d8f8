import Diagnostics
import ArgumentParser
import CPUExecutor
import CostModel
import Foundation
import HardwareModel
import Scenarios
import Serving
import ServingMetrics
import Validation

/// `infersim serve-trace`: serves a small trace with the real CPU executor, scheduled by the
/// simulator's own scheduler code (`ServingSimulator` with `ExecutorStepRunner`), and reports
/// the measured per-request TTFT, TPOT and E2E.
struct ServeTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-trace",
        abstract: "Serve a request trace (or a scenario's workload) with the CPU executor under the simulator's scheduler and report measured TTFT/TPOT/E2E.",
        discussion: """
        Every step the scheduler forms runs as one fused forward pass on the executor; its measured wall time is the \
        step's duration. Idle time between arrivals is skipped, not slept (scheduling takes microseconds, so this \
        equals serving in real time). A scenario file (.json) supplies the scheduler, batch limits, KV policy and \
        workload; its hardware and model ids are ignored (the host runs --model).
        """)

    /// Requests a scenario may bring: every one of them runs on the executor.
    static let scenarioRequestLimit = 10_000

    @Option(help: "Path to a GGUF model file.") var model: String
    @Argument(help: "Trace file: InferSim CSV (arrival_s,prompt_tokens,output_tokens) or .jsonl; or a scenario file (.json).")
    var trace: String
    @Option(help: "Threads (default: all online cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "The simulator's batch scheduler (default chunkedPrefill; trace files only).")
    var scheduler: SchedulerKind?
    @Option(help: "Most sequences in one step, the executor's sequence slots (default 8; trace files only).") var slots: Int?
    @Option(help: "Most new tokens per step, decodes + prompt chunks (default 128; trace files only).") var tokenBudget: Int?
    @Flag(help: "Print JSON.") var json = false

    var isScenario: Bool { trace.hasSuffix(".json") }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if isScenario {
            if scheduler != nil || slots != nil || tokenBudget != nil {
                throw ValidationError("--scheduler, --slots and --token-budget apply to trace files; a scenario sets $.scheduler")
            }
            return
        }
        let slots = self.slots ?? 8, budget = tokenBudget ?? 128
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1, got \(slots)") }
        guard budget >= slots else { throw ValidationError("--token-budget must be at least --slots (\(slots)), got \(budget)") }
    }

    func run() throws {
        let llama = try ValidationInputs.loadModel(path: model)
        let requests: [RequestSpec]
        let configuration: ClusterConfiguration
        let setup: String
        if isScenario {
            (requests, configuration) = try Self.loadScenario(trace, model: llama)
            setup = "scenario \(configuration.scheduler.kind.rawValue), \(configuration.limits.maxBatchSize) sequences, "
                + "\(configuration.limits.maxTokensPerStep)-token budget, \(configuration.kvCache.kind.rawValue) KV"
        } else {
            requests = try ValidationInputs.loadTrace(path: trace)
            try ValidationInputs.checkFits(requests, model: llama, trace: trace)
            let policy = TraceServingPolicy(scheduler: scheduler ?? .chunkedPrefill, maxBatchSize: slots ?? 8, tokenBudget: tokenBudget ?? 128)
            configuration = policy.configuration(model: llama.config, contextLength: TraceServing.contextLength(for: requests))
            setup = policy.summary
        }
        let result = try TraceServing.measure(requests, configuration: configuration, model: llama, threads: threads)
        print(json ? TraceReport.json(result, trace: trace, scheduler: configuration.scheduler.kind)
                   : TraceReport.text(result, trace: trace, setup: setup, threads: threads))
    }

    /// A scenario's workload and serving configuration, on the executor: its KV cache holds
    /// `maxBatchSize` sequences of the longest request (the executor's cache), in the executor's
    /// KV bytes per token.
    /// - Throws: `InputError` naming the scenario file and field that the executor cannot serve.
    static func loadScenario(_ path: String, model: LlamaModel) throws -> ([RequestSpec], ClusterConfiguration) {
        let scenario = try Scenario.load(path: path)
        if scenario.sweep != nil {
            throw InputError(file: path, jsonPath: "$.sweep", "serve-trace runs one configuration; remove the sweep")
        }
        var source = try scenario.workload.makeSource(relativeTo: (path as NSString).deletingLastPathComponent, seed: scenario.seed)
        let requests: [RequestSpec]
        do {
            requests = try source.collectAll(limit: scenarioRequestLimit + 1)
        } catch let e as InputError {
            throw e.placedInWorkload(file: path)
        }
        guard !requests.isEmpty else { throw InputError(file: path, jsonPath: "$.workload", "the workload has no requests") }
        guard requests.count <= scenarioRequestLimit else {
            throw InputError(file: path, jsonPath: "$.workload",
                             "every request runs on the executor: expected at most \(scenarioRequestLimit) requests, found more (set a request limit)")
        }
        try ValidationInputs.checkFits(requests, model: model, trace: path)
        let longest = TraceServing.contextLength(for: requests)
        let context = scenario.kvCache.maxSequenceTokens.map { min(longest, $0) } ?? longest
        let bytesPerToken = ExecutorStepRunner.kvBytesPerToken(model.config)
        let block = scenario.kvCache.blockSize
        let perSequence = (context + block - 1) / block * block
        // The replica model only carries KV sizes here: the executor times the steps, nothing is priced.
        let unpriced = LinearStepCostModel(fixed: Seconds(0), perToken: Seconds(0), perContextToken: Seconds(0))
        let replica = ReplicaModel(costModel: unpriced, kvBytesPerToken: bytesPerToken,
                                   kvCapacityBytes: Double(scenario.scheduler.maxBatchSize * perSequence) * bytesPerToken)
        var configuration = try scenario.clusterConfiguration(replica: replica, file: path)
        configuration.kvCache.maxSequenceTokens = context
        if let (field, message) = ExecutorStepRunner.unsupported(configuration) {
            throw InputError(file: path, jsonPath: "$.\(field)", message)
        }
        return (requests, configuration)
    }
}

extension SchedulerKind: ExpressibleByArgument {}

enum TraceReport {
    static func text(_ r: ServedTrace, trace: String, setup: String, threads: Int) -> String {
        var t = TextTable(["metric", "p50", "p99", "mean", "max"], leftAligned: [0])
        for (name, s) in [("TTFT", r.timeToFirstToken), ("TPOT", r.timePerOutputToken), ("E2E", r.endToEnd)] {
            t.add([name, Format.ms(s.p50.seconds), Format.ms(s.p99.seconds), Format.ms(s.mean.seconds), Format.ms(s.max.seconds)])
        }
        let rejected = r.rejected > 0 ? ", \(r.rejected) rejected" : ""
        return "trace \(trace): \(r.timelines.count) requests\(rejected), \(r.generatedTokens) tokens generated in \(r.steps) forward passes, "
            + "\(Format.fixed(r.makespanSeconds, 2)) s (\(threads) thread(s), \(setup))\n" + t.rendered()
    }

    /// Keys as before the simulator's scheduler drove serve-trace, plus `rejected` and `scheduler`.
    static func json(_ r: ServedTrace, trace: String, scheduler: SchedulerKind) -> String {
        func stats(_ s: DurationStatistics) -> String {
            String(format: "{\"p50Seconds\": %.6f, \"p99Seconds\": %.6f, \"meanSeconds\": %.6f, \"maxSeconds\": %.6f}",
                   s.p50.seconds, s.p99.seconds, s.mean.seconds, s.max.seconds)
        }
        return "{\"trace\": \(JSONText.quoted(trace)), \"requests\": \(r.timelines.count), \"rejected\": \(r.rejected), "
            + "\"scheduler\": \(JSONText.quoted(scheduler.rawValue)), \"generatedTokens\": \(r.generatedTokens), "
            + "\"forwardPasses\": \(r.steps), \"makespanSeconds\": \(String(format: "%.6f", r.makespanSeconds)), "
            + "\"ttft\": \(stats(r.timeToFirstToken)), \"tpot\": \(stats(r.timePerOutputToken)), \"e2e\": \(stats(r.endToEnd))}"
    }
}
