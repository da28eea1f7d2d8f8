import ArgumentParser
import Diagnostics
import Foundation
import Scenarios
import Serving
import ServingMetrics

/// `infersim bench`: how fast the simulator itself runs (simulated requests per wall second).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the serving simulator: the Azure 2023 conversation trace repeated to N requests on a replica pool.")

    @Option(help: "Requests to simulate.") var requests = 1_000_000
    @Option(help: "Replicas (Llama-3-8B on one H100 SXM each).") var replicas = 32
    @Option(help: "Arrival-rate multiplier applied to the trace.") var rateMultiplier = 50.0
    @Option(help: "Replay disaggregated: this many of the replicas prefill, the rest decode (1 ... replicas - 1).") var prefillReplicas: Int?
    @Option(help: "Path of the Azure 2023 conversation trace.") var trace = ServingBenchmark.tracePath
    @Option(help: "Step pricing: 'roofline' (InferenceCostModel from the H100 and Llama-3-8B profiles) or 'closedForm' (a fixed linear formula, to time the simulator without the cost model).")
    var pricing: ServingBenchmark.Pricing = .roofline
    @Flag(help: "Print one JSON object (schema: schemas/bench.schema.json).") var json = false
    @Flag(help: "Run every decode step as its own events (no decode fast-forward), to time the step-by-step path; the report is identical.")
    var noFastForward = false
    @Flag(help: "Instead: measure peak RSS of `simulate` on a long Azure-format trace file and a longer trace streamed through a pipe, and the sketch percentiles against exact ones.")
    var memory = false
    @Flag(help: "Instead: time a 100-point sweep of the built-in quickstart scenario on one core and on every core.")
    var sweep = false
    @Option(help: "With --sweep: points of the sweep.") var points = 100
    @Option(help: "With --sweep: requests per point (the quickstart's own 3,000 by default).") var sweepRequests = 3000
    @Option(help: "With --memory: requests in the trace file.") var fileRequests = 10_000_000
    @Option(help: "With --memory: requests in the streamed trace.") var streamRequests = 100_000_000
    @Option(help: "With --memory: requests of the sketch-versus-exact comparison.") var agreementRequests = 1_000_000

    func validate() throws {
        guard requests >= 1 else { throw ValidationError("--requests must be at least 1, got \(requests)") }
        guard replicas >= 1 else { throw ValidationError("--replicas must be at least 1, got \(replicas)") }
        if let p = prefillReplicas, !(1..<replicas).contains(p) {
            throw ValidationError("--prefill-replicas must be in 1...\(replicas - 1) (the rest decode), got \(p)")
        }
        guard rateMultiplier > 0 else { throw ValidationError("--rate-multiplier must be > 0, got \(rateMultiplier)") }
        for (name, value) in [("--file-requests", fileRequests), ("--stream-requests", streamRequests), ("--agreement-requests", agreementRequests)] {
            guard (1...1_000_000_000).contains(value) else { throw ValidationError("\(name) must be in 1...1000000000, got \(value)") }
        }
    }

    func run() throws {
        if memory { return try runMemory() }
        if sweep { return try runSweep() }
        let scenario = ServingBenchmark.scenario(requests: requests, replicas: replicas, rateMultiplier: rateMultiplier, tracePath: trace,
                                                 prefillReplicas: prefillReplicas)
        let start = DispatchTime.now().uptimeNanoseconds
        var runner = pricing == .roofline ? SimulationRunner() : SimulationRunner(resolve: ServingBenchmark.closedFormResolver)
        runner.fastForwardDecodes = !noFastForward
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
            if let p = prefillReplicas { w.add("prefill_replicas", p) }
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
        if let p = prefillReplicas, let t = report.outcome.kvTransfers {
            print("disaggregated: \(p) prefill + \(replicas - p) decode replicas, \(t.count) KV transfers (p50 \(String(format: "%.2f", t.p50.milliseconds)) ms, p99 \(String(format: "%.2f", t.p99.milliseconds)) ms)")
        }
        print("pricing: \(pricing.rawValue)")
        print("wall: \(String(format: "%.3f", wall)) s")
        print("simulated requests per wall second: \(String(format: "%.0f", Double(s.requestsArrived) / wall))")
        print("simulated tokens (prompt + output) per wall second: \(String(format: "%.3g", tokens / wall))")
        print("peak RSS (VmHWM): \(rss.map { String(format: "%.1f MB", Double($0) / 1024) } ?? "unavailable")")
    }

    func runSweep() throws {
        let catalog = try ProfileCatalog.locate(explicit: nil)
        guard let (data, _) = catalog.file(ProfileCatalog.quickstartFile) else { throw BenchFailure("the built-in quickstart scenario is missing") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/quickstart.json"
        try data.write(to: URL(fileURLWithPath: file))
        // Arrival rates 0.5, 1.0, … req/s.
        guard (2...10_000).contains(points) else { throw ValidationError("--points must be in 2...10000, got \(points)") }
        let rates = (1...points).map { JSONValue.number(Double($0) / 2) }
        guard (1...1_000_000).contains(sweepRequests) else { throw ValidationError("--sweep-requests must be in 1...1000000, got \(sweepRequests)") }
        let axes = ["workload.generator.arrivals.poisson.ratePerSecond": rates, "workload.generator.requests": [JSONValue.number(Double(sweepRequests))]]
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var walls: [Int: Double] = [:]
        var outputs: [Int: String] = [:]
        for jobs in [1, cores, 1, cores] {
            let start = DispatchTime.now().uptimeNanoseconds
            let results = try SweepRunner(runner: SimulationRunner(resolve: ReplicaResolvers.catalog(catalog)), jobs: jobs)
                .runPoints(file: file, extraAxes: axes)
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            walls[jobs] = min(walls[jobs] ?? .infinity, wall)
            let csv = SweepTable(axes: axes.keys.sorted(), results: results).renderedCSV()
            if let previous = outputs[jobs == 1 ? cores : 1], previous != csv { throw BenchFailure("the sweep's table differs between 1 and \(cores) jobs") }
            outputs[jobs] = csv
        }
        let one = walls[1]!, all = walls[cores]!
        if json {
            var w = JSONWriter()
            w.add("points", points)
            w.add("cores", cores)
            w.add("wall_s_one_job", one)
            w.add("wall_s_all_cores", all)
            w.add("speedup", one / all)
            print(w.rendered())
        } else {
            print("\(points)-point sweep of the quickstart scenario (rates 0.5 to \(JSONText.shortNumber(Double(points) / 2)) req/s), best of 2 alternated runs; tables identical")
            print("1 job: \(String(format: "%.2f", one)) s; \(cores) jobs: \(String(format: "%.2f", all)) s; speedup \(String(format: "%.2f", one / all))×")
        }
    }

    func runMemory() throws {
        let bench = MemoryBench(fileRequests: fileRequests, streamRequests: streamRequests, agreementRequests: agreementRequests)
        let outcome = try bench.run { if !json { FileHandle.standardError.write(Data(("… " + $0 + "\n").utf8)) } }
        let bound = LatencyHistogram.relativeError
        if json {
            var w = JSONWriter()
            w.add("file_requests", outcome.file.requests)
            w.add("file_completed", outcome.file.completed)
            w.add("file_trace_bytes", outcome.file.traceBytes ?? 0)
            w.add("file_peak_rss_bytes", outcome.file.peakRSSBytes)
            w.add("file_wall_s", outcome.file.wallSeconds)
            w.add("stream_requests", outcome.stream.requests)
            w.add("stream_completed", outcome.stream.completed)
            w.add("stream_peak_rss_bytes", outcome.stream.peakRSSBytes)
            w.add("stream_wall_s", outcome.stream.wallSeconds)
            w.add("stream_ttft_p50_ms", outcome.stream.ttftP50Milliseconds)
            w.add("stream_ttft_p99_ms", outcome.stream.ttftP99Milliseconds)
            w.add("agreement_requests", agreementRequests)
            w.add("agreement_worst_relative_difference", outcome.agreement.worst)
            w.add("agreement_worst_at", outcome.agreement.at)
            w.add("agreement_bound", bound)
            print(w.rendered())
            return
        }
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
        print("memory in the length of the trace (Llama-3-8B on 16 H100 SXM, Azure-2023-format rows at 400 req/s, `simulate` in a child process)")
        print("trace file, \(outcome.file.requests) requests (\(mb(outcome.file.traceBytes ?? 0))): peak RSS \(mb(outcome.file.peakRSSBytes)), \(outcome.file.completed) completed, \(String(format: "%.1f", outcome.file.wallSeconds)) s wall, TTFT p50 \(String(format: "%.1f", outcome.file.ttftP50Milliseconds)) ms, p99 \(String(format: "%.1f", outcome.file.ttftP99Milliseconds)) ms")
        print("streamed through a pipe, \(outcome.stream.requests) requests: peak RSS \(mb(outcome.stream.peakRSSBytes)), \(outcome.stream.completed) completed, \(String(format: "%.1f", outcome.stream.wallSeconds)) s wall, TTFT p50 \(String(format: "%.1f", outcome.stream.ttftP50Milliseconds)) ms, p99 \(String(format: "%.1f", outcome.stream.ttftP99Milliseconds)) ms")
        print("sketch vs exact percentiles, \(agreementRequests) requests: largest difference \(String(format: "%.4f%%", outcome.agreement.worst * 100)) (\(outcome.agreement.at)), documented bound \(String(format: "%.4f%%", bound * 100))")
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
