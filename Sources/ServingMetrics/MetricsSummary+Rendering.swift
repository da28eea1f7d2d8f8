import Diagnostics
import HardwareModel
import DiscreteEvent

extension MetricsSummary {
    /// The summary as one JSON object, keys in a fixed order, numbers with fixed decimals
    /// (milliseconds: 3, rates: 3, fractions: 4, joules: 3), so the same run gives the same
    /// bytes. Keys: requests_arrived, requests_completed, requests_rejected,
    /// requests_unfinished, rejections {reason: count}, simulated_seconds, ttft_ms, tpot_ms,
    /// e2e_ms, queueing_ms, itl_ms, tbt_ms ({count, mean, p50, p90, p95, p99, max}),
    /// requests_per_s, input_tokens_per_s, output_tokens_per_s, slo {ttft_ms, tpot_ms, e2e_ms},
    /// requests_meeting_slo, goodput_requests_per_s, steps, batch_size_mean, batch_size_max,
    /// kv_utilization_mean, kv_utilization_max, busy_fraction, energy_joules,
    /// energy_joules_per_output_token, energy_joules_steps, energy_joules_idle, preemptions, prompt_tokens, output_tokens,
    /// cached_prompt_tokens, prefix_hit_rate, overloaded, overload_reason.
    public func renderedJSON() -> String {
        func ms(_ d: SimDuration) -> String { JSONText.number(Double(d.nanoseconds) * 1e-6, decimals: 3) }
        func stats(_ s: DurationStatistics) -> String { s.millisecondsJSON }
        func optionalMs(_ d: SimDuration?) -> String { d.map(ms) ?? "null" }
        let rejections = rejectionsByReason.map { "\(JSONText.quoted($0.reason)): \($0.count)" }.joined(separator: ", ")
        let fields: [(String, String)] = [
            ("requests_arrived", "\(requestsArrived)"),
            ("requests_completed", "\(requestsCompleted)"),
            ("requests_rejected", "\(requestsRejected)"),
            ("requests_unfinished", "\(requestsUnfinished)"),
            ("rejections", "{\(rejections)}"),
            ("simulated_seconds", JSONText.number(simulatedSeconds, decimals: 6)),
            ("last_arrival_seconds", JSONText.number(lastArrivalSeconds, decimals: 6)),
            ("ttft_ms", stats(timeToFirstToken)),
            ("tpot_ms", stats(timePerOutputToken)),
            ("e2e_ms", stats(endToEnd)),
            ("queueing_ms", stats(queueing)),
            ("itl_ms", stats(interTokenLatency)),
            ("tbt_ms", stats(tailTimeBetweenTokens)),
            ("requests_per_s", JSONText.number(requestsPerSecond, decimals: 3)),
            ("input_tokens_per_s", JSONText.number(inputTokensPerSecond, decimals: 3)),
            ("output_tokens_per_s", JSONText.number(outputTokensPerSecond, decimals: 3)),
            ("slo", "{\"ttft_ms\": \(optionalMs(slo.timeToFirstToken)), \"tpot_ms\": \(optionalMs(slo.timePerOutputToken)), \"e2e_ms\": \(optionalMs(slo.endToEnd))}"),
            ("requests_meeting_slo", "\(requestsMeetingSLO)"),
            ("goodput_requests_per_s", JSONText.number(goodputRequestsPerSecond, decimals: 3)),
            ("steps", "\(steps)"),
            ("batch_size_mean", JSONText.number(batchSizeMean, decimals: 3)),
            ("batch_size_max", "\(batchSizeMax)"),
            ("kv_utilization_mean", JSONText.number(kvUtilizationMean, decimals: 4)),
            ("kv_utilization_max", JSONText.number(kvUtilizationMax, decimals: 4)),
            ("busy_fraction", JSONText.number(busyFraction, decimals: 4)),
            ("communication_seconds", JSONText.number(communicationSeconds, decimals: 6)),
            ("energy_joules", JSONText.number(energyJoules, decimals: 3)),
            ("energy_joules_per_output_token", JSONText.number(energyJoulesPerOutputToken, decimals: 6)),
            ("energy_joules_steps", JSONText.number(stepEnergyJoules, decimals: 3)),
            ("energy_joules_idle", JSONText.number(idleEnergyJoules, decimals: 3)),
            ("preemptions", "\(preemptions)"),
            ("prompt_tokens", "\(promptTokens)"),
            ("output_tokens", "\(outputTokens)"),
            ("cached_prompt_tokens", "\(cachedPromptTokens)"),
            ("prefix_hit_rate", JSONText.number(prefixHitRate, decimals: 4)),
            ("overloaded", overloaded ? "true" : "false"),
            ("overload_reason", JSONText.quoted(overloadReason)),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    /// The summary as a readable plain-text report with a latency table in milliseconds.
    public func renderedText() -> String {
        func ms(_ d: SimDuration) -> String { JSONText.number(Double(d.nanoseconds) * 1e-6, decimals: 2) }
        func f(_ x: Double, _ d: Int) -> String { JSONText.number(x, decimals: d) }
        var lines: [String] = []
        var requestLine = "requests: \(requestsArrived) arrived, \(requestsCompleted) completed, \(requestsRejected) rejected"
        if !rejectionsByReason.isEmpty {
            requestLine += " (" + rejectionsByReason.map { "\($0.reason) \($0.count)" }.joined(separator: ", ") + ")"
        }
        if requestsUnfinished > 0 { requestLine += ", \(requestsUnfinished) unfinished" }
        lines.append(requestLine)
        lines.append("simulated time: \(f(simulatedSeconds, 3)) s")
        lines.append("")
        let columns = ["count", "mean", "p50", "p90", "p95", "p99", "max"]
        lines.append(MetricsFormat.padRight("latency (ms)", 14) + columns.map { MetricsFormat.pad($0, 11) }.joined())
        var rows = [("TTFT", timeToFirstToken), ("TPOT", timePerOutputToken), ("E2E", endToEnd),
                    ("queueing", queueing), ("ITL", interTokenLatency)]
        if tailTimeBetweenTokens.count > 0 { rows.append(("TBT (tail 10%)", tailTimeBetweenTokens)) }
        for (name, s) in rows {
            let values = ["\(s.count)", ms(s.mean), ms(s.p50), ms(s.p90), ms(s.p95), ms(s.p99), ms(s.max)]
            lines.append(MetricsFormat.padRight(name, 14) + values.map { MetricsFormat.pad($0, 11) }.joined())
        }
        lines.append("")
        lines.append("throughput: \(f(requestsPerSecond, 3)) req/s, \(f(inputTokensPerSecond, 1)) input tok/s, \(f(outputTokensPerSecond, 1)) output tok/s")
        let drain = max(0, simulatedSeconds - lastArrivalSeconds)
        if simulatedSeconds > 0 {
            lines.append("  averaged over all \(f(simulatedSeconds, 3)) s, including the \(f(drain, 3)) s (\(f(drain / simulatedSeconds * 100, 1)) %) that drained the queue after the last arrival at \(f(lastArrivalSeconds, 3)) s")
        }
        if slo.isEmpty {
            lines.append("goodput: \(f(goodputRequestsPerSecond, 3)) req/s (no SLOs set)")
        } else {
            var targets: [String] = []
            if let t = slo.timeToFirstToken { targets.append("TTFT <= \(ms(t)) ms") }
            if let t = slo.timePerOutputToken { targets.append("TPOT <= \(ms(t)) ms") }
            if let t = slo.endToEnd { targets.append("E2E <= \(ms(t)) ms") }
            let share = requestsCompleted > 0 ? Double(requestsMeetingSLO) / Double(requestsCompleted) * 100 : 0
            lines.append("goodput: \(f(goodputRequestsPerSecond, 3)) req/s (\(requestsMeetingSLO) requests, \(f(share, 1)) % meet \(targets.joined(separator: ", ")))")
        }
        lines.append("batches: \(steps) steps, batch size mean \(f(batchSizeMean, 2)), max \(batchSizeMax); busy \(f(busyFraction * 100, 1)) % (a step in flight, not compute or bandwidth utilisation: `explain` gives each step's MFU and MBU)")
        if communicationSeconds > 0 {
            let share = busySeconds > 0 ? communicationSeconds / busySeconds * 100 : 0
            lines.append("communication: \(f(communicationSeconds, 3)) s of the replicas' busy time (\(f(share, 1)) %) in collectives and transfers between devices")
        }
        lines.append("KV cache utilisation: mean \(f(kvUtilizationMean * 100, 1)) %, max \(f(kvUtilizationMax * 100, 1)) %")
        lines.append("prefix cache: \(cachedPromptTokens) of \(promptTokens) prompt tokens cached (\(f(prefixHitRate * 100, 1)) %); preemptions: \(preemptions)")
        lines.append("energy: \(f(energyJoules, 1)) J (steps \(f(stepEnergyJoules, 1)) J + idle \(f(idleEnergyJoules, 1)) J), \(f(energyJoulesPerOutputToken, 4)) J/output token")
        lines.append("overloaded: \(overloaded ? "YES" : "no") — \(overloadReason)")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension DurationStatistics {
    /// `{"count", "mean", "p50", "p90", "p95", "p99", "max"}` in milliseconds, three decimals.
    public var millisecondsJSON: String {
        func ms(_ d: SimDuration) -> String { JSONText.number(Double(d.nanoseconds) * 1e-6, decimals: 3) }
        return "{\"count\": \(count), \"mean\": \(ms(mean)), \"p50\": \(ms(p50)), \"p90\": \(ms(p90)), "
            + "\"p95\": \(ms(p95)), \"p99\": \(ms(p99)), \"max\": \(ms(max))}"
    }
}
