import DiscreteEvent
import Foundation
import Testing
@testable import Serving

/// The conservation invariants over 1,000 random scenarios: every scheduler, KV policy, router
/// and trace format (each workload is written as a trace in one of the four formats and read
/// back through its parser), including adversarial-but-valid workloads: arrivals up to 1e9 a
/// second, single-token prompts, and requests exactly at the context limit.
@Suite struct InvariantSweepTests {
    enum Variant: CaseIterable { case plain, burst, singleTokenPrompts, atContextLimit }

    /// Writes `requests` as a trace in `format` (the fields the format carries).
    static func trace(_ requests: [RequestSpec], _ format: TraceFormat) -> String {
        func seconds(_ ns: Int64) -> String { "\(ns / 1_000_000_000).\(String(format: "%09lld", ns % 1_000_000_000))" }
        switch format {
        case .csv:
            return "arrival_s,prompt_tokens,output_tokens,priority\n"
                + requests.map { "\(seconds($0.arrival.nanoseconds)),\($0.promptTokens),\($0.outputTokens),\($0.priority)\n" }.joined()
        case .jsonl:
            return requests.map {
                "{\"arrival_s\": \(seconds($0.arrival.nanoseconds)), \"prompt_tokens\": \($0.promptTokens), \"output_tokens\": \($0.outputTokens), \"priority\": \($0.priority)}\n"
            }.joined()
        case .mooncake:
            // Milliseconds with six decimals: exact nanoseconds.
            return requests.map {
                let ns = $0.arrival.nanoseconds
                return "{\"timestamp\": \(ns / 1_000_000).\(String(format: "%06lld", ns % 1_000_000)), \"input_length\": \($0.promptTokens), \"output_length\": \($0.outputTokens)}\n"
            }.joined()
        case .azure2023:
            // Wall-clock stamps at 100 ns resolution from 2023-11-16 00:00:00 (arrivals are multiples of 100 ns).
            return "TIMESTAMP,ContextTokens,GeneratedTokens\n" + requests.map {
                let ticks = $0.arrival.nanoseconds / 100
                let s = ticks / 10_000_000
                return String(format: "2023-11-16 %02lld:%02lld:%02lld.%07lld,%d,%d\n", s / 3600, s / 60 % 60, s % 60,
                              ticks % 10_000_000, $0.promptTokens, $0.outputTokens)
            }.joined()
        }
    }

    static func workload(seed: UInt64, variant: Variant, format: TraceFormat) -> (ClusterConfiguration, [RequestSpec]) {
        var (config, requests) = randomScenario(seed: seed)
        var rng = TestRNG(state: seed &+ 0xA5A5)
        let limit = config.kvCache.maxSequenceTokens
        // Azure stamps have 100 ns resolution; the others carry nanoseconds.
        let tick: Int64 = format == .azure2023 ? 100 : 1
        var t: Int64 = 0
        for i in requests.indices {
            switch variant {
            case .plain: break
            case .burst: t += tick * Int64(rng.int(0...1))  // up to 1e9 arrivals a second
                requests[i].arrival = SimInstant(nanoseconds: t)
            case .singleTokenPrompts: requests[i].promptTokens = 1
            case .atContextLimit:
                requests[i].promptTokens = rng.int(1...(limit - 1))
                requests[i].outputTokens = limit - requests[i].promptTokens
            }
            requests[i].arrival = SimInstant(nanoseconds: requests[i].arrival.nanoseconds / tick * tick)
            if format == .azure2023 || format == .mooncake { requests[i].priority = 0 }
            requests[i].session = nil
            requests[i].prefixHashes = []
            requests[i].prefixBlockTokens = 0
        }
        // Azure arrivals count from the first row.
        if format == .azure2023, let first = requests.first?.arrival.nanoseconds, first != 0 {
            for i in requests.indices { requests[i].arrival = SimInstant(nanoseconds: requests[i].arrival.nanoseconds - first) }
        }
        return (config, requests)
    }

    @Test func aThousandSeedsAcrossSchedulersKVPoliciesAndTraceFormats() throws {
        var seen = Set<String>()
        var completed = 0, rejected = 0, preempted = 0, atLimitCompleted = 0
        for seed in UInt64(5_000)..<6_000 {
            let format = TraceFormat.allCases[Int(seed % 4)]
            let variant = Variant.allCases[Int(seed / 4 % 4)]
            let (config, written) = Self.workload(seed: seed, variant: variant, format: format)
            var reader = TraceReader(text: Self.trace(written, format), name: "seed-\(seed)", format: format)
            let requests = try reader.collectAll()
            let context = "seed \(seed) \(format) \(variant): \(config.scheduler.kind) \(config.kvCache.kind) \(config.router)"
            // The parser gives back what was written.
            try #require(requests.count == written.count, "\(context)")
            for (a, b) in zip(requests, written) {
                #expect(a.arrival == b.arrival && a.promptTokens == b.promptTokens && a.outputTokens == b.outputTokens
                        && a.priority == b.priority, "\(context): request \(b.id) read back differently")
            }
            let (outcome, run) = try simulate(config, requests)
            expectConserved(outcome, run, requests, context)
            // The request table never holds more slots than requests.
            #expect(outcome.peakInFlight <= requests.count, "\(context)")
            seen.insert("\(config.scheduler.kind) \(config.kvCache.kind) \(format)")
            seen.insert("router \(config.router)")
            seen.insert("variant \(variant)")
            completed += run.completions.count
            rejected += run.rejections.count
            preempted += outcome.totalPreemptions
            if variant == .atContextLimit { atLimitCompleted += run.completions.count }
        }
        // Every scheduler × KV policy × trace format, every router and variant, was exercised.
        let combinations = SchedulerKind.allCases.count * KVCacheKind.allCases.count * TraceFormat.allCases.count
        #expect(seen.count == combinations + RouterKind.allCases.count + Variant.allCases.count, "\(seen.count) of the combinations")
        #expect(completed > 15_000 && rejected > 100 && preempted > 100 && atLimitCompleted > 1_000,
                "completed \(completed), rejected \(rejected), preempted \(preempted), at the limit \(atLimitCompleted)")
    }

    /// Memory is bounded by the requests in flight: 20,000 requests arriving below capacity leave
    /// the request table at a few dozen slots, and a ten times longer run at the same load at no more.
    @Test func requestStateIsBoundedByRequestsInFlightNotByTraceLength() throws {
        func peak(_ n: Int) throws -> Int {
            let config = configuration(.continuousBatching, kvTokens: 1_000_000, replicas: 2, maxBatch: 64)
            var rng = TestRNG(state: 99)
            var t: Int64 = 0
            let requests = (0..<n).map { i -> RequestSpec in
                t += Int64(rng.int(1_000_000...9_000_000))  // about 200 arrivals a second
                return RequestSpec(id: i, arrival: SimInstant(nanoseconds: t), promptTokens: rng.int(16...256), outputTokens: rng.int(1...32))
            }
            let (outcome, run) = try simulate(config, requests)
            #expect(run.completions.count == n)
            return outcome.peakInFlight
        }
        let short = try peak(2_000), long = try peak(20_000)
        #expect(long < 200, "the request table grew to \(long) slots")
        #expect(long <= short * 2, "2k requests peaked at \(short) slots, 20k at \(long)")
    }
}
