import Diagnostics
import Foundation
import Scenarios
import ServingMetrics
#if canImport(Glibc)
import Glibc
#endif

/// `infersim bench --memory`: peak RSS of `simulate` replaying a long Azure-format trace from a
/// file and a longer one streamed through a pipe (generated on the fly, never on disk), each
/// run as a child process and measured by `wait4`; then the sketch percentiles against the exact
/// ones on one run. Memory must depend on the requests in flight, not on the trace's length.
struct MemoryBench {
    var fileRequests: Int
    var streamRequests: Int
    var agreementRequests: Int

    struct Run {
        var requests: Int
        var completed: Int
        var peakRSSBytes: Int
        var wallSeconds: Double
        var traceBytes: Int?
        /// The run's TTFT p50 and p99, ms: the load is meant to be sustainable (a queue that grew
        /// without end would be memory growing with the trace, for a different reason).
        var ttftP50Milliseconds = 0.0
        var ttftP99Milliseconds = 0.0
    }

    struct Outcome {
        var file: Run
        var stream: Run
        var agreement: (worst: Double, at: String)
    }

    func run(progress: (String) -> Void) throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var slots: [Int?] = []
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            for slot in slots { PartialFiles.unregister(slot) }
        }

        // 1. A trace file of `fileRequests` rows.
        let fileBench = TraceScaleBenchmark(requests: fileRequests)
        let tracePath = dir + "/trace.csv"
        progress("writing a \(fileRequests)-request Azure-format trace to \(tracePath)")
        try write(fileBench, to: tracePath, slots: &slots)
        let traceBytes = (try FileManager.default.attributesOfItem(atPath: tracePath)[.size] as? Int) ?? 0
        progress("simulating it (a child process)")
        let fileRun = try simulate(fileBench, trace: tracePath, in: dir, name: "file", feed: nil)
        try? FileManager.default.removeItem(atPath: tracePath)

        // 2. A trace of `streamRequests` rows through a named pipe.
        let streamBench = TraceScaleBenchmark(requests: streamRequests)
        let fifo = dir + "/trace-stream.csv"
        guard mkfifo(fifo, 0o600) == 0 else { throw BenchFailure("cannot create the pipe \(fifo): \(String(cString: strerror(errno)))") }
        progress("streaming a \(streamRequests)-request trace through \(fifo) into a child process")
        let streamRun = try simulate(streamBench, trace: fifo, in: dir, name: "stream", feed: streamBench)

        // 3. Sketch against exact percentiles on one run.
        let small = TraceScaleBenchmark(requests: agreementRequests)
        let smallPath = dir + "/agreement.csv"
        try write(small, to: smallPath, slots: &slots)
        progress("comparing sketch and exact percentiles on \(agreementRequests) requests")
        let scenario = try StrictJSON.decode(Scenario.self, from: Data(small.scenarioJSON(tracePath: smallPath).utf8), file: "bench")
        var sketchRunner = SimulationRunner()
        sketchRunner.percentiles = .sketch
        var exactRunner = SimulationRunner()
        exactRunner.percentiles = .exact
        let sketch = try sketchRunner.run(scenario, file: "bench").summary
        let exact = try exactRunner.run(scenario, file: "bench").summary
        let agreement = TraceScaleBenchmark.percentileAgreement(sketch: sketch, exact: exact)
        return Outcome(file: Run(requests: fileRequests, completed: fileRun.completed, peakRSSBytes: fileRun.peakRSSBytes,
                                 wallSeconds: fileRun.wallSeconds, traceBytes: traceBytes,
                                 ttftP50Milliseconds: fileRun.ttftP50Milliseconds, ttftP99Milliseconds: fileRun.ttftP99Milliseconds),
                       stream: streamRun, agreement: agreement)
    }

    func write(_ bench: TraceScaleBenchmark, to path: String, slots: inout [Int?]) throws {
        guard let f = fopen(path, "wb") else { throw BenchFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
        // Removed on SIGINT/SIGTERM until the run's directory is removed (`run`'s defer).
        slots.append(PartialFiles.register(path))
        let ok = bench.write(to: f)
        guard fclose(f) == 0, ok else { throw BenchFailure("writing \(path) failed (disk full?)") }
    }

    /// Runs `infersim simulate` on the bench scenario in a child; with `feed`, writes the trace
    /// into the pipe at `trace` while the child reads it.
    func simulate(_ bench: TraceScaleBenchmark, trace: String, in dir: String, name: String, feed: TraceScaleBenchmark?) throws -> Run {
        let scenarioPath = dir + "/\(name).json"
        try bench.scenarioJSON(tracePath: trace).write(toFile: scenarioPath, atomically: true, encoding: .utf8)
        let out = dir + "/\(name).out.json", err = dir + "/\(name).err"
        let child = try ChildProcess.start(["simulate", scenarioPath, "--json"], stdoutPath: out, stderrPath: err)
        var early: ChildProcess.Result?
        if let feed {
            signal(SIGPIPE, SIG_IGN)
            var fd: Int32 = -1
            while fd < 0 {
                fd = open(trace, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { break }
                guard errno == ENXIO || errno == EINTR else { throw BenchFailure("cannot open the pipe \(trace): \(String(cString: strerror(errno)))") }
                if let r = child.poll() { early = r; break }
                usleep(10_000)
            }
            if fd >= 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
                if let f = fdopen(fd, "wb") {
                    _ = feed.write(to: f)
                    fclose(f)
                } else {
                    close(fd)
                }
            }
        }
        let result = early ?? child.wait()
        guard result.status == 0 else {
            let message = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            throw BenchFailure("the \(name) run failed (exit \(result.status)): \(message.split(separator: "\n").first ?? "")")
        }
        let data = FileManager.default.contents(atPath: out) ?? Data()
        let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let summary = root?["summary"] as? [String: Any]
        let completed = (summary?["requests_completed"] as? Int) ?? -1
        let ttft = summary?["ttft_ms"] as? [String: Any]
        return Run(requests: bench.requests, completed: completed, peakRSSBytes: result.peakRSSBytes, wallSeconds: result.wallSeconds,
                   traceBytes: nil, ttftP50Milliseconds: (ttft?["p50"] as? Double) ?? .nan, ttftP99Milliseconds: (ttft?["p99"] as? Double) ?? .nan)
    }
}
