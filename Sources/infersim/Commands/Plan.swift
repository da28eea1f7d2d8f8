import ArgumentParser
import Diagnostics
import Foundation
import Scenarios
import Serving
import ServingMetrics

/// `infersim plan`: the cheapest deployment that serves a workload at a rate within percentile SLOs.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the cheapest deployment that serves a workload at a target rate within percentile SLOs (or, with --devices, the highest rate N devices serve).",
        discussion: """
        Searches hardware × tensor/pipeline parallelism × replicas × batch limit × scheduler. Candidates are pruned by \
        memory fit, the decode and prefill latency floors and the replicas' service rate, then simulated on the workload at \
        the target rate, cheapest first. Prices come from the built-in data/prices/cloud-gpu-prices.json (sources and dates \
        inside) or --prices FILE.
        """)

    @Option(help: "Model id (or model JSON path).") var model: String
    @Option(help: "The workload: a trace (.csv: InferSim or Azure 2023, by header; .jsonl: InferSim or Mooncake, by key) or a scenario JSON whose workload is a trace.",
            completion: .file(extensions: ["csv", "jsonl", "json"]))
    var workload: String
    @Option(help: "Target arrival rate, requests per second.") var rate: Double?
    @Option(help: "Percentile SLOs in ms, e.g. ttft_p99_ms=2000,tpot_p99_ms=100 (keys: <ttft|tpot|e2e|queueing|itl|tbt>_<p50|p90|p95|p99>_ms; itl: every gap between two tokens, tbt: per request, the mean of its longest 10% of gaps).")
    var slo: String
    @Option(help: "Comma-separated device ids to consider (default: every device with a price).") var hardware: String?
    @Option(help: "Most devices a configuration may use.") var maxDevices = 8
    @Option(help: "Instead of a rate: the highest rate exactly this many devices serve within the SLO.") var devices: Int?
    @Option(help: "Device-hour prices (JSON, the shape of data/prices/cloud-gpu-prices.json).", completion: .file(extensions: ["json"]))
    var prices: String?
    @Option(help: "Requests of the workload to simulate per candidate.") var requests = 2000
    @Option(help: "Configurations to return (each is bisected for its headroom).") var keep = 3
    @Flag(help: "Also consider disaggregated serving: every split of 2 or more replicas into a prefill pool and a decode pool (the KV crosses the hardware's scale-out link).")
    var pools = false
    @Option(help: "Write the chosen configuration as a scenario file (run it with `infersim simulate`).") var scenarioOut: String?
    @Flag(help: "Print one JSON object (schema: schemas/plan.schema.json).") var json = false
    @OptionGroup var catalogOptions: CatalogOptions

    func validate() throws {
        if let rate { guard rate.isFinite, rate > 0, rate <= 1e6 else { throw ValidationError("--rate must be in (0, 1000000], got \(rate)") } }
        guard (rate == nil) != (devices == nil) else { throw ValidationError("give exactly one of --rate and --devices") }
        guard (1...1024).contains(maxDevices) else { throw ValidationError("--max-devices must be in 1...1024, got \(maxDevices)") }
        if let devices { guard (1...1024).contains(devices) else { throw ValidationError("--devices must be in 1...1024, got \(devices)") } }
        guard (1...20).contains(keep) else { throw ValidationError("--keep must be in 1...20, got \(keep)") }
        guard (10...1_000_000).contains(requests) else { throw ValidationError("--requests must be in 10...1000000, got \(requests)") }
    }

    func run() throws {
        try OutputPaths.check([("--scenario-out", scenarioOut)])
        let catalog = try catalogOptions.locate()
        let objectives = try PercentileSLO.parse(slo)
        let table: PriceTable = try prices.map { try StrictJSON.decode(PriceTable.self, contentsOf: $0) }
            ?? catalog.decode(PriceTable.self, ProfileCatalog.pricesFile).value
        let priceFile = prices ?? ProfileCatalog.builtInPrefix + ProfileCatalog.pricesFile
        for p in table.prices where !catalog.deviceIDs.contains(p.device) {
            throw InputError(file: priceFile, NearestName.unknown(p.device, what: "device id", known: catalog.deviceIDs))
        }
        _ = try catalog.model(model)
        let ids: [String]
        if let hardware {
            ids = hardware.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            for id in ids {
                guard catalog.deviceIDs.contains(id) else {
                    throw InputError(option: "--hardware", NearestName.unknown(id, what: "device id", known: catalog.deviceIDs))
                }
                guard table.price(of: id) != nil else {
                    throw InputError(file: priceFile, "no price for \(id); add it, or leave it out of --hardware")
                }
            }
        } else {
            ids = table.prices.map(\.device)
        }
        var trace = try Self.trace(workload)
        trace.limit = requests
        var planner = try CapacityPlanner(catalog: catalog, model: model, trace: trace, slo: objectives, prices: table,
                                          hardware: ids, maxDevices: devices.map { max($0, maxDevices) } ?? maxDevices)
        planner.keep = keep
        planner.disaggregatedPools = pools
        if let devices {
            try inverse(planner, devices: devices)
            return
        }
        let interactive = isatty(2) != 0 && !json
        let plan = try planner.plan(rate: rate!) { done, left in
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K… \(done) simulated, at most \(left) to go".utf8)) }
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let scenarioOut, let best = plan.choices.first {
            let writer = try AtomicFileWriter(path: scenarioOut)
            try writer.write(best.scenarioJSON + "\n")
            try writer.commit()
        }
        print(json ? Self.renderedJSON(plan, planner: planner, priceFile: priceFile) : Self.renderedText(plan, planner: planner, priceFile: priceFile))
    }

    func inverse(_ planner: CapacityPlanner, devices: Int) throws {
        guard let best = try planner.highestRate(devices: devices) else {
            throw InputError(option: "--devices", "no configuration of \(devices) device(s) among \(planner.hardware.joined(separator: ", ")) meets \(planner.slo) even at a trickle")
        }
        if json {
            var w = JSONWriter()
            w.add("devices", devices)
            w.add("configuration", best.candidate.label)
            w.add("highest_rate_per_s", best.rate)
            w.add("usd_per_hour", best.usdPerHour)
            w.add("slo", planner.slo.description)
            print(w.rendered())
        } else {
            print("\(devices) device(s): at most \(JSONText.number(best.rate, decimals: 2)) req/s within \(planner.slo), on \(best.candidate.label)"
                  + (best.usdPerHour.map { ", \(JSONText.number($0, decimals: 2)) $/h" } ?? ""))
        }
    }

    /// A trace file, its format from its header or first row; or a scenario's trace workload.
    static func trace(_ path: String) throws -> TraceWorkloadSpec {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        if path.hasSuffix(".json") {
            let scenario = try Scenario.load(path: path)
            guard case .trace(var t) = scenario.workload else {
                throw InputError(file: path, jsonPath: "$.workload", "a plan replays a trace at the target rate; found a generator (give its trace file instead)")
            }
            if !t.path.hasPrefix("/") { t.path = (absolute as NSString).deletingLastPathComponent + "/" + t.path }
            return t
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw InputError(file: path, "file not found or not readable") }
        let head = String(decoding: handle.readData(ofLength: 256), as: UTF8.self)
        try? handle.close()
        let format: TraceFormat
        if path.hasSuffix(".jsonl") {
            format = head.contains("\"timestamp\"") ? .mooncake : .jsonl
        } else if path.hasSuffix(".csv") {
            format = head.uppercased().hasPrefix("TIMESTAMP") ? .azure2023 : .csv
        } else {
            throw InputError(file: path, "expected a .csv or .jsonl trace or a .json scenario")
        }
        return TraceWorkloadSpec(format: format, path: absolute)
    }

    static func money(_ x: Double?) -> String { x.map { "$" + JSONText.number($0, decimals: 2) } ?? "no price" }

    static func renderedText(_ plan: CapacityPlanner.Plan, planner: CapacityPlanner, priceFile: String) -> String {
        var out = "plan: \(planner.model) at \(JSONText.shortNumber(plan.rate)) req/s within \(plan.slo)\n"
        out += "workload: \(planner.trace.path) (\(planner.trace.format.rawValue), \(planner.trace.limit ?? 0) requests, mean prompt \(Int(planner.meanPromptTokens.rounded())) and output \(Int(planner.meanOutputTokens.rounded())) tokens, \(JSONText.number(planner.traceRate, decimals: 2)) req/s as written)\n"
        var counts: [CapacityPlanner.Reason: Int] = [:]
        for e in plan.evaluations { if let r = e.rejection { counts[r.reason, default: 0] += 1 } }
        let rejected = CapacityPlanner.Reason.allCases.compactMap { r in counts[r].map { "\($0) \(r.rawValue)" } }.joined(separator: ", ")
        out += "searched \(plan.evaluations.count) candidates: \(plan.choices.count) meet the SLO; rejected: \(rejected.isEmpty ? "none" : rejected); \(plan.simulations) simulations\n"
        if plan.choices.isEmpty {
            out += "no configuration within \(planner.maxDevices) devices meets the SLO at this rate\n"
        }
        for (i, c) in plan.choices.enumerated() {
            let s = c.evaluation.summary!
            let measured = plan.slo.bounds.map { b in
                "\(b.metric.rawValue) \(b.quantile.rawValue) \(PercentileSLO.measured(b, in: s).map { JSONText.number($0, decimals: 1) } ?? "-") ms"
            }.joined(separator: ", ")
            out += "\(i + 1). \(c.evaluation.candidate.label): \(money(c.evaluation.usdPerHour))/h, \(money(c.usdPerMillionTokens)) per million tokens (\(money(c.usdPerMillionOutputTokens)) per million output tokens); \(measured); sustains up to \(JSONText.number(c.headroomRate, decimals: 2)) req/s\n"
        }
        if let next = plan.nextCheaperRejected, let r = next.rejection {
            out += "the cheapest alternative rejected: \(next.candidate.label) at \(money(next.usdPerHour))/h: \(r.reason.rawValue): \(r.detail)\n"
        }
        for reason in CapacityPlanner.Reason.allCases where reason != .cost {
            if let e = plan.evaluations.first(where: { $0.rejection?.reason == reason }) {
                out += "e.g. \(reason.rawValue): \(e.candidate.label): \(e.rejection!.detail)\n"
            }
        }
        let used = Set(plan.choices.map(\.evaluation.candidate.hardware))
        for p in planner.prices.prices where used.contains(p.device) {
            out += "price of \(p.device): \(money(p.usdPerDeviceHour))/h (\(p.derivation); \(p.source), \(p.date); from \(priceFile))\n"
        }
        return out.hasSuffix("\n") ? String(out.dropLast()) : out
    }

    /// A candidate's configuration and price, the leading fields of both `choices` and `rejected`.
    static func candidateJSON(_ e: CapacityPlanner.Evaluation, devices: Bool) -> JSONWriter {
        var o = JSONWriter()
        o.add("configuration", e.candidate.label)
        o.add("hardware", e.candidate.hardware)
        o.add("tp", e.candidate.tp)
        o.add("pp", e.candidate.pp)
        o.add("replicas", e.candidate.replicas)
        if devices { o.add("devices", e.candidate.devices) }
        o.add("max_batch_size", e.candidate.maxBatchSize)
        o.add("scheduler", e.candidate.scheduler.rawValue)
        o.addRaw("prefill_replicas", e.candidate.prefillReplicas.map(String.init) ?? "null")
        o.add("usd_per_hour", e.usdPerHour)
        return o
    }

    static func renderedJSON(_ plan: CapacityPlanner.Plan, planner: CapacityPlanner, priceFile: String) -> String {
        var w = JSONWriter()
        w.add("model", planner.model)
        w.add("rate_per_s", plan.rate)
        w.add("slo", plan.slo.description)
        w.add("workload", planner.trace.path)
        w.add("requests", planner.trace.limit ?? 0)
        w.add("candidates", plan.evaluations.count)
        w.add("simulations", plan.simulations)
        w.add("prices", priceFile)
        w.addRaw("choices", JSONWriter.array(plan.choices.map { c in
            var o = candidateJSON(c.evaluation, devices: true)
            o.add("usd_per_million_tokens", c.usdPerMillionTokens)
            o.add("usd_per_million_output_tokens", c.usdPerMillionOutputTokens)
            o.add("headroom_rate_per_s", c.headroomRate)
            o.addRaw("measured_ms", "{" + plan.slo.bounds.map { b in
                "\"\(b.key)\": " + (PercentileSLO.measured(b, in: c.evaluation.summary!).map { JSONWriter.number($0) } ?? "null")
            }.joined(separator: ", ") + "}")
            return o.rendered(indent: "  ")
        }))
        w.addRaw("rejected", JSONWriter.array(plan.evaluations.filter { $0.rejection != nil }.map { e in
            var o = candidateJSON(e, devices: false)
            o.add("reason", e.rejection!.reason.rawValue)
            o.add("detail", e.rejection!.detail)
            o.add("simulated", e.simulated)
            return o.rendered(indent: "  ")
        }))
        return w.rendered()
    }
}
