import Diagnostics
import CostModel
import Foundation
import HardwareModel
import Scenarios
import Serving
import ServingMetrics
import Testing

/// A closed-form replica: 2 ms a step + 25 µs a token + 0.05 µs a context token; 400k KV tokens.
let closedForm: ReplicaResolver = { _, _ in
    ReplicaModel(costModel: LinearStepCostModel(fixed: Seconds(2e-3), perToken: Seconds(25e-6), perContextToken: Seconds(5e-8)),
                 kvBytesPerToken: 131_072, kvCapacityBytes: 131_072 * 400_000, idlePowerWatts: 100, hostLinkBytesPerSecond: 50e9)
}

func writeTemporary(_ json: String, name: String = "scenario.json") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-scenarios-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func scenarioJSON(scheduler: String = "chunkedPrefill", extra: String = "", workload: String? = nil, rate: Double = 4) -> String {
    let w = workload ?? """
    {"generator": {"arrivals": {"poisson": {"ratePerSecond": \(rate)}},
                   "promptTokens": {"lognormal": {"median": 800, "p90": 2000, "max": 6000}},
                   "outputTokens": {"uniform": {"min": 20, "max": 300}}, "requests": 200}}
    """
    return """
    {"name": "t", "hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "replicas": 2,
     "scheduler": {"kind": "\(scheduler)", "maxBatchSize": 64, "maxTokensPerStep": 1024},
     "kvCache": {"kind": "paged", "blockSize": 16}, "router": "leastOutstanding",
     "workload": \(w), "seed": 7, "slo": {"ttftMs": 500}\(extra)}
    """
}

@Test func theSameScenarioAndSeedGiveByteIdenticalJSON() throws {
    let path = try writeTemporary(scenarioJSON())
    let runner = SimulationRunner(resolve: closedForm)
    let first = try runner.run(file: path).renderedJSON()
    let second = try runner.run(file: path).renderedJSON()
    #expect(first == second)
    #expect(first.contains("\"requests_arrived\": 200"))
    // A different seed draws a different workload.
    let other = try writeTemporary(scenarioJSON().replacingOccurrences(of: "\"seed\": 7", with: "\"seed\": 8"))
    #expect(try runner.run(file: other).renderedJSON() != first)
}

@Test func aQPSRampPastCapacityIsFlaggedAsOverloaded() throws {
    let ramp = """
    {"generator": {"arrivals": {"piecewise": {"segments": [{"durationSeconds": 120, "startRatePerSecond": 1, "endRatePerSecond": 60}]}},
                   "promptTokens": {"fixed": {"tokens": 1000}}, "outputTokens": {"fixed": {"tokens": 200}}}}
    """
    let runner = SimulationRunner(resolve: closedForm)
    let report = try runner.run(file: try writeTemporary(scenarioJSON(workload: ramp)))
    #expect(report.summary.overloaded, "\(report.summary.overloadReason)")
    let steady = try runner.run(file: try writeTemporary(scenarioJSON(rate: 2)))
    #expect(!steady.summary.overloaded, "\(steady.summary.overloadReason)")
}

@Test func unknownPolicyNamesListTheKnownOnes() throws {
    let runner = SimulationRunner(resolve: closedForm)
    let badScheduler = try writeTemporary(scenarioJSON(scheduler: "roundRobinBatching"))
    #expect(throws: InputError.self) { try runner.run(file: badScheduler) }
    do { _ = try runner.run(file: badScheduler) } catch let e as InputError {
        #expect(e.location == "$.scheduler.kind")
        for kind in SchedulerKind.allCases { #expect(e.message.contains(kind.rawValue)) }
    }
    let badRouter = try writeTemporary(scenarioJSON().replacingOccurrences(of: "\"leastOutstanding\"", with: "\"random\""))
    do { _ = try runner.run(file: badRouter); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.location == "$.router" && e.message.contains("prefixAffinity") && e.message.contains("\"random\""))
    }
    let badKV = try writeTemporary(scenarioJSON().replacingOccurrences(of: "\"kind\": \"paged\"", with: "\"kind\": \"radix\""))
    do { _ = try runner.run(file: badKV); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.location == "$.kvCache.kind" && e.message.contains("prefixCaching"))
    }
}

@Test func unknownScenarioKeysAreRejectedWithTheirPath() throws {
    let path = try writeTemporary(scenarioJSON(extra: ", \"replicaz\": 3"))
    do { _ = try SimulationRunner(resolve: closedForm).run(file: path); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.file == path && e.location == "$.replicaz")
    }
    let nested = try writeTemporary(scenarioJSON().replacingOccurrences(of: "\"blockSize\": 16", with: "\"blockSize\": 16, \"blocksize\": 8"))
    do { _ = try SimulationRunner(resolve: closedForm).run(file: nested); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.location == "$.kvCache.blocksize")
    }
}

@Test func aMissingTraceFileIsAnInputErrorNamingIt() throws {
    let path = try writeTemporary(scenarioJSON(workload: "{\"trace\": {\"format\": \"azure2023\", \"path\": \"no-such-trace.csv\"}}"))
    do { _ = try SimulationRunner(resolve: closedForm).run(file: path); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.description.contains("no-such-trace.csv"))
        #expect(!e.description.contains("\n"))
    }
}

@Test func unknownHardwareOrModelIdsListTheKnownOnes() throws {
    let path = try writeTemporary(scenarioJSON().replacingOccurrences(of: "llama-3-8b", with: "llama-9"))
    do { _ = try SimulationRunner().run(file: path); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.description.contains("llama-9") && e.description.contains("llama-3-8b"))
    }
}

@Test func failedRunsLeaveNoPartialOutputFiles() throws {
    let path = try writeTemporary(scenarioJSON(workload: "{\"trace\": {\"format\": \"azure2023\", \"path\": \"bad.csv\"}}"))
    let dir = (path as NSString).deletingLastPathComponent
    try "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:47.0,abc,5\n"
        .write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
    let requests = dir + "/requests.csv", timeline = dir + "/timeline.csv"
    #expect(throws: InputError.self) {
        try SimulationRunner(resolve: closedForm).run(file: path, outputs: RunOutputs(requestsCSV: requests, timelineCSV: timeline))
    }
    #expect(!FileManager.default.fileExists(atPath: requests) && !FileManager.default.fileExists(atPath: timeline))
    // Skipping bad rows instead: one good request, one skipped, files written.
    let skipping = try writeTemporary(scenarioJSON(workload: "{\"trace\": {\"format\": \"azure2023\", \"path\": \"\(dir)/bad.csv\", \"skipBadRows\": true}}"))
    let report = try SimulationRunner(resolve: closedForm).run(file: skipping, outputs: RunOutputs(requestsCSV: requests, timelineCSV: timeline))
    #expect(report.skippedRows == 1 && report.summary.requestsCompleted == 1)
    #expect(FileManager.default.fileExists(atPath: requests) && FileManager.default.fileExists(atPath: timeline))
}

@Test func sweepsExpandToTheGridAndMatchSingleRuns() throws {
    let path = try writeTemporary(scenarioJSON(extra: ", \"sweep\": {\"scheduler.kind\": [\"continuousBatching\", \"chunkedPrefill\"], \"replicas\": [1, 2]}"))
    let points = try SweepExpansion.expand(file: path)
    #expect(points.count == 4)
    #expect(points.map(\.label).first == "replicas=1 scheduler.kind=continuousBatching")
    #expect(points[1].scenario.scheduler.kind == .chunkedPrefill && points[1].scenario.replicas == 1)
    let runner = SimulationRunner(resolve: closedForm)
    let results = try SweepRunner(runner: runner).run(file: path)
    #expect(results.count == 4)
    for (i, point) in points.enumerated() {
        #expect(results[i].report.renderedJSON() == (try runner.run(point.scenario, file: path).renderedJSON()))
    }
    let bad = try writeTemporary(scenarioJSON(extra: ", \"sweep\": {\"scheduler.kind\": [\"fastest\"]}"))
    do { _ = try SweepExpansion.expand(file: bad); Issue.record("expected an error") } catch let e as InputError {
        #expect(e.file.contains("scheduler.kind=fastest") && e.location == "$.scheduler.kind")
    }
}

@Test func quickstartRunsOnTheShippedProfiles() throws {
    let scenario = try Scenario.load(path: "scenarios/quickstart.json")
    #expect(scenario.hardware == "nvidia-h100-sxm" && scenario.model == "llama-3.1-8b")
    let report = try SimulationRunner().run(file: "scenarios/quickstart.json")
    #expect(report.summary.requestsArrived >= 2000)
    #expect(report.summary.requestsCompleted + report.summary.requestsRejected == report.summary.requestsArrived)
    // Llama-3-8B fp16 on one H100: a decode step of a modest batch is a 16 GB weight read at ~3 TB/s.
    #expect(report.summary.timePerOutputToken.p50.milliseconds > 4 && report.summary.timePerOutputToken.p50.milliseconds < 40)
}
