import CostModel
import Diagnostics
import DiscreteEvent
import Foundation
import HardwareModel
import Serving
import ServingMetrics

/// Capacity planning: the cheapest deployment that serves a workload at a target rate within
/// percentile SLOs.
///
/// The search covers hardware × tensor/pipeline parallelism × replicas × batch limit ×
/// scheduler. Each candidate is first judged by analytical bounds, in this order:
/// 1. **memory**: the weights and some KV cache must fit (the catalog's memory plan);
/// 2. **latency floors**: one decode step at batch 1 must beat the tightest TPOT bound, one
///    prefill of the mean prompt the tightest TTFT bound (no queueing can make them faster);
/// 3. **throughput**: the replicas' service rate, from the priced prefill and decode steps at
///    the batch the KV cache can hold, must reach the target rate.
/// Survivors are simulated on the workload at the target rate, cheapest first; a run meets the
/// SLO when every bound holds, no request is rejected and the run is not overloaded. Once
/// `keep` configurations meet it, more expensive candidates are rejected for **cost** without
/// being simulated. The winners' headroom (the highest rate each sustains) is found by bisection.
public struct CapacityPlanner: Sendable {
    public struct Candidate: Sendable, Hashable {
        public var hardware: String
        public var tp: Int
        public var pp: Int
        public var replicas: Int
        public var maxBatchSize: Int
        public var scheduler: SchedulerKind
        /// Of `replicas`, those that only prefill (disaggregated serving, the rest decode); nil: co-located.
        public var prefillReplicas: Int?
        public var devices: Int { tp * pp * replicas }

        public var label: String {
            let pools = prefillReplicas.map { " as \($0) prefill + \(replicas - $0) decode" } ?? ""
            return "\(replicas) × \(hardware) tp \(tp) pp \(pp)\(pools) (\(devices) device\(devices == 1 ? "" : "s")), \(scheduler.rawValue), batch \(maxBatchSize)"
        }
    }

    public enum Reason: String, Sendable, CaseIterable { case memory, latency, throughput, cost, unpriced }

    public struct Evaluation: Sendable {
        public var candidate: Candidate
        public var usdPerHour: Double?
        /// nil when the candidate meets the SLO.
        public var rejection: (reason: Reason, detail: String)?
        /// The simulated run at the target rate, when there was one.
        public var summary: MetricsSummary?
        public var simulated: Bool { summary != nil }
        public var meets: Bool { rejection == nil && summary != nil }
    }

    public struct Choice: Sendable {
        public var evaluation: Evaluation
        /// The highest rate (requests/s) this configuration serves within the SLO, by bisection.
        public var headroomRate: Double
        /// Dollars per million tokens (prompt + output) and per million output tokens at the target rate.
        public var usdPerMillionTokens: Double?
        public var usdPerMillionOutputTokens: Double?
        /// The scenario file that reproduces the run (`infersim simulate` on it).
        public var scenarioJSON: String
    }

    public struct Plan: Sendable {
        public var rate: Double
        public var slo: PercentileSLO
        public var evaluations: [Evaluation]
        /// The cheapest configurations that meet the SLO, cheapest first.
        public var choices: [Choice]
        public var simulations: Int
        /// The cheapest rejected candidate cheaper than the first choice, if any: what one pays less for and loses.
        public var nextCheaperRejected: Evaluation? {
            guard let best = choices.first?.evaluation.usdPerHour else { return nil }
            return evaluations.filter { $0.rejection != nil && ($0.usdPerHour ?? .infinity) <= best && $0.candidate != choices.first?.evaluation.candidate }
                .max { ($0.usdPerHour ?? 0) < ($1.usdPerHour ?? 0) }
        }
    }

    public var catalog: ProfileCatalog
    public var model: String
    /// The workload at its own rate; `rateMultiplier` is set per run.
    public var trace: TraceWorkloadSpec
    /// Requests per second of `trace` as written (over the requests simulated).
    public var traceRate: Double
    public var meanPromptTokens: Double
    public var meanOutputTokens: Double
    public var slo: PercentileSLO
    public var prices: PriceTable
    public var hardware: [String]
    public var maxDevices: Int
    public var tensorParallel: [Int] = [1, 2, 4, 8]
    public var pipelineParallel: [Int] = [1, 2]
    public var batchLimits: [Int] = [64, 256]
    public var schedulers: [SchedulerKind] = [.continuousBatching, .chunkedPrefill]
    /// Whether to consider, for every replica count of 2 or more, each split into a prefill and a
    /// decode pool (disaggregated serving on the same hardware, KV over its scale-out link).
    public var disaggregatedPools = false
    public var maxTokensPerStep = 8192
    /// Configurations to return.
    public var keep = 3
    public var seed: UInt64 = 1

    /// - Throws: `InputError` if the trace cannot be read or has fewer than two requests.
    public init(catalog: ProfileCatalog, model: String, trace: TraceWorkloadSpec, slo: PercentileSLO, prices: PriceTable,
                hardware: [String], maxDevices: Int) throws {
        self.catalog = catalog
        self.model = model
        self.slo = slo
        self.prices = prices
        self.hardware = hardware
        self.maxDevices = maxDevices
        var t = trace
        t.rateMultiplier = 1
        self.trace = t
        // The trace's own rate and mean lengths over the requests simulated.
        var source = try WorkloadSpec.trace(t).makeSource(relativeTo: "", seed: 0)
        var n = 0, prompt = 0.0, output = 0.0
        var first: SimInstant?, last = SimInstant.zero
        while let r = try source.next() {
            n += 1
            prompt += Double(r.promptTokens)
            output += Double(r.outputTokens)
            if first == nil { first = r.arrival }
            last = r.arrival
        }
        guard n >= 2, let first, last > first else {
            throw InputError(file: t.path, "a plan needs at least two requests arriving at different instants")
        }
        traceRate = Double(n - 1) / (last - first).seconds
        meanPromptTokens = prompt / Double(n)
        meanOutputTokens = output / Double(n)
    }

    /// Every candidate of the search space within `maxDevices` (`devices` exactly, if given).
    public func candidates(devices exactly: Int? = nil) -> [Candidate] {
        var out: [Candidate] = []
        for h in hardware {
            for tp in tensorParallel {
                for pp in pipelineParallel where tp * pp <= maxDevices {
                    for replicas in 1...max(1, maxDevices / (tp * pp)) {
                        let devices = tp * pp * replicas
                        if let exactly, devices != exactly { continue }
                        let splits: [Int?] = [nil] + (disaggregatedPools && replicas >= 2 ? Array(1..<replicas) : [])
                        for b in batchLimits {
                            for s in schedulers {
                                for p in splits {
                                    out.append(Candidate(hardware: h, tp: tp, pp: pp, replicas: replicas, maxBatchSize: b, scheduler: s,
                                                         prefillReplicas: p))
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    public func usdPerHour(_ c: Candidate) -> Double? {
        prices.price(of: c.hardware).map { $0.usdPerDeviceHour * Double(c.devices) }
    }

    /// The scenario file of a candidate at `rate` requests per second (what `infersim simulate` reads).
    public func scenarioJSON(_ c: Candidate, rate: Double) -> String {
        var workload = "\"format\": \"\(trace.format.rawValue)\", \"path\": \(JSONText.quoted(trace.path)), \"rateMultiplier\": \(rate / traceRate)"
        if trace.repeatCount > 1 { workload += ", \"repeat\": \(trace.repeatCount)" }
        if let limit = trace.limit { workload += ", \"limit\": \(limit)" }
        let pools = c.prefillReplicas.map { ", \"disaggregation\": {\"prefillReplicas\": \($0), \"decodeReplicas\": \(c.replicas - $0)}" } ?? ""
        return """
        {"name": "plan", "hardware": \(JSONText.quoted(c.hardware)), "model": \(JSONText.quoted(model)), "replicas": \(c.replicas)\(pools),
         "parallelism": {"tp": \(c.tp), "pp": \(c.pp)},
         "scheduler": {"kind": "\(c.scheduler.rawValue)", "maxBatchSize": \(c.maxBatchSize), "maxTokensPerStep": \(maxTokensPerStep)},
         "kvCache": {"kind": "paged", "blockSize": 16}, "router": "leastOutstanding",
         "workload": {"trace": {\(workload)}}, "seed": \(seed)}
        """
    }

    /// The scenario of a candidate at `rate` requests per second.
    public func scenario(_ c: Candidate, rate: Double) throws -> Scenario {
        try StrictJSON.decode(Scenario.self, from: Data(scenarioJSON(c, rate: rate).utf8), file: "plan")
    }

    /// Judges a candidate by its analytical bounds: nil if it may meet the SLO at `rate`.
    /// Candidates whose parallelism the model or device cannot take throw (they are skipped).
    func analytical(_ c: Candidate, rate: Double, resolve: ReplicaResolver) throws -> (Reason, String)? {
        let replica: ReplicaModel
        do {
            replica = try resolve(try scenario(c, rate: rate), "plan")
        } catch let e as InputError {
            if case .jsonPath(_, "$.model") = e.origin { return (.memory, e.message) }
            throw e
        }
        let kvTokens = replica.kvTokenCapacity
        let meanContext = meanPromptTokens + meanOutputTokens / 2
        guard kvTokens >= Int(meanPromptTokens + meanOutputTokens) else {
            return (.memory, "KV room for \(kvTokens) tokens, less than one mean request (\(Int(meanPromptTokens + meanOutputTokens)))")
        }
        var one = StepWorkload()
        one.addDecode(contextLength: max(1, Int(meanContext)))
        let decodeFloor = replica.costModel.cost(of: one).duration.value * 1e3
        if let bound = slo.tightest(.tpot), decodeFloor > bound {
            return (.latency, "a decode step at batch 1 takes \(JSONText.number(decodeFloor, decimals: 1)) ms > the TPOT bound \(JSONText.shortNumber(bound)) ms")
        }
        var prefill = StepWorkload()
        prefill.addPrefillChunk(tokens: max(1, Int(meanPromptTokens)), contextBefore: 0)
        let prefillFloor = replica.costModel.cost(of: prefill).duration.value * 1e3
        if let bound = slo.tightest(.ttft), prefillFloor > bound {
            return (.latency, "a prefill of the mean prompt takes \(JSONText.number(prefillFloor, decimals: 1)) ms > the TTFT bound \(JSONText.shortNumber(bound)) ms")
        }
        // Service rate per replica: prefill at full steps, decode at the batch the KV cache holds.
        let batch = max(1, min(c.maxBatchSize, Int(Double(kvTokens) / meanContext)))
        var decode = StepWorkload()
        for _ in 0..<batch { decode.addDecode(contextLength: max(1, Int(meanContext))) }
        let decodeRate = Double(batch) / replica.costModel.cost(of: decode).duration.value
        var full = StepWorkload()
        full.addPrefillChunk(tokens: maxTokensPerStep, contextBefore: 0)
        let prefillRate = Double(maxTokensPerStep) / replica.costModel.cost(of: full).duration.value
        // Co-located, each replica prefills and decodes its requests; separate pools serve at the
        // rate of the slower pool.
        let capacity = c.prefillReplicas.map {
            min(Double($0) * prefillRate / meanPromptTokens, Double(c.replicas - $0) * decodeRate / meanOutputTokens)
        } ?? Double(c.replicas) / (meanPromptTokens / prefillRate + meanOutputTokens / decodeRate)
        if capacity < rate {
            return (.throughput, "serves at most \(JSONText.number(capacity, decimals: 2)) req/s (decode \(Int(decodeRate)) tok/s at batch \(batch), prefill \(Int(prefillRate)) tok/s per replica) < \(JSONText.shortNumber(rate)) req/s")
        }
        return nil
    }

    /// Simulates a candidate at `rate`: its summary and the SLO it misses (empty if met).
    func simulate(_ c: Candidate, rate: Double, runner: SimulationRunner) throws -> (MetricsSummary, [String]) {
        let report = try runner.run(try scenario(c, rate: rate), file: "plan")
        let s = report.summary
        var misses = slo.violations(in: s)
        if s.requestsRejected > 0 { misses.append("\(s.requestsRejected) requests rejected") }
        if s.overloaded { misses.append("overloaded: \(s.overloadReason)") }
        return (s, misses)
    }

    /// The plan at `rate`.
    /// - Parameter progress: called after each simulation with (simulations done, candidates left).
    public func plan(rate: Double, devices: Int? = nil, progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws -> Plan {
        let resolve = ReplicaResolvers.catalog(catalog)
        let runner = SimulationRunner(catalog: catalog, judgedBy: slo)
        var evaluations: [Evaluation] = []
        var survivors: [(Candidate, Double)] = []
        for c in candidates(devices: devices) {
            let price = usdPerHour(c)
            let verdict: (Reason, String)?
            do { verdict = try analytical(c, rate: rate, resolve: resolve) } catch is InputError { continue }  // not a valid layout
            if let (reason, detail) = verdict {
                evaluations.append(Evaluation(candidate: c, usdPerHour: price, rejection: (reason, detail)))
            } else if let price {
                survivors.append((c, price))
            } else {
                evaluations.append(Evaluation(candidate: c, usdPerHour: nil, rejection: (.unpriced, "no price for \(c.hardware)")))
            }
        }
        // Cheapest first; ties: fewer devices, then the label (deterministic).
        survivors.sort { ($0.1, $0.0.devices, $0.0.label) < ($1.1, $1.0.devices, $1.0.label) }
        var met: [Evaluation] = []
        var simulations = 0
        // Simulated in batches of one candidate per core, judged in price order; a batch's
        // candidates past the `keep`-th that meets are dropped as if never run, so the plan is
        // the same on any number of cores.
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        func tooExpensive(_ c: Candidate, _ price: Double) -> Evaluation {
            Evaluation(candidate: c, usdPerHour: price,
                       rejection: (.cost, "costs \(JSONText.number(price, decimals: 2)) $/h; \(keep) cheaper configurations meet the SLO"))
        }
        var next = 0
        while next < survivors.count {
            if met.count >= keep {
                for (c, price) in survivors[next...] { evaluations.append(tooExpensive(c, price)) }
                break
            }
            let batch = Array(survivors[next..<min(survivors.count, next + width)])
            let outcomes = Self.parallel(batch.count) { i in try self.simulate(batch[i].0, rate: rate, runner: runner) }
            for (i, outcome) in outcomes.enumerated() {
                let (c, price) = batch[i]
                if met.count >= keep {
                    evaluations.append(tooExpensive(c, price))
                    continue
                }
                let (summary, misses) = try outcome.get()
                simulations += 1
                if misses.isEmpty {
                    let e = Evaluation(candidate: c, usdPerHour: price, rejection: nil, summary: summary)
                    met.append(e)
                    evaluations.append(e)
                } else {
                    let reason: Reason = summary.overloaded || summary.requestsRejected > 0 ? .throughput : .latency
                    evaluations.append(Evaluation(candidate: c, usdPerHour: price, rejection: (reason, "simulated: " + misses.joined(separator: "; ")),
                                                  summary: summary))
                }
            }
            next += batch.count
            progress(simulations, survivors.count - next)
        }
        let winners = met.map(\.candidate)
        let headrooms = Self.parallel(winners.count) { i in
            var n = 0
            let h = try self.headroom(winners[i], from: rate, runner: runner, simulations: &n)
            return (h, n)
        }
        var choices: [Choice] = []
        for (e, outcome) in zip(met, headrooms) {
            let (headroom, n) = try outcome.get()
            simulations += n
            let s = e.summary!
            let hours = s.simulatedSeconds / 3600
            let tokens = Double(s.promptTokens + s.outputTokens), outputs = Double(s.outputTokens)
            let cost = e.usdPerHour.map { $0 * hours }
            choices.append(Choice(evaluation: e, headroomRate: headroom,
                                  usdPerMillionTokens: cost.flatMap { tokens > 0 ? $0 / tokens * 1e6 : nil },
                                  usdPerMillionOutputTokens: cost.flatMap { outputs > 0 ? $0 / outputs * 1e6 : nil },
                                  scenarioJSON: scenarioJSON(e.candidate, rate: rate)))
        }
        evaluations.sort { ($0.usdPerHour ?? .infinity, $0.candidate.label) < ($1.usdPerHour ?? .infinity, $1.candidate.label) }
        return Plan(rate: rate, slo: slo, evaluations: evaluations, choices: choices, simulations: simulations)
    }

    /// Runs `body(0..<count)` on all cores; results in index order.
    static func parallel<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let box = ResultBox<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { i in box.set(i, Result { try body(i) }) }
        return (0..<count).map { box.get($0) }
    }

    /// The highest rate a configuration serves within the SLO: doubling from `rate` (which it
    /// serves) until it fails, at most `doublings` times, then 8 bisection steps (to within 1/256
    /// of the bracket).
    func headroom(_ c: Candidate, from rate: Double, runner: SimulationRunner, simulations: inout Int, doublings: Int = 8) throws -> Double {
        var good = rate, bad = rate * 2
        for _ in 0..<doublings {
            simulations += 1
            if try simulate(c, rate: bad, runner: runner).1.isEmpty { good = bad; bad *= 2 } else { break }
        }
        for _ in 0..<8 {
            let mid = (good + bad) / 2
            simulations += 1
            if try simulate(c, rate: mid, runner: runner).1.isEmpty { good = mid } else { bad = mid }
        }
        return good
    }

    /// The inverse question: the highest rate any configuration of exactly `devices` devices
    /// serves within the SLO, and which one.
    public func highestRate(devices: Int) throws -> (candidate: Candidate, rate: Double, usdPerHour: Double?)? {
        let resolve = ReplicaResolvers.catalog(catalog)
        let runner = SimulationRunner(catalog: catalog, judgedBy: slo)
        var best: (Candidate, Double, Double?)?
        var simulations = 0
        let probe = traceRate / 1e3  // a trickle: any valid configuration meets the SLO there, or none can
        for c in candidates(devices: devices) {
            do { _ = try resolve(try scenario(c, rate: probe), "plan") } catch { continue }
            guard try simulate(c, rate: probe, runner: runner).1.isEmpty else { continue }
            let rate = try headroom(c, from: probe, runner: runner, simulations: &simulations, doublings: 30)
            if rate > (best?.1 ?? 0) { best = (c, rate, usdPerHour(c)) }
        }
        return best.map { (candidate: $0.0, rate: $0.1, usdPerHour: $0.2) }
    }
}

