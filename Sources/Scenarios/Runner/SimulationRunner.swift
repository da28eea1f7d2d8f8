import Diagnostics
import CostModel
import DiscreteEvent
import Foundation
import HardwareModel
import Serving
import ServingMetrics

/// Optional files a run writes besides its summary. They are written to a temporary file and
/// moved into place only when the whole run succeeded, so a failed run leaves no partial output.
public struct RunOutputs: Sendable {
    public var requestsCSV: String?
    public var timelineCSV: String?
    /// An SVG of the run: TTFT and TPOT CDFs, batch size and KV utilisation over time.
    public var plot: String?
    public init(requestsCSV: String? = nil, timelineCSV: String? = nil, plot: String? = nil) {
        self.requestsCSV = requestsCSV
        self.timelineCSV = timelineCSV
        self.plot = plot
    }
}

/// The result of one scenario run.
public struct SimulationReport: Sendable {
    public var scenarioName: String
    public var summary: MetricsSummary
    public var outcome: SimulationOutcome
    /// Trace rows skipped as bad (only with `skipBadRows`).
    public var skippedRows: Int
    /// The decoding techniques the run used (a KV budget, offload, speculation, samples), one
    /// line each; empty for plain decoding.
    public var techniques: [String] = []
    /// Why the first of them (at most `TraceReader.keptReasons`) were skipped: `file: line N: message`.
    public var skippedRowReasons: [String] { outcome.skippedRowReasons }

    /// The metrics summary, then what the simulator saw of the KV caches and replicas.
    public func renderedText() -> String {
        var out = "scenario: \(scenarioName)\n" + summary.renderedText()
        if !out.hasSuffix("\n") { out += "\n" }
        for line in techniques { out += line + "\n" }
        out += "KV cache (per replica: time-weighted utilisation, fragmentation, peak, prefix hit rate, evictions, preemptions recompute/swap):\n"
        for r in outcome.replicas {
            let name = r.microBatch.map { "\($0.replica) micro-batch \($0.microBatch)" } ?? "\(r.index)"
            out += "  replica \(name)\(r.pool.map { " (\($0.rawValue))" } ?? ""): util \(JSONText.number(r.meanKVUtilisation, decimals: 4))"
                + ", frag \(JSONText.number(r.meanKVFragmentation, decimals: 4))"
                + ", peak \(r.kvCache.peakUsedBlocks)/\(r.kvCache.totalBlocks) blocks of \(r.kvCache.blockTokens) tokens"
                + ", hit \(JSONText.number(r.kvCache.prefixHitRate, decimals: 4)), evictions \(r.kvCache.evictions)"
                + ", preemptions \(r.statistics.recomputePreemptions)/\(r.statistics.swapPreemptions)"
                + ", busy \(JSONText.number(r.busyFraction, decimals: 4)), mean batch \(JSONText.number(r.meanBatchSize, decimals: 2))\n"
        }
        if let t = outcome.kvTransfers {
            func ms(_ d: SimDuration) -> String { JSONText.number(Double(d.nanoseconds) * 1e-6, decimals: 2) }
            let pools = [DisaggregationConfiguration.Pool.prefill, .decode].map { pool -> String in
                let members = outcome.replicas.filter { $0.pool == pool }
                let busy = members.isEmpty ? 0 : members.reduce(0) { $0 + $1.busyFraction } / Double(members.count)
                return "\(pool.rawValue) \(members.count) replicas busy \(JSONText.number(busy * 100, decimals: 1)) %"
            }
            out += "disaggregated pools: \(pools.joined(separator: ", ")); KV transfers \(t.count): p50 \(ms(t.p50)) ms, p99 \(ms(t.p99)) ms, max \(ms(t.max)) ms\n"
        }
        if skippedRows > 0 {
            let first = skippedRowReasons.count < skippedRows ? " (the first \(skippedRowReasons.count):)" : ":"
            out += "skipped bad trace rows: \(skippedRows)\(first)\n"
            for reason in skippedRowReasons { out += "  \(reason)\n" }
        }
        return out
    }

    /// One JSON object: `{"scenario", "summary": MetricsSummary JSON, "replicas": [...], "skipped_rows",
    /// "skipped_row_reasons": [the first few, "file: line N: message"]}`,
    /// fixed key order and decimals, so the same scenario and seed give the same bytes.
    public func renderedJSON() -> String {
        let replicas = outcome.replicas.map { r in
            "{\"replica\": \(r.microBatch?.replica ?? r.index), " + (r.microBatch.map { "\"micro_batch\": \($0.microBatch), " } ?? "") + (r.pool.map { "\"pool\": \"\($0.rawValue)\", " } ?? "") + "\"kv_utilization_mean\": \(JSONText.number(r.meanKVUtilisation, decimals: 4)), "
                + "\"kv_fragmentation_mean\": \(JSONText.number(r.meanKVFragmentation, decimals: 4)), "
                + "\"kv_blocks_total\": \(r.kvCache.totalBlocks), \"kv_block_tokens\": \(r.kvCache.blockTokens), "
                + "\"kv_blocks_peak\": \(r.kvCache.peakUsedBlocks), "
                + "\"prefix_hit_rate\": \(JSONText.number(r.kvCache.prefixHitRate, decimals: 4)), "
                + "\"prefix_evictions\": \(r.kvCache.evictions), "
                + "\"preemptions_recompute\": \(r.statistics.recomputePreemptions), \"preemptions_swap\": \(r.statistics.swapPreemptions), "
                + "\"steps\": \(r.statistics.steps), \"busy_fraction\": \(JSONText.number(r.busyFraction, decimals: 4)), "
                + "\"batch_size_mean\": \(JSONText.number(r.meanBatchSize, decimals: 3)), "
                + "\"energy_joules\": \(JSONText.number(r.energyJoules, decimals: 3))}"
        }
        return "{\"scenario\": \(JSONText.quoted(scenarioName)), \"summary\": \(summary.renderedJSON()), "
            + "\"replicas\": [\(replicas.joined(separator: ", "))], "
            + (outcome.kvTransfers.map { "\"kv_transfers_ms\": \($0.millisecondsJSON), " } ?? "") + "\"skipped_rows\": \(skippedRows), "
            + "\"skipped_row_reasons\": [\(skippedRowReasons.map(JSONText.quoted).joined(separator: ", "))]}"
    }
}

/// Runs scenarios: builds the workload, resolves the hardware, simulates, summarises.
public struct SimulationRunner: Sendable {
    public var resolve: ReplicaResolver
    /// How request-latency percentiles are kept: a constant-memory sketch (default) or every sample.
    public var percentiles: MetricsCollector.PercentileMode = .sketch
    /// Decode fast-forward (`ClusterConfiguration.fastForwardDecodes`); off only to compare paths.
    public var fastForwardDecodes = true
    /// Whether requests keep their longest inter-token gaps for the tail time between tokens
    /// (`MetricsSummary.tailTimeBetweenTokens`, Mooncake's TBT): a heap update per token.
    public var tracksTailGaps = false

    public init(resolve: @escaping ReplicaResolver = ReplicaResolvers.catalog()) {
        self.resolve = resolve
    }

    /// A runner on `catalog`'s profiles whose runs carry what `slo` judges them by (requests'
    /// tail gaps for a `tbt` bound).
    public init(catalog: ProfileCatalog, judgedBy slo: PercentileSLO) {
        self.init(resolve: ReplicaResolvers.catalog(catalog))
        tracksTailGaps = slo.needsTailGaps
    }

    /// Runs a scenario file (sweep axes are rejected here; use `runSweep`).
    /// - Throws: `InputError` for any bad input, naming the file and location.
    public func run(file: String, outputs: RunOutputs = RunOutputs()) throws -> SimulationReport {
        let scenario = try Scenario.load(path: file)
        if scenario.sweep != nil {
            throw InputError(file: file, jsonPath: "$.sweep", "this scenario is a sweep; run it with `infersim sweep`")
        }
        return try run(scenario, file: file, outputs: outputs)
    }

    /// One line per decoding technique in use, for the report.
    static func techniques(_ c: ClusterConfiguration, _ scenario: Scenario) -> [String] {
        var lines: [String] = []
        if !c.kvCache.budget.isFull { lines.append("KV budget: \(c.kvCache.budget.description) kept per sequence") }
        if let o = c.kvCache.offload {
            lines.append("KV offload tier: \(JSONText.number(o.capacityBytes / 1e9, decimals: 1)) GB over \(JSONText.number(o.linkBytesPerSecond / 1e9, decimals: 1)) GB/s")
        }
        if let spec = scenario.speculative, let sc = c.speculation {
            let drafter = spec.draftHeads ? "EAGLE-style heads" : "draft model \(spec.draftModel!)"
            let rate: String
            switch sc.acceptance {
            case .fixed(let a): rate = "acceptance \(a)"
            case .uniform(let lo, let hi): rate = "acceptance per request in [\(lo), \(hi)]"
            }
            let limit = sc.maxBatchSize == Int.max ? "" : ", off above \(sc.maxBatchSize) decoding sequences"
            lines.append("speculative decoding: \(drafter), \(sc.draftTokens) drafts per round, \(rate)\(limit)")
        }
        if c.kvCache.samples > 1 { lines.append("completions per request: \(c.kvCache.samples), sharing the prompt's KV") }
        return lines
    }

    /// Runs one scenario. `file` names it in errors and anchors relative trace paths.
    public func run(_ scenario: Scenario, file: String, outputs: RunOutputs = RunOutputs()) throws -> SimulationReport {
        try OutputPaths.check([("--requests-csv", outputs.requestsCSV), ("--timeline-csv", outputs.timelineCSV), ("--plot", outputs.plot)])
        let directory = (file as NSString).deletingLastPathComponent
        let source = try scenario.workload.makeSource(relativeTo: directory, seed: scenario.seed)
        let replica = try resolve(scenario, file)
        var configuration = try scenario.clusterConfiguration(replica: replica, file: file)
        configuration.fastForwardDecodes = fastForwardDecodes
        configuration.tracksTailGaps = tracksTailGaps
        var decodeCostModel: (any StepCostModel)?
        if let d = scenario.disaggregation {
            let decodeScenario = d.decodeScenario(of: scenario)
            let decode: ReplicaModel
            let decodeConfiguration: ClusterConfiguration
            do {
                decode = try resolve(decodeScenario, file)
                decodeConfiguration = try decodeScenario.clusterConfiguration(replica: decode, file: file)
            } catch let e as InputError {
                // The decode pool's hardware is named under $.disaggregation.
                let path = d.decodeHardware != nil ? "$.disaggregation.decodeHardware" : "$.disaggregation"
                throw InputError(file: file, jsonPath: path, "decode pool: " + e.message)
            }
            guard let link = replica.transferLinkBytesPerSecond else {
                throw InputError(file: file, jsonPath: "$.disaggregation.link", "no link between the pools was resolved")
            }
            configuration.disaggregation = DisaggregationConfiguration(
                prefillReplicas: d.prefillReplicas, kvBytesPerToken: replica.kvBytesPerToken, linkBytesPerSecond: link,
                linkLatency: SimDuration(secondsRoundingUp: replica.transferLinkLatencySeconds),
                decodeKVCache: decodeConfiguration.kvCache, decodeIdlePowerWatts: decode.idlePowerWatts)
            configuration.disaggregation!.routing = d.routing ?? .leastOutstanding
            decodeCostModel = decode.costModel
        }
        let csv = try outputs.requestsCSV.map { try RequestCSVWriter(path: $0) }
        let slo = scenario.slo?.objectives ?? .none
        var recorder = MetricsRecorder(collector: MetricsCollector(percentiles: percentiles, slo: slo), requestsCSV: csv)
        let outcome: SimulationOutcome
        do {
            if let decodeCostModel {
                outcome = try ServingSimulator.run(configuration, prefillCostModel: replica.costModel, decodeCostModel: decodeCostModel,
                                                   requests: source, recorder: &recorder)
            } else {
                outcome = try ServingSimulator.run(configuration, costModel: replica.costModel, requests: source, recorder: &recorder)
            }
            if let error = recorder.writeError { throw error }
            // Idle power per replica, averaged over the pools (the summary's idle energy is that
            // power times the replicas' idle time, which the pools share in proportion only roughly).
            let meanIdlePower = (0..<configuration.replicas).reduce(0.0) { $0 + configuration.idlePowerWatts(ofReplica: $1) }
                / Double(configuration.replicas)
            let summary = recorder.collector.summary(steps: outcome.stepTotals, slo: slo, replicas: scenario.replicas,
                                                     endedAt: outcome.makespan, idlePowerWatts: meanIdlePower)
            // Both outputs are complete in their temporary files before either is moved into place.
            let timeline = try outputs.timelineCSV.map { path -> AtomicFileWriter in
                let w = try AtomicFileWriter(path: path)
                try w.write(recorder.collector.timeline.renderedCSV())
                return w
            }
            let plot = try outputs.plot.map { path -> AtomicFileWriter in
                let w = try AtomicFileWriter(path: path)
                try w.write(Self.plot(recorder.collector, scenario: scenario, name: scenario.name ?? scenario.model))
                return w
            }
            try csv?.commit()
            try timeline?.commit()
            try plot?.commit()
            var report = SimulationReport(scenarioName: scenario.name ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension,
                                          summary: summary, outcome: outcome, skippedRows: outcome.skippedRows)
            report.techniques = Self.techniques(configuration, scenario)
            return report
        } catch {
            csv?.abandon()
            if let e = error as? InputError { throw e.placedInWorkload(file: file) }
            throw error
        }
    }

    /// The run's figure: TTFT and TPOT CDFs, then batch size and KV utilisation over time.
    static func plot(_ collector: MetricsCollector, scenario: Scenario, name: String) -> String {
        let q = collector.latencyQuantiles(levels: 100)
        let cdf = Plots.latencyCDF(ttft: q.ttft, tpot: q.tpot, title: "\(name): TTFT and TPOT CDFs", slo: scenario.slo)
        let (batch, kv) = Plots.timeline(collector.timeline)
        return SVGPanels.stacked([(cdf.rendered(), cdf.height), (batch.rendered(), batch.height), (kv.rendered(), kv.height)])
    }
}
