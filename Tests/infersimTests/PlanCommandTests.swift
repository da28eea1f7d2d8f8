import Foundation
import Testing

/// `infersim plan`: the cheapest configuration that meets percentile SLOs, checked by simulating
/// it, and the cheaper one it rejected checked to miss.
@Suite(.serialized) struct PlanCommandTests {
    static let trace = CLI.repoRoot + "/data/traces/azure2023_AzureLLMInferenceTrace_conv.csv"

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func p99s(_ simulateJSON: String) throws -> (ttft: Double, tpot: Double, rejected: Int, overloaded: Bool) {
        let summary = try #require(try object(simulateJSON)["summary"] as? [String: Any])
        let ttft = try #require((summary["ttft_ms"] as? [String: Any])?["p99"] as? Double)
        let tpot = try #require((summary["tpot_ms"] as? [String: Any])?["p99"] as? Double)
        return (ttft, tpot, (summary["requests_rejected"] as? Int) ?? -1, (summary["overloaded"] as? Bool) ?? true)
    }

    @Test func aPlanHoldsUpWhenItsChoiceIsSimulated() throws {
        let dir = try ScenarioFiles.directory()
        let chosen = dir + "/chosen.json"
        let r = try CLI.run(["plan", "--model", "llama-3-70b", "--workload", Self.trace, "--rate", "10",
                             "--slo", "ttft_p99_ms=2000,tpot_p99_ms=100", "--requests", "400", "--keep", "1",
                             "--hardware", "nvidia-h100-sxm,nvidia-a100-sxm-80gb", "--scenario-out", chosen, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        try CLISurfaceTests.expectMatches(r.stdout, schema: "plan", "plan")
        let plan = try Self.object(r.stdout)
        let choices = try #require(plan["choices"] as? [[String: Any]])
        let best = try #require(choices.first)
        let price = try #require(best["usd_per_hour"] as? Double)
        #expect(price > 0 && (best["usd_per_million_tokens"] as? Double ?? 0) > 0)
        // The chosen configuration, simulated on its own, meets the SLO at 10 req/s.
        let sim = try CLI.run(["simulate", chosen, "--json"])
        #expect(sim.status == 0, "\(sim.stderr)")
        let met = try Self.p99s(sim.stdout)
        #expect(met.ttft <= 2000 && met.tpot <= 100 && met.rejected == 0 && !met.overloaded, "\(met)")
        // The most expensive rejected candidate that is still cheaper does not meet it.
        let rejected = try #require(plan["rejected"] as? [[String: Any]])
        let cheaper = rejected.filter { ($0["usd_per_hour"] as? Double ?? .infinity) < price }
        let next = try #require(cheaper.max { ($0["usd_per_hour"] as! Double) < ($1["usd_per_hour"] as! Double) })
        var scenario = try Self.object(try String(contentsOfFile: chosen, encoding: .utf8))
        scenario["hardware"] = next["hardware"]
        scenario["replicas"] = next["replicas"]
        scenario["parallelism"] = ["tp": next["tp"]!, "pp": next["pp"]!]
        var scheduler = scenario["scheduler"] as! [String: Any]
        scheduler["kind"] = next["scheduler"]
        scheduler["maxBatchSize"] = next["max_batch_size"]
        scenario["scheduler"] = scheduler
        let nextFile = dir + "/next.json"
        try JSONSerialization.data(withJSONObject: scenario, options: [.sortedKeys]).write(to: URL(fileURLWithPath: nextFile))
        let nextRun = try CLI.run(["simulate", nextFile, "--json"])
        if nextRun.status == 0 {
            let missed = try Self.p99s(nextRun.stdout)
            #expect(missed.ttft > 2000 || missed.tpot > 100 || missed.rejected > 0 || missed.overloaded, "\(next): \(missed)")
        } else {
            #expect(next["reason"] as? String == "memory", "\(next): \(nextRun.stderr)")
        }
        // The text report names the price and its source.
        let text = try CLI.run(["plan", "--model", "llama-3-70b", "--workload", Self.trace, "--rate", "10",
                                "--slo", "ttft_p99_ms=2000,tpot_p99_ms=100", "--requests", "200", "--keep", "1",
                                "--hardware", "nvidia-h100-sxm"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("/h, $") && text.stdout.contains("per million tokens") && text.stdout.contains("price of nvidia-h100-sxm"), "\(text.stdout)")
    }

    /// `--pools` adds every prefill:decode split of 2 or more replicas; each split is a valid
    /// disaggregated scenario, judged like any candidate, and a TBT bound is tracked.
    @Test func poolsAddPrefillDecodeSplitsToTheSearch() throws {
        let base = ["plan", "--model", "llama-3-8b", "--workload", Self.trace, "--rate", "4", "--slo", "ttft_p99_ms=2000,tbt_p90_ms=100",
                    "--requests", "100", "--keep", "1", "--hardware", "nvidia-a100-sxm-80gb", "--max-devices", "3", "--json"]
        let plain = try CLI.run(base), pools = try CLI.run(base + ["--pools"])
        #expect(plain.status == 0 && pools.status == 0, "\(plain.stderr) \(pools.stderr)")
        let a = try Self.object(plain.stdout), b = try Self.object(pools.stdout)
        // tp 1: 2 replicas split 1 way, 3 replicas 2 ways; tp 2: 1 replica; × 2 batch limits × 2 schedulers.
        #expect((b["candidates"] as? Int ?? 0) - (a["candidates"] as? Int ?? 0) == 3 * 2 * 2)
        let all = ((b["choices"] as? [[String: Any]]) ?? []) + ((b["rejected"] as? [[String: Any]]) ?? [])
        let split = all.filter { $0["prefill_replicas"] is Int }
        #expect(split.count == 12, "\(split.count)")
        #expect(split.allSatisfy { ($0["configuration"] as? String ?? "").contains(" prefill + ") })
    }

    @Test func badPlanInputIsOneLineWithExitCode2() throws {
        func refused(_ extra: [String], _ parts: [String]) throws {
            let r = try CLI.run(["plan", "--model", "llama-3-8b", "--workload", Self.trace] + extra)
            #expect(r.status == 2, "\(extra): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            for p in parts { #expect(r.stderr.contains(p), "missing \(p): \(r.stderr)") }
        }
        try refused(["--rate", "1", "--slo", "ttft_p99=2000"], ["--slo", "unknown SLO key \"ttft_p99\"", "did you mean \"ttft_p99_ms\"?"])
        try refused(["--rate", "1", "--slo", "ttft_p99_ms=-3"], ["--slo", "expected a number of milliseconds"])
        try refused(["--rate", "1", "--slo", "ttft_p99_ms=20", "--hardware", "nvidia-h100-sxn"], ["--hardware", "did you mean \"nvidia-h100-sxm\"?"])
        let dir = try ScenarioFiles.directory()
        let prices = dir + "/prices.json"
        try #"{"schemaVersion": 1, "description": "x", "prices": [{"device": "nvidia-h100-sxm", "usdPerDeviceHour": 3, "instance": "i", "derivation": "d", "source": "s", "date": "2026"}]}"#
            .write(toFile: prices, atomically: true, encoding: .utf8)
        try refused(["--rate", "1", "--slo", "ttft_p99_ms=20", "--prices", prices, "--hardware", "nvidia-h200"], [prices, "no price for nvidia-h200"])
        try refused(["--slo", "ttft_p99_ms=20"], ["exactly one of --rate and --devices"])
    }
}
