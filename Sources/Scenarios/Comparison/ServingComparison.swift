import CostModel
import Diagnostics
import Foundation
import HardwareModel
import Serving
import ServingMetrics

/// A published relative claim about serving systems (Splitwise's 1.4× throughput at equal
/// cost, DistServe's goodput, Mooncake's capacity) restated as two serving scenarios replayed on
/// the same trace: the ratio of the highest arrival rate each serves within a service-level
/// objective. Files live beside the static comparisons in `scenarios/comparisons/` with
/// `"kind": "serving"`.
///
/// The rate each side sustains is searched, not assumed: the trace's `rateMultiplier` is halved
/// until the side meets the SLO, doubled until it does not, then bisected
/// (`bisections` steps). A run meets the SLO when every percentile bound holds, no request is
/// rejected and the run is not overloaded (queueing that keeps growing). Nothing is scaled to hit
/// the published ratio: it comes from the mechanism the scenarios model (separate pools, the
/// link between them, each pool's batching).
///
/// The SLO is absolute (`slo`: `ttft_p99_ms=…`), or relative to a reference deployment the way
/// Splitwise states its SLOs (`sloReference`): each bound is a factor times the reference's
/// unloaded latency for the trace's request at that quantile (TTFT: a prefill of the quantile's
/// prompt alone; TPOT: a decode at batch 1 at the quantile's context).
public struct ServingComparison: Codable, Sendable {
    public enum Metric: String, Codable, Sendable, CaseIterable {
        /// The highest arrival rate served within the SLO (system ÷ baseline).
        case maxRate
        /// That rate per device (system ÷ baseline): goodput per GPU as DistServe states it.
        case maxRatePerDevice
        /// That rate per dollar-hour of the devices (system ÷ baseline), prices from `data/prices`.
        case maxRatePerDollar
    }

    public struct Reference: Codable, Sendable, Hashable {
        public var hardware: String
        public var tp: Int
        /// `ttft_p50=2,tpot_p99=5,…`: factors over the reference's unloaded latency.
        public var factors: String
    }

    public var schemaVersion: Int
    public var kind: String
    public var name: String
    /// The id in `data/validation/published.json` this reproduces (nil for a comparison that
    /// only shows a direction, such as a workload where the system should not win).
    public var publishedCase: String?
    public var claim: String
    public var source: String
    public var metric: Metric
    public var baseline: Scenario
    public var system: Scenario
    public var slo: String?
    public var sloReference: Reference?
    /// Requests of the trace each run replays (at most 100,000).
    public var requests: Int
    public var bisections: Int?
    public var publishedRatio: Double
    public var tolerance: Double
    /// The claim is an upper bound ("does not raise goodput"): reproduced when the predicted
    /// ratio is at most `publishedRatio × (1 + tolerance)`.
    public var atMost: Bool?
    public var assumptions: String

    public struct Side: Sendable {
        public var setup: String
        public var devices: Int
        public var usdPerHour: Double?
        /// The highest rate that met the SLO, requests per second.
        public var maxRate: Double
        /// The run at that rate.
        public var summary: MetricsSummary
        public var value: Double
        public var simulations: Int
    }

    public struct Outcome: RatioOutcome, Sendable {
        public var baseline: Side
        public var system: Side
        public var slo: PercentileSLO
        public var predictedRatio: Double
        public var publishedRatio: Double
        public var tolerance: Double
        public var atMost = false
        public var error: Double { (predictedRatio - publishedRatio) / publishedRatio }
        public var withinTolerance: Bool { atMost ? error <= tolerance : abs(error) <= tolerance }
        public var sameDirection: Bool {
            atMost ? predictedRatio <= max(1, publishedRatio) * (1 + tolerance) : (predictedRatio - 1) * (publishedRatio - 1) > 0
        }
    }

    /// Whether a comparison file is a serving one (`"kind": "serving"` at its top level).
    public static func isServing(_ data: Data) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["kind"] as? String == "serving"
    }

    public static func load(_ path: String) throws -> ServingComparison {
        let c = try StrictJSON.decode(ServingComparison.self, contentsOf: path)
        try c.check(file: path)
        return c
    }

    /// A serving comparison from the catalog (`scenarios/comparisons/ID.json`).
    public static func load(id: String, catalog: ProfileCatalog) throws -> (name: String, comparison: ServingComparison) {
        let (c, name) = try catalog.decode(ServingComparison.self, ProfileCatalog.comparisonsPath + "/" + id + ".json")
        try c.check(file: name)
        return (name, c)
    }

    /// The catalog's serving comparisons that reproduce a published case, by that case.
    public static func all(in catalog: ProfileCatalog) throws -> [String: (path: String, comparison: ServingComparison)] {
        var result: [String: (path: String, comparison: ServingComparison)] = [:]
        for id in catalog.ids(in: ProfileCatalog.comparisonsPath) {
            guard let data = catalog.file(ProfileCatalog.comparisonsPath + "/" + id + ".json")?.data, isServing(data) else { continue }
            let (name, c) = try load(id: id, catalog: catalog)
            if let k = c.publishedCase { result[k] = (name, c) }
        }
        return result
    }

    public static func decode(_ data: Data, file: String) throws -> ServingComparison {
        let c = try StrictJSON.decode(ServingComparison.self, from: data, file: file)
        try c.check(file: file)
        return c
    }

    func check(file: String) throws {
        guard schemaVersion == 1 else { throw InputError(file: file, jsonPath: "$.schemaVersion", "expected 1, found \(schemaVersion)") }
        guard kind == "serving" else { throw InputError(file: file, jsonPath: "$.kind", "expected \"serving\", found \"\(kind)\"") }
        guard (1...100_000).contains(requests) else { throw InputError(file: file, jsonPath: "$.requests", "expected 1...100000, found \(requests)") }
        if let b = bisections, !(1...20).contains(b) { throw InputError(file: file, jsonPath: "$.bisections", "expected 1...20, found \(b)") }
        guard publishedRatio.isFinite, publishedRatio > 0 else { throw InputError(file: file, jsonPath: "$.publishedRatio", "expected a number > 0, found \(publishedRatio)") }
        guard tolerance.isFinite, tolerance > 0, tolerance < 10 else { throw InputError(file: file, jsonPath: "$.tolerance", "expected a number in (0, 10), found \(tolerance)") }
        switch (slo, sloReference) {
        case (nil, nil), (.some, .some):
            throw InputError(file: file, jsonPath: "$.slo", "expected exactly one of slo and sloReference")
        case (let text?, nil):
            _ = try PercentileSLO.parse(text, origin: .jsonPath(file: file, path: "$.slo"))
        case (nil, let r?):
            guard (1...64).contains(r.tp) else { throw InputError(file: file, jsonPath: "$.sloReference.tp", "expected 1...64, found \(r.tp)") }
            _ = try Self.factors(r.factors, file: file)
        }
        for (side, s) in [("baseline", baseline), ("system", system)] {
            guard s.sweep == nil else { throw InputError(file: file, jsonPath: "$.\(side).sweep", "a comparison side is one scenario, not a sweep") }
            guard case .trace = s.workload else {
                throw InputError(file: file, jsonPath: "$.\(side).workload", "expected a trace replay (its rate is what the comparison searches)")
            }
        }
    }

    /// `metric_quantile=factor` pairs of `sloReference.factors`.
    static func factors(_ text: String, file: String) throws -> [(PercentileSLO.Metric, PercentileSLO.Quantile, Double)] {
        let origin = InputError.Origin.jsonPath(file: file, path: "$.sloReference.factors")
        var out: [(PercentileSLO.Metric, PercentileSLO.Quantile, Double)] = []
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=")
            let names = kv.first.map { $0.split(separator: "_") } ?? []
            guard kv.count == 2, names.count == 2, let m = PercentileSLO.Metric(rawValue: String(names[0])), m == .ttft || m == .tpot,
                  let q = PercentileSLO.Quantile(rawValue: String(names[1])), let f = Double(kv[1]), f.isFinite, f >= 1, f <= 1000 else {
                throw InputError(origin: origin, "expected ttft_pNN=factor or tpot_pNN=factor with a factor in [1, 1000], found \"\(part)\"")
            }
            out.append((m, q, f))
        }
        guard !out.isEmpty else { throw InputError(origin: origin, "expected at least one factor") }
        return out
    }

    /// Runs both sides. `file` names the comparison in errors and anchors the traces' relative
    /// paths (a built-in file's are read relative to the working directory).
    /// - Throws: `InputError` for a bad side, a missing trace, or a side that meets the SLO at no rate.
    public func run(catalog: ProfileCatalog, file: String) throws -> Outcome {
        let anchor = file.hasPrefix(ProfileCatalog.builtInPrefix) ? String(file.dropFirst(ProfileCatalog.builtInPrefix.count)) : file
        let objectives = try resolvedSLO(catalog: catalog, file: anchor)
        let prices = try? catalog.decode(PriceTable.self, ProfileCatalog.pricesFile).value
        let runner = SimulationRunner(catalog: catalog, judgedBy: objectives)
        let b = try search(baseline, side: "baseline", slo: objectives, runner: runner, prices: prices, file: anchor)
        let s = try search(system, side: "system", slo: objectives, runner: runner, prices: prices, file: anchor)
        return Outcome(baseline: b, system: s, slo: objectives, predictedRatio: s.value / b.value,
                       publishedRatio: publishedRatio, tolerance: tolerance, atMost: atMost ?? false)
    }

    func resolvedSLO(catalog: ProfileCatalog, file: String) throws -> PercentileSLO {
        if let slo { return try PercentileSLO.parse(slo, origin: .jsonPath(file: file, path: "$.slo")) }
        let r = sloReference!
        // The reference: the baseline's model on the reference hardware, unloaded.
        var scenario = baseline
        scenario.hardware = r.hardware
        scenario.parallelism = Scenario.Parallelism(tp: r.tp)
        scenario.replicas = 1
        scenario.disaggregation = nil
        let reference: ReplicaModel
        do { reference = try ReplicaResolvers.catalog(catalog)(scenario, file) } catch let e as InputError {
            throw InputError(file: file, jsonPath: "$.sloReference", e.message)
        }
        // The trace's prompt and context lengths over the requests each run replays.
        let directory = (file as NSString).deletingLastPathComponent
        var workload = baseline.workload
        if case .trace(var t) = workload { t.limit = requests; t.rateMultiplier = 1; workload = .trace(t) }
        var source = try workload.makeSource(relativeTo: directory, seed: baseline.seed)
        var prompts: [Int] = [], contexts: [Int] = []
        while let r = try source.next() {
            prompts.append(r.promptTokens)
            contexts.append(r.promptTokens + r.outputTokens / 2)
        }
        guard !prompts.isEmpty else { throw InputError(file: file, jsonPath: "$.baseline.workload", "the trace has no request") }
        prompts.sort(); contexts.sort()
        func quantile(_ xs: [Int], _ q: PercentileSLO.Quantile) -> Int {
            let p: Double
            switch q { case .p50: p = 0.5; case .p90: p = 0.9; case .p95: p = 0.95; case .p99: p = 0.99 }
            return xs[min(xs.count - 1, Int((p * Double(xs.count - 1)).rounded()))]
        }
        var bounds: [PercentileSLO.Bound] = []
        for (m, q, f) in try Self.factors(r.factors, file: file) {
            var step = StepWorkload()
            if m == .ttft { step.addPrefillChunk(tokens: quantile(prompts, q), contextBefore: 0) } else { step.addDecode(contextLength: quantile(contexts, q)) }
            let ms = reference.costModel.cost(of: step).duration.value * 1e3 * f
            bounds.append(PercentileSLO.Bound(metric: m, quantile: q, milliseconds: (ms * 10).rounded(.up) / 10))
        }
        return PercentileSLO(bounds: bounds)
    }

    func search(_ base: Scenario, side: String, slo: PercentileSLO, runner: SimulationRunner, prices: PriceTable?,
                file: String) throws -> Side {
        guard case .trace(let trace) = base.workload else { preconditionFailure("checked at load") }
        var simulations = 0
        func run(_ multiplier: Double) throws -> MetricsSummary? {
            var s = base
            var t = trace
            t.rateMultiplier = multiplier
            t.limit = requests
            s.workload = .trace(t)
            s.slo = nil
            simulations += 1
            let report: SimulationReport
            do { report = try runner.run(s, file: file) } catch let e as InputError {
                throw InputError(file: file, jsonPath: "$.\(side)", e.message)
            }
            let m = report.summary
            let met = slo.violations(in: m).isEmpty && m.requestsRejected == 0 && !m.overloaded
            return met ? m : nil
        }
        var good = trace.rateMultiplier, bad = good
        var best: MetricsSummary? = try run(good)
        if best == nil {
            for _ in 0..<6 {
                bad = good
                good /= 2
                if let m = try run(good) { best = m; break }
            }
            guard best != nil else {
                throw InputError(file: file, jsonPath: "$.\(side)", "meets \(slo) at no rate down to \(JSONText.shortNumber(good))× the trace's")
            }
        } else {
            bad = good * 2
            for _ in 0..<16 {
                guard let m = try run(bad) else { break }
                best = m; good = bad; bad *= 2
            }
        }
        for _ in 0..<(bisections ?? 6) {
            let mid = (good + bad) / 2
            if let m = try run(mid) { best = m; good = mid } else { bad = mid }
        }
        let summary = best!
        let rate = summary.requestsArrived > 1 ? try arrivalRate(base, multiplier: good, file: file) : 0
        let devices = Self.devices(base)
        let usd = Self.usdPerHour(base, prices: prices)
        let value: Double
        switch metric {
        case .maxRate: value = rate
        case .maxRatePerDevice: value = rate / Double(devices)
        case .maxRatePerDollar:
            guard let usd else { throw InputError(file: file, jsonPath: "$.\(side).hardware", "no price for \(base.hardware) in \(ProfileCatalog.pricesFile)") }
            value = rate / usd
        }
        var setup = "\(base.hardware) tp \(base.parallelism.tp)"
        if let d = base.disaggregation {
            setup = "prefill \(d.prefillReplicas) × \(setup), decode \(d.decodeReplicas) × \(d.decodeHardware ?? base.hardware) tp \(d.decodeTp ?? base.parallelism.tp)"
        } else {
            setup = "\(base.replicas) × \(setup) co-located"
        }
        return Side(setup: setup, devices: devices, usdPerHour: usd, maxRate: rate, summary: summary, value: value, simulations: simulations)
    }

    /// Requests per second of the trace's first `requests` arrivals at `multiplier`.
    func arrivalRate(_ s: Scenario, multiplier: Double, file: String) throws -> Double {
        guard case .trace(var t) = s.workload else { return 0 }
        t.rateMultiplier = multiplier
        t.limit = requests
        var source = try WorkloadSpec.trace(t).makeSource(relativeTo: (file as NSString).deletingLastPathComponent, seed: s.seed)
        var first: Double?, last = 0.0, n = 0
        while let r = try source.next() {
            if first == nil { first = r.arrival.seconds }
            last = r.arrival.seconds
            n += 1
        }
        guard let first, n > 1, last > first else { return 0 }
        return Double(n - 1) / (last - first)
    }

    /// Devices the scenario deploys (both pools under disaggregation).
    static func devices(_ s: Scenario) -> Int {
        let perReplica = s.parallelism.tp * s.parallelism.pp
        guard let d = s.disaggregation else { return s.replicas * perReplica }
        return d.prefillReplicas * perReplica + d.decodeReplicas * (d.decodeTp ?? s.parallelism.tp) * s.parallelism.pp
    }

    /// Dollars per hour of the scenario's devices, nil when a device has no price.
    static func usdPerHour(_ s: Scenario, prices: PriceTable?) -> Double? {
        guard let prices, let p = prices.price(of: s.hardware)?.usdPerDeviceHour else { return nil }
        let perReplica = Double(s.parallelism.tp * s.parallelism.pp)
        guard let d = s.disaggregation else { return Double(s.replicas) * perReplica * p }
        guard let q = prices.price(of: d.decodeHardware ?? s.hardware)?.usdPerDeviceHour else { return nil }
        return Double(d.prefillReplicas) * perReplica * p
            + Double(d.decodeReplicas * (d.decodeTp ?? s.parallelism.tp) * s.parallelism.pp) * q
    }
}
