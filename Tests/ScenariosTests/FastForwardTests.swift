import Foundation
import Scenarios
import Serving
import Testing

/// Decode fast-forward (`ClusterConfiguration.fastForwardDecodes`) must not change a single bit
/// of what a run reports: random scenarios over every scheduler, KV policy and router, at light
/// and heavy load, are run both ways and their JSON reports, timeline CSVs and per-request CSVs
/// compared byte for byte.
@Test(arguments: 0..<12)
func fastForwardGivesTheStepByStepOutputToTheBit(seed: Int) throws {
    var rng = SeededGenerator(seed: UInt64(seed) &+ 0x5eed)
    let schedulers = ["continuousBatching", "chunkedPrefill", "staticBatching", "decodePriority", "priorityClasses"]
    let kvs = [#"{"kind": "paged", "blockSize": 16}"#, #"{"kind": "paged", "blockSize": 1}"#, #"{"kind": "contiguous"}"#,
               #"{"kind": "prefixCaching"}"#]
    let routers = ["leastOutstanding", "leastKVLoad", "roundRobin"]
    let scheduler = schedulers.randomElement(using: &rng)!, kv = kvs.randomElement(using: &rng)!
    let router = routers.randomElement(using: &rng)!
    let replicas = Int.random(in: 1...6, using: &rng), rate = [0.5, 4, 20, 80].randomElement(using: &rng)!, maxOutput = [8, 200, 900].randomElement(using: &rng)!
    let memory = [0.25, 0.4, 0.9].randomElement(using: &rng)!
    let json = """
    {"hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "replicas": \(replicas), "router": "\(router)",
     "scheduler": {"kind": "\(scheduler)", "maxBatchSize": \(Int.random(in: 8..<128, using: &rng))}, "kvCache": \(kv), "memoryUtilization": \(memory),
     "workload": {"generator": {"arrivals": {"poisson": {"ratePerSecond": \(rate)}},
       "promptTokens": {"uniform": {"min": 4, "max": 3000}}, "outputTokens": {"uniform": {"min": 1, "max": \(maxOutput)}}, "requests": 300}},
     "seed": \(seed)}
    """
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ff-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/s.json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    let scenario = try Scenario.load(path: path)
    func run(_ fastForward: Bool) throws -> (report: String, timeline: String, requests: String, events: Int) {
        var runner = SimulationRunner(resolve: ReplicaResolvers.catalog(root: Examples.repoRoot))
        runner.percentiles = .exact
        runner.fastForwardDecodes = fastForward
        runner.tracksTailGaps = seed % 2 == 0
        let tag = fastForward ? "ff" : "steps"
        let report = try runner.run(scenario, file: path, outputs: RunOutputs(requestsCSV: "\(dir)/r-\(tag).csv", timelineCSV: "\(dir)/t-\(tag).csv"))
        return (report.renderedJSON(), try String(contentsOfFile: "\(dir)/t-\(tag).csv", encoding: .utf8),
                try String(contentsOfFile: "\(dir)/r-\(tag).csv", encoding: .utf8), report.outcome.eventsHandled)
    }
    let fast = try run(true), steps = try run(false)
    let setup = "\(scheduler), \(kv), \(router), \(replicas) replicas at \(rate) req/s"
    #expect(fast.report == steps.report, "report differs: \(setup)")
    #expect(fast.timeline == steps.timeline, "timeline differs: \(setup)")
    #expect(fast.requests == steps.requests, "requests CSV differs: \(setup)")
    #expect(fast.events <= steps.events, "fast-forward handled more events: \(setup)")
}

/// Not vacuous: a light load of long outputs runs most of its decode steps without their events.
@Test func fastForwardSkipsMostDecodeEventsUnderLightLoad() throws {
    let json = """
    {"hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "replicas": 2, "scheduler": {"kind": "continuousBatching"},
     "kvCache": {"kind": "paged", "blockSize": 16},
     "workload": {"generator": {"arrivals": {"poisson": {"ratePerSecond": 2}}, "promptTokens": {"fixed": {"tokens": 500}},
                                "outputTokens": {"uniform": {"min": 200, "max": 800}}, "requests": 200}}, "seed": 3}
    """
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ff-light-\(UUID().uuidString).json").path
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let scenario = try Scenario.load(path: path)
    var runner = SimulationRunner(resolve: ReplicaResolvers.catalog(root: Examples.repoRoot))
    let fast = try runner.run(scenario, file: path)
    runner.fastForwardDecodes = false
    let steps = try runner.run(scenario, file: path)
    #expect(fast.renderedJSON() == steps.renderedJSON())
    #expect(fast.outcome.eventsHandled * 4 < steps.outcome.eventsHandled, "\(fast.outcome.eventsHandled) vs \(steps.outcome.eventsHandled) events")
}
