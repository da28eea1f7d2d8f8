import ArgumentParser
import Foundation
import ServingMetrics
import Validation

/// `infersim serve-trace`: replays a trace through the real CPU executor in real time.
struct ServeTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-trace",
        abstract: "Serve a request trace with the CPU executor (continuous batching, chunked prefill) and report TTFT/TPOT/E2E.")

    @Option(help: "Path to a GGUF model file.") var model: String
    @Argument(help: "Trace file: InferSim CSV (arrival_s,prompt_tokens,output_tokens) or .jsonl.") var trace: String
    @Option(help: "Threads (default: all online cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Sequences in flight at once.") var slots: Int = 8
    @Option(help: "New tokens per iteration (decodes + prompt chunks).") var tokenBudget: Int = 128
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1, got \(slots)") }
        guard tokenBudget >= slots else { throw ValidationError("--token-budget must be at least --slots (\(slots)), got \(tokenBudget)") }
    }

    func run() throws {
        let llama = try ValidationInputs.loadModel(path: model)
        let requests = try ValidationInputs.loadTrace(path: trace)
        try ValidationInputs.checkFits(requests, model: llama, trace: trace)
        let policy = TraceReplay.Policy(slots: slots, tokenBudget: tokenBudget)
        var backend = ExecutorBackend(model: llama, slots: slots, contextLength: TraceReplay.contextLength(for: requests),
                                      maxChunkTokens: tokenBudget, threads: threads)
        let result = try TraceReplay(policy: policy).run(requests, on: &backend)
        print(json ? TraceReport.json(result, trace: trace) : TraceReport.text(result, trace: trace, policy: policy, threads: threads))
    }
}

enum TraceReport {
    static func text(_ r: TraceReplay.Result, trace: String, policy: TraceReplay.Policy, threads: Int) -> String {
        var t = TextTable(["metric", "p50", "p99", "mean", "max"], leftAligned: [0])
        for (name, s) in [("TTFT", r.timeToFirstToken), ("TPOT", r.timePerOutputToken), ("E2E", r.endToEnd)] {
            t.add([name, Format.ms(s.p50.seconds), Format.ms(s.p99.seconds), Format.ms(s.mean.seconds), Format.ms(s.max.seconds)])
        }
        return "trace \(trace): \(r.timelines.count) requests, \(r.generatedTokens) tokens generated in \(r.forwardPasses) forward passes, "
            + "\(Format.fixed(r.makespan, 2)) s (\(threads) thread(s), \(policy.slots) slots, \(policy.tokenBudget)-token budget)\n" + t.rendered()
    }

    static func json(_ r: TraceReplay.Result, trace: String) -> String {
        func stats(_ s: DurationStatistics) -> String {
            String(format: "{\"p50Seconds\": %.6f, \"p99Seconds\": %.6f, \"meanSeconds\": %.6f, \"maxSeconds\": %.6f}",
                   s.p50.seconds, s.p99.seconds, s.mean.seconds, s.max.seconds)
        }
        return "{\"trace\": \"\(trace)\", \"requests\": \(r.timelines.count), \"generatedTokens\": \(r.generatedTokens), "
            + "\"forwardPasses\": \(r.forwardPasses), \"makespanSeconds\": \(String(format: "%.6f", r.makespan)), "
            + "\"ttft\": \(stats(r.timeToFirstToken)), \"tpot\": \(stats(r.timePerOutputToken)), \"e2e\": \(stats(r.endToEnd))}"
    }
}
