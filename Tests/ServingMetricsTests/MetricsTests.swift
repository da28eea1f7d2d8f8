import Diagnostics
import Foundation
import Testing
import DiscreteEvent
import HardwareModel
@testable import ServingMetrics

func at(_ ms: Int64) -> SimInstant { SimInstant(nanoseconds: ms * 1_000_000) }

/// A tiny deterministic generator for test data (the simulator's lives in Serving).
struct TestRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Test func timelineFormulasMatchTheirDefinitions() {
    let t = RequestTimeline(id: 3, arrival: at(100), scheduled: at(150), firstToken: at(400), completion: at(1_400),
                            promptTokens: 500, outputTokens: 11, preemptions: 1, cachedPromptTokens: 128)
    #expect(t.timeToFirstToken == .milliseconds(300))
    #expect(t.timePerOutputToken == .milliseconds(100)) // 1000 ms over 10 intervals
    #expect(t.endToEnd == .milliseconds(1_300))
    #expect(t.queueing == .milliseconds(50))
    let single = RequestTimeline(id: 4, arrival: at(0), scheduled: at(0), firstToken: at(10), completion: at(10),
                                 promptTokens: 5, outputTokens: 1)
    #expect(single.timePerOutputToken == nil)
    // TPOT rounds to the nearest nanosecond: 10 ns over 3 intervals = 3.33 -> 3.
    let odd = RequestTimeline(id: 5, arrival: .zero, scheduled: .zero, firstToken: SimInstant(nanoseconds: 5),
                              completion: SimInstant(nanoseconds: 15), promptTokens: 1, outputTokens: 4)
    #expect(odd.timePerOutputToken?.nanoseconds == 3)
}

/// Reference: the type-7 quantile computed the slow, obvious way on a freshly sorted copy.
func referenceQuantile(_ values: [Int64], _ p: Double) -> Double {
    var sorted = values
    // insertion sort, independent of the library sort
    for i in 1..<max(sorted.count, 1) {
        var j = i
        while j > 0 && sorted[j - 1] > sorted[j] { sorted.swapAt(j - 1, j); j -= 1 }
    }
    let h = p * Double(sorted.count - 1)
    let lo = Int(h)
    let hi = min(lo + 1, sorted.count - 1)
    return Double(sorted[lo]) * (1 - (h - Double(lo))) + Double(sorted[hi]) * (h - Double(lo))
}

@Test func percentilesMatchASortedArrayReference() {
    var rng = TestRNG(state: 77)
    for trial in 0..<200 {
        let n = 1 + Int(rng.next() % 300)
        let values = (0..<n).map { _ in Int64(rng.next() % 1_000_000) - (trial % 3 == 0 ? 500_000 : 0) }
        let sorted = values.sorted()
        for p in [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let got = Percentiles.interpolated(sorted: sorted, p)!
            let want = referenceQuantile(values, p)
            #expect(abs(got - want) <= 1e-6 * max(1, abs(want)))
        }
        #expect(Percentiles.interpolated(sorted: sorted, 0) == Double(sorted.first!))
        #expect(Percentiles.interpolated(sorted: sorted, 1) == Double(sorted.last!))
    }
    #expect(Percentiles.interpolated(sorted: [], 0.5) == nil)
    // Worked example: 1..10, p90 = x[8.1] = 9.1
    #expect(Percentiles.interpolated(sorted: Array(1...10), 0.9)! == 9.1)
}

@Test func latencyHistogramPercentilesAreWithinTheirStatedError() {
    var rng = TestRNG(state: 5)
    var histogram = LatencyHistogram()
    var expanded: [Int64] = []
    for _ in 0..<3000 {
        let v = Int64(rng.next() % 200_000_000) + 1 // up to 200 ms
        let w = Int(rng.next() % 8) + 1
        histogram.add(SimDuration(nanoseconds: v), weight: w)
        expanded.append(contentsOf: repeatElement(v, count: w))
    }
    expanded.sort()
    for p in [0.5, 0.9, 0.99] {
        // Nearest rank on weights.
        let exact = Double(expanded[Int((p * Double(expanded.count)).rounded(.up)) - 1])
        let got = Double(histogram.percentile(p)!.nanoseconds)
        #expect(abs(got - exact) <= exact * 0.002 + 1)
    }
    let stats = histogram.statistics
    #expect(stats.count == expanded.count)
    #expect(stats.max.nanoseconds == expanded.last! && stats.min.nanoseconds == expanded.first!)
    let mean = Double(expanded.reduce(0, +)) / Double(expanded.count)
    #expect(abs(Double(stats.mean.nanoseconds) - mean) <= 1)
    // Small values are exact.
    var small = LatencyHistogram()
    for v in [3, 3, 100, 255] { small.add(SimDuration(nanoseconds: Int64(v)), weight: 1) }
    #expect(small.percentile(0.5)?.nanoseconds == 3 && small.percentile(1)?.nanoseconds == 255)
}

/// Records a step in the collector (its time-resolved views) and in the run's totals, as a replica does.
func recordStep(_ c: inout MetricsCollector, _ totals: inout StepTotals, at start: SimInstant, duration: SimDuration,
                batchSize: Int, prefillTokens: Int, decodeTokens: Int, kvUtilization: Double, energyJoules: Double) {
    c.recordStep(at: start, duration: duration, batchSize: batchSize, prefillTokens: prefillTokens, decodeTokens: decodeTokens,
                 kvUtilization: kvUtilization, energyJoules: energyJoules)
    totals.add(duration: duration, batchSize: batchSize, prefillTokens: prefillTokens, decodeTokens: decodeTokens,
               energyJoules: energyJoules, kvUtilization: kvUtilization)
}

/// Two requests and three steps, every number worked out by hand.
func handBuiltCollector() -> (collector: MetricsCollector, steps: StepTotals) {
    var c = MetricsCollector(expectedRequests: 4)
    var t = StepTotals()
    for ms: Int64 in [0, 500, 900] { c.recordArrival(at: at(ms)) }
    c.record(RequestTimeline(id: 0, arrival: at(0), scheduled: at(0), firstToken: at(200), completion: at(1_200),
                             promptTokens: 1000, outputTokens: 11, cachedPromptTokens: 200))
    c.record(RequestTimeline(id: 1, arrival: at(500), scheduled: at(600), firstToken: at(1_500), completion: at(2_000),
                             promptTokens: 3000, outputTokens: 1, preemptions: 2, cachedPromptTokens: 0))
    c.reject(id: 2, reason: .exceedsMaxSequenceLength)
    recordStep(&c, &t, at: at(0), duration: .milliseconds(200), batchSize: 1, prefillTokens: 1000, decodeTokens: 0,
               kvUtilization: 0.1, energyJoules: 50)
    recordStep(&c, &t, at: at(200), duration: .milliseconds(100), batchSize: 2, prefillTokens: 0, decodeTokens: 2,
               kvUtilization: 0.5, energyJoules: 20)
    recordStep(&c, &t, at: at(300), duration: .milliseconds(700), batchSize: 3, prefillTokens: 3000, decodeTokens: 1,
               kvUtilization: 0.8, energyJoules: 30)
    return (c, t)
}

@Test func summaryComputesThroughputGoodputUtilisationAndEnergy() {
    let (c, steps) = handBuiltCollector()
    let slo = ServiceLevelObjectives(timeToFirstToken: .milliseconds(500))
    let s = c.summary(steps: steps, slo: slo, replicas: 2, endedAt: at(4_000))
    #expect(s.requestsArrived == 3 && s.requestsCompleted == 2 && s.requestsRejected == 1 && s.requestsUnfinished == 0)
    #expect(s.rejectionsByReason == [RejectionCount(reason: "exceedsMaxSequenceLength", count: 1)])
    #expect(s.simulatedSeconds == 4)
    #expect(s.timeToFirstToken.mean == .milliseconds(600)) // (200 + 1000) / 2
    #expect(s.timeToFirstToken.p50 == .milliseconds(600))
    #expect(s.timeToFirstToken.max == .milliseconds(1_000))
    #expect(s.timePerOutputToken.count == 1 && s.timePerOutputToken.mean == .milliseconds(100))
    #expect(s.endToEnd.p90 == SimDuration(nanoseconds: 1_470_000_000)) // 1200 + 0.9·(1500−1200)
    #expect(s.queueing.max == .milliseconds(100))
    #expect(s.requestsPerSecond == 0.5)
    #expect(s.inputTokensPerSecond == 1000)
    #expect(s.outputTokensPerSecond == 3)
    #expect(s.requestsMeetingSLO == 1 && s.goodputRequestsPerSecond == 0.25)
    #expect(abs(s.batchSizeMean - 2) < 1e-12 && s.batchSizeMax == 3)
    // (0.1·200 + 0.5·100 + 0.8·700) / 1000
    #expect(abs(s.kvUtilizationMean - 0.63) < 1e-12 && s.kvUtilizationMax == 0.8)
    #expect(abs(s.busyFraction - 1.0 / 8) < 1e-12) // 1 s busy over 4 s × 2 replicas
    #expect(s.energyJoules == 100 && abs(s.energyJoulesPerOutputToken - 100.0 / 12) < 1e-12)
    #expect(s.preemptions == 2 && s.cachedPromptTokens == 200 && s.promptTokens == 4000)
    #expect(abs(s.prefixHitRate - 0.05) < 1e-12)
    // ITL: 100 ms with weight 2, 700 ms with weight 1.
    #expect(s.interTokenLatency.count == 3)
    #expect(abs(Double(s.interTokenLatency.mean.nanoseconds) - 300e6) <= 1)
    #expect(s.overloaded == false)
}

@Test func overloadIsFlaggedWhenTTFTKeepsGrowingAndNotForAStableRun() {
    var stable = MetricsCollector()
    var growing = MetricsCollector()
    for i in Int64(0)..<300 {
        let arrival = at(i * 100)
        stable.recordArrival(at: arrival)
        growing.recordArrival(at: arrival)
        let jitter = (i * 37) % 50
        stable.record(RequestTimeline(id: Int(i), arrival: arrival, scheduled: arrival, firstToken: arrival + .milliseconds(80 + jitter),
                                      completion: arrival + .milliseconds(500), promptTokens: 10, outputTokens: 5))
        // Service slower than arrivals: every request waits 50 ms longer than the previous one.
        let wait = SimDuration.milliseconds(50 * i)
        growing.record(RequestTimeline(id: Int(i), arrival: arrival, scheduled: arrival + wait, firstToken: arrival + wait + .milliseconds(80),
                                       completion: arrival + wait + .milliseconds(500), promptTokens: 10, outputTokens: 5))
    }
    let s = stable.summary(steps: StepTotals())
    #expect(s.overloaded == false)
    #expect(s.overloadReason.contains("median TTFT"))
    let g = growing.summary(steps: StepTotals())
    #expect(g.overloaded == true)
    #expect(g.overloadReason.contains("keeps growing"))

    var unfinished = MetricsCollector()
    for i in Int64(0)..<100 { unfinished.recordArrival(at: at(i)) }
    for i in Int64(0)..<50 {
        unfinished.record(RequestTimeline(id: Int(i), arrival: at(i), scheduled: at(i), firstToken: at(i + 1), completion: at(i + 2),
                                          promptTokens: 1, outputTokens: 2))
    }
    let u = unfinished.summary(steps: StepTotals())
    #expect(u.overloaded && u.overloadReason.contains("50 of 100 requests") && u.overloadReason.contains("unfinished"))

    var shed = MetricsCollector()
    for i in 0..<10 { shed.recordArrival(at: at(Int64(i))); shed.reject(id: i, reason: .queueFull) }
    #expect(shed.summary(steps: StepTotals()).overloaded)
}

@Test func jsonOutputIsStableAndHasTheDocumentedKeys() throws {
    let (ca, sa) = handBuiltCollector(), (cb, sb) = handBuiltCollector()
    let a = ca.summary(steps: sa, slo: ServiceLevelObjectives(timeToFirstToken: .milliseconds(500)), endedAt: at(4_000))
    let b = cb.summary(steps: sb, slo: ServiceLevelObjectives(timeToFirstToken: .milliseconds(500)), endedAt: at(4_000))
    let json = a.renderedJSON()
    #expect(json == b.renderedJSON())
    let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    for key in ["requests_arrived", "requests_completed", "requests_rejected", "ttft_ms", "tpot_ms", "e2e_ms",
                "output_tokens_per_s", "goodput_requests_per_s", "kv_utilization_mean", "preemptions",
                "simulated_seconds", "overloaded"] {
        #expect(object[key] != nil, "missing \(key)")
    }
    #expect(json.contains("\"ttft_ms\": {\"count\": 2, \"mean\": 600.000, \"p50\": 600.000, \"p90\": 920.000, \"p95\": 960.000, \"p99\": 992.000, \"max\": 1000.000}"))
    #expect(json.contains("\"goodput_requests_per_s\": 0.250,"))
    #expect(json.contains("\"rejections\": {\"exceedsMaxSequenceLength\": 1},"))
    #expect(json.contains("\"overloaded\": false,"))
    // Keys come in a fixed order.
    let order = ["requests_arrived", "simulated_seconds", "ttft_ms", "output_tokens_per_s", "goodput_requests_per_s", "overloaded"]
    let positions = order.map { json.range(of: "\"\($0)\"")!.lowerBound }
    #expect(positions == positions.sorted())
    let text = a.renderedText()
    #expect(text.contains("TTFT") && text.contains("600.00") && text.contains("overloaded: no"))
}

@Test func numberFormattingIsFixedAndLocaleFree() {
    #expect(JSONText.number(1.0005, decimals: 3) == "1.001" || JSONText.number(1.0005, decimals: 3) == "1.000")
    #expect(JSONText.number(2.5, decimals: 0) == "3")
    #expect(JSONText.number(-0.0001, decimals: 2) == "0.00")
    #expect(JSONText.number(-1.25, decimals: 1) == "-1.3")
    #expect(JSONText.number(12, decimals: 4) == "12.0000")
    #expect(JSONText.number(.nan, decimals: 2) == "null")
    #expect(JSONText.quoted("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"")
}

@Test func timelineBinsCoarsenToStayBounded() {
    var bins = TimelineBins(width: .seconds(1), maxBins: 8)
    for s in Int64(0)..<20 {
        bins.withBin(at: at(s * 1000)) { $0.step.add(duration: SimDuration(nanoseconds: 1_000), batchSize: 1, prefillTokens: 0, decodeTokens: 1, energyJoules: 0, kvUtilization: 0) }
    }
    #expect(bins.bins.count <= 8)
    #expect(bins.width == .seconds(4))
    #expect(bins.bins.reduce(0) { $0 + $1.step.steps } == 20)
    #expect(bins.bins[0].step.steps == 4)
    let csv = bins.renderedCSV()
    #expect(csv.hasPrefix(TimelineBins.csvHeader))
    #expect(csv.split(separator: "\n").count == 1 + bins.bins.count)
    #expect(csv.contains("\n0.000,4.000,0,0,4,"))
}

@Test func csvWritersRenameIntoPlaceAndLeaveNothingOnAbandon() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-metrics-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("requests.csv").path
    let writer = try RequestCSVWriter(path: path)
    try writer.append(RequestTimeline(id: 0, arrival: at(0), scheduled: at(1), firstToken: at(200), completion: at(1_200),
                                      promptTokens: 10, outputTokens: 11))
    #expect(!FileManager.default.fileExists(atPath: path)) // nothing visible before commit
    try writer.commit()
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text == RequestCSVWriter.header + "0,0,0.000000000,0.001000000,0.200000000,1.200000000,10,11,0,0,200.000000,100.000000,1200.000000,1.000000\n")
    #expect(!FileManager.default.fileExists(atPath: path + ".partial"))

    let abandoned = dir.appendingPathComponent("abandoned.csv").path
    let w2 = try RequestCSVWriter(path: abandoned)
    w2.abandon()
    #expect(!FileManager.default.fileExists(atPath: abandoned) && !FileManager.default.fileExists(atPath: abandoned + ".partial"))

    let timelinePath = dir.appendingPathComponent("timeline.csv").path
    try handBuiltCollector().collector.timeline.writeCSV(to: timelinePath)
    #expect(try String(contentsOfFile: timelinePath, encoding: .utf8).hasPrefix(TimelineBins.csvHeader))

    #expect(throws: MetricsOutputError.self) { _ = try RequestCSVWriter(path: dir.appendingPathComponent("no/such/dir.csv").path) }
}

/// A simulator-side reason enum, conforming with no code of its own.
enum SimulatorRejection: String, RejectionCause { case queueFull, tooLong }

@Test func stringEnumsConformToRejectionCauseWithDefaults() {
    #expect(SimulatorRejection.queueFull.name == "queueFull" && SimulatorRejection.queueFull.indicatesOverload)
    #expect(!SimulatorRejection.tooLong.indicatesOverload)
    var c = MetricsCollector()
    for i in 0..<10 { c.recordArrival(at: at(Int64(i))) }
    for i in 0..<10 { c.reject(id: i, reason: SimulatorRejection.tooLong) }
    #expect(!c.summary(steps: StepTotals()).overloaded) // refusing over-long prompts is not overload
    c.reject(id: 10, reason: SimulatorRejection.queueFull)
    c.reject(id: 11, reason: NamedRejectionCause("queueFull"))
    #expect(c.summary(steps: StepTotals()).rejectionsByReason == [RejectionCount(reason: "queueFull", count: 2), RejectionCount(reason: "tooLong", count: 10)])
}

@Test func energyAddsIdlePowerOverEveryReplicasTimeWithoutAStep() {
    var c = MetricsCollector()
    var t = StepTotals()
    c.recordArrival(at: at(0))
    recordStep(&c, &t, at: at(0), duration: .milliseconds(1_000), batchSize: 1, prefillTokens: 10, decodeTokens: 0,
               kvUtilization: 0.1, energyJoules: 500)
    c.record(RequestTimeline(id: 0, arrival: at(0), scheduled: at(0), firstToken: at(1_000), completion: at(1_000),
                             promptTokens: 10, outputTokens: 1))
    // 2 replicas over 4 s = 8 replica-seconds, 1 of them busy: 7 s × 100 W idle on top of the step's 500 J.
    let s = c.summary(steps: t, replicas: 2, endedAt: at(4_000), idlePowerWatts: 100)
    #expect(s.stepEnergyJoules == 500 && abs(s.idleEnergyJoules - 700) < 1e-9 && abs(s.energyJoules - 1_200) < 1e-9)
    #expect(abs(s.energyJoulesPerOutputToken - 1_200) < 1e-9)
    // Without idle power the energy is the steps' alone.
    #expect(c.summary(steps: t, replicas: 2, endedAt: at(4_000)).energyJoules == 500)
}

/// With the sketch, what the collector holds does not grow with the requests completed: 20k and
/// 400k requests over a long run hold the same bounded number of values; exact mode grows.
@Test func sketchMemoryDoesNotGrowWithCompletedRequests() {
    func collector(_ n: Int, _ mode: MetricsCollector.PercentileMode) -> MetricsCollector {
        var c = MetricsCollector(percentiles: mode)
        var rng = TestRNG(state: 7)
        for i in 0..<n {
            // Arrivals spread over a run 20× longer for the larger count (bins must merge).
            let arrival = Int64(i) * 50_000_000
            let r = rng.next()
            let ttft = Int64(20_000_000 + r % 2_000_000_000), e2e = ttft + Int64(r >> 40)
            c.recordArrival(at: SimInstant(nanoseconds: arrival))
            c.record(RequestTimeline(id: i, arrival: SimInstant(nanoseconds: arrival), scheduled: SimInstant(nanoseconds: arrival + 1_000),
                                     firstToken: SimInstant(nanoseconds: arrival + ttft), completion: SimInstant(nanoseconds: arrival + e2e),
                                     promptTokens: 100, outputTokens: 1 + Int(r % 64)))
        }
        return c
    }
    let small = collector(20_000, .sketch).retainedValues, large = collector(400_000, .sketch).retainedValues
    #expect(large <= small + 4_096 + 2_048, "sketch held \(small) values for 20k requests, \(large) for 400k")
    // The bound itself: 4 latency sketches, the ITL sketch and 64 arrival bins of ~6k buckets
    // each for latencies up to seconds, and at most 4,096 timeline bins: under 4 MB.
    #expect(large < 500_000, "\(large)")
    #expect(collector(20_000, .exact).retainedValues >= 5 * 20_000)
}

/// Shards of a sweep or a split trace merge their sketches: the merge of two halves is the sketch
/// of the whole, bucket for bucket, so merged percentiles keep the same error bound.
@Test func sketchesOfShardsMergeIntoTheSketchOfTheWhole() {
    var rng = TestRNG(state: 3)
    var whole = LatencyHistogram(), first = LatencyHistogram(), second = LatencyHistogram()
    var samples: [Int64] = []
    for i in 0..<50_000 {
        let v = Int64(rng.next() % 3_000_000_000)
        samples.append(v)
        whole.add(SimDuration(nanoseconds: v), weight: 1)
        if i % 3 == 0 { first.add(SimDuration(nanoseconds: v), weight: 1) } else { second.add(SimDuration(nanoseconds: v), weight: 1) }
    }
    first.merge(second)
    #expect(first.totalWeight == whole.totalWeight && first.minNanoseconds == whole.minNanoseconds && first.maxNanoseconds == whole.maxNanoseconds)
    for q in stride(from: 0.01, through: 1.0, by: 0.01) { #expect(first.percentile(q) == whole.percentile(q), "p\(q)") }
    samples.sort()
    for p in [0.5, 0.9, 0.99] {
        let exact = Double(samples[Int((p * Double(samples.count)).rounded(.up)) - 1])
        let merged = Double(first.percentile(p)!.nanoseconds)
        #expect(abs(merged - exact) / exact <= LatencyHistogram.relativeError, "p\(p): \(merged) vs \(exact)")
    }
}
