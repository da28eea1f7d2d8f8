import ArgumentParser
import Foundation
import Scenarios
import Serving

/// `infersim bench`: how fast the simulator itself runs (simulated requests per wall second).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the serving simulator: the Azure 2023 conversation trace repeated to N requests on a replica pool.")

    @Option(help: "Requests to simulate.") var requests = 1_000_000
    @Option(help: "Replicas (Llama-3-8B on one H100 SXM each).") var replicas = 32
    @Option(help: "Arrival-rate multiplier applied to the trace.") var rateMultiplier = 50.0
    @Option(help: "Path of the Azure 2023 conversation trace.") var trace = ServingBenchmark.tracePath
    @Option(help: "Step pricing: 'roofline' (InferenceCostModel from the H100 and Llama-3-8B profiles) or 'closedForm' (a fixed linear formula, to time the simulator without the cost model).")
    var pricing: ServingBenchmark.Pricing = .roofline
    @Flag(help: "Print one JSON object (schema: schemas/bench.schema.json).") var json = false

    func validate() throws {
        guard requests >= 1 else { throw ValidationError("--requests must be at least 1, got \(requests)") }
        guard replicas >= 1 else { throw ValidationError("--replicas must be at least 1, got \(replicas)") }
        guard rateMultiplier > 0 else { throw ValidationError("--rate-multiplier must be > 0, got \(rateMultiplier)") }
    }

    func run() throws {
        let scenario = ServingBenchmark.scenario(requests: requests, replicas: replicas, rateMultiplier: rateMultiplier, tracePath: trace)
        let start = DispatchTime.now().uptimeNanoseconds
        let runner = pricing == .roofline ? SimulationRunner() : SimulationRunner(resolve: ServingBenchmark.closedFormResolver)
        let report = try runner.run(scenario, file: "bench")
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let s = report.summary
        let tokens = Double(s.promptTokens + s.outputTokens)
        let rss = Self.peakResidentKilobytes()
        if json {
            var w = JSONWriter()
            w.add("requests_arrived", s.requestsArrived)
            w.add("requests_completed", s.requestsCompleted)
            w.add("requests_rejected", s.requestsRejected)
            w.add("replicas", replicas)
            w.add("simulated_s", s.simulatedSeconds)
            w.add("steps", s.steps)
            w.add("preemptions", s.preemptions)
            w.add("pricing", pricing.rawValue)
            w.add("wall_s", wall)
            w.add("requests_per_wall_s", Double(s.requestsArrived) / wall)
            w.add("tokens_per_wall_s", tokens / wall)
            w.add("peak_rss_bytes", rss.map { Double($0) * 1024 })
            print(w.rendered())
            return
        }
        print("requests: \(s.requestsArrived) arrived, \(s.requestsCompleted) completed, \(s.requestsRejected) rejected")
        print("simulated: \(String(format: "%.1f", s.simulatedSeconds)) s on \(replicas) replicas, \(s.steps) steps, preemptions \(s.preemptions)")
        print("pricing: \(pricing.rawValue)")
        print("wall: \(String(format: "%.3f", wall)) s")
        print("simulated requests per wall second: \(String(format: "%.0f", Double(s.requestsArrived) / wall))")
        print("simulated tokens (prompt + output) per wall second: \(String(format: "%.3g", tokens / wall))")
        print("peak RSS (VmHWM): \(rss.map { String(format: "%.1f MB", Double($0) / 1024) } ?? "unavailable")")
    }

    /// Peak resident set size from `/proc/self/status` (Linux), kilobytes.
    static func peakResidentKilobytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}

extension ServingBenchmark.Pricing: ExpressibleByArgument {}
