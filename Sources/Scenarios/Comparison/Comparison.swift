import Diagnostics
import CostModel
import Foundation
import HardwareModel

/// A predicted ratio held against a published one: what `compare` and `validate` report of a
/// static or a serving comparison.
public protocol RatioOutcome {
    var predictedRatio: Double { get }
    var publishedRatio: Double { get }
    var tolerance: Double { get }
    /// `(predicted − published) / published`.
    var error: Double { get }
    var withinTolerance: Bool { get }
    var sameDirection: Bool { get }
}

extension RatioOutcome {
    /// `reproduced`, `right direction, outside tolerance` or `NOT reproduced`.
    public var verdict: String {
        withinTolerance ? "reproduced" : (sameDirection ? "right direction, outside tolerance" : "NOT reproduced")
    }
}

/// A published relative claim (system A is k× faster, or k× more energy-efficient, than system
/// B) restated as two configurations that InferSim predicts, with the published ratio, its
/// source and the tolerance the reproduction is held to. Files live in `scenarios/comparisons/`;
/// `infersim compare FILE` runs one and `validate --published` runs the one whose
/// `publishedCase` names a case.
///
/// The ratio comes from each configuration's own prediction, so it reproduces a claim only as
/// far as the mechanism (in-memory bandwidth, a DSP datapath, …) produces it: nothing is scaled
/// to hit the published number.
public struct Comparison: Codable, Sendable {
    public enum Metric: String, Codable, Sendable, CaseIterable {
        /// Output tokens per second of the static batch, prompt included (system ÷ baseline).
        case throughput
        /// Tokens per second of one sequence's decode (system ÷ baseline).
        case decodeTokensPerSecond
        /// Output tokens per second of the decode phase of the whole batch, `batch / TPOT`
        /// (system ÷ baseline): the generation stage alone, prefill left out.
        case decodeThroughput
        /// Time of a decode step's operators at batch 1, the per-step host overhead (scheduling,
        /// sampling) left out, baseline ÷ system: how much faster the computation itself runs.
        case decodeKernelSpeedup
        /// Joules per output token, baseline ÷ system (how many times less energy the system spends).
        case energyEfficiency
    }

    /// One side of the comparison.
    public struct Configuration: Codable, Sendable {
        public var hardware: String
        public var tp: Int?
        public var pp: Int?
        public var weights: String?
        public var activations: String?
        public var kv: String?
        public var pimPlacement: PIMPlacement?
        /// Requests in the static batch; absent: the largest batch this configuration holds
        /// (each side then serves as many as its memory takes).
        public var batch: Int?
        public var note: String?
    }

    public var schemaVersion: Int
    public var name: String
    /// The id in `data/validation/published.json` this reproduces.
    public var publishedCase: String
    public var claim: String
    public var source: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var metric: Metric
    public var baseline: Configuration
    public var system: Configuration
    /// The published ratio (system over baseline in the metric's sense).
    public var publishedRatio: Double
    /// Allowed relative deviation of the predicted ratio, e.g. 0.3 for ±30%.
    public var tolerance: Double
    /// What the configurations assume where the source is silent.
    public var assumptions: String

    /// One side's prediction.
    public struct Side: Sendable {
        public var setup: String
        public var batch: Int
        public var value: Double
        public var joulesPerToken: Double
        public var tokensPerSecond: Double
    }

    public struct Outcome: RatioOutcome, Sendable {
        public var baseline: Side
        public var system: Side
        public var predictedRatio: Double
        public var publishedRatio: Double
        public var tolerance: Double
        /// `(predicted − published) / published`.
        public var error: Double { (predictedRatio - publishedRatio) / publishedRatio }
        public var withinTolerance: Bool { abs(error) <= tolerance }
        public var sameDirection: Bool { (predictedRatio - 1) * (publishedRatio - 1) > 0 }
    }

    public static func load(_ path: String) throws -> Comparison {
        let c = try StrictJSON.decode(Comparison.self, contentsOf: path)
        try c.check(file: path)
        return c
    }

    /// A comparison from the catalog (`scenarios/comparisons/ID.json`, the user's or built in).
    public static func load(id: String, catalog: ProfileCatalog) throws -> (name: String, comparison: Comparison) {
        let (c, name) = try catalog.decode(Comparison.self, ProfileCatalog.comparisonsPath + "/" + id + ".json")
        try c.check(file: name)
        return (name, c)
    }

    func check(file: String) throws {
        guard schemaVersion == 1 else { throw InputError(file: file, jsonPath: "$.schemaVersion", "expected 1, found \(schemaVersion)") }
        guard (1...1_000_000).contains(inputTokens) else { throw InputError(file: file, jsonPath: "$.inputTokens", "expected 1...1000000, found \(inputTokens)") }
        guard (1...1_000_000).contains(outputTokens) else { throw InputError(file: file, jsonPath: "$.outputTokens", "expected 1...1000000, found \(outputTokens)") }
        guard publishedRatio.isFinite, publishedRatio > 0 else { throw InputError(file: file, jsonPath: "$.publishedRatio", "expected a number > 0, found \(publishedRatio)") }
        guard tolerance.isFinite, tolerance > 0, tolerance < 10 else { throw InputError(file: file, jsonPath: "$.tolerance", "expected a number in (0, 10), found \(tolerance)") }
        for (side, c) in [("baseline", baseline), ("system", system)] {
            for (key, v) in [("tp", c.tp), ("pp", c.pp)] where v.map({ !(1...4096).contains($0) }) ?? false {
                throw InputError(file: file, jsonPath: "$.\(side).\(key)", "expected 1...4096, found \(v!)")
            }
            if let b = c.batch, !(1...1_000_000).contains(b) { throw InputError(file: file, jsonPath: "$.\(side).batch", "expected 1...1000000, found \(b)") }
            for (key, v) in [("weights", c.weights), ("activations", c.activations), ("kv", c.kv)] {
                if let v, DType(parsing: v) == nil {
                    throw InputError(file: file, jsonPath: "$.\(side).\(key)", "unknown format \"\(v)\"; known: \(DType.knownNames)")
                }
            }
        }
    }

    /// Predicts both sides and their ratio.
    /// - Throws: `InputError` for unknown ids, impossible parallelism or a configuration that
    ///   does not hold one request.
    public func run(catalog: ProfileCatalog, file: String) throws -> Outcome {
        let b = try predict(baseline, side: "baseline", catalog: catalog, file: file)
        let s = try predict(system, side: "system", catalog: catalog, file: file)
        let ratio = metric == .energyEfficiency ? b.value / s.value : s.value / b.value  // values are rates, or J/token
        return Outcome(baseline: b, system: s, predictedRatio: ratio, publishedRatio: publishedRatio, tolerance: tolerance)
    }

    private func predict(_ c: Configuration, side: String, catalog: ProfileCatalog, file: String) throws -> Side {
        let precision = Precision(weights: DType(parsing: c.weights ?? "fp16")!, activations: DType(parsing: c.activations ?? "fp16")!,
                                  kvCache: DType(parsing: c.kv ?? "fp16")!)
        func deployment(kvTokens: Int) throws -> Deployment {
            do {
                return try catalog.deployment(hardware: c.hardware, model: model, tensorParallel: c.tp ?? 1, pipelineParallel: c.pp ?? 1,
                                              precision: precision, pimPlacement: c.pimPlacement ?? .none, onChipKVTokens: kvTokens)
            } catch let e as InputError {
                throw InputError(file: file, jsonPath: "$.\(side)", e.description)
            }
        }
        let perRequest = inputTokens + outputTokens
        var d = try deployment(kvTokens: (c.batch ?? 1) * perRequest)
        var batch = c.batch ?? 0
        if c.batch == nil {
            batch = InferenceCostModel(deployment: d).maxBatch(inputTokens: inputTokens, outputTokens: outputTokens)
            guard batch >= 1 else { throw InputError(file: file, jsonPath: "$.\(side)", "\(c.hardware) does not hold one request of \(model) (\(perRequest) tokens)") }
            if d.layout != nil { d = try deployment(kvTokens: batch * perRequest) }
        }
        let p = InferenceCostModel(deployment: d).predictStaticBatch(batch: batch, inputTokens: inputTokens, outputTokens: outputTokens)
        guard p.fits else {
            throw InputError(file: file, jsonPath: "$.\(side).batch", "\(batch) requests of \(perRequest) tokens do not fit \(c.hardware); the largest batch that fits is \(p.maxBatch)")
        }
        let tokens = Double(batch * outputTokens)
        let joules = p.energy.value / tokens
        let value: Double
        switch metric {
        case .throughput: value = p.outputTokensPerSecond
        case .decodeTokensPerSecond: value = 1 / (p.timePerOutputToken ?? p.timeToFirstToken).value
        case .decodeThroughput: value = Double(batch) / (p.timePerOutputToken ?? p.timeToFirstToken).value
        case .decodeKernelSpeedup:
            value = 1 / ((p.timePerOutputToken ?? p.timeToFirstToken).value - d.rates.stepOverheadSeconds)
        case .energyEfficiency: value = joules
        }
        var setup = "\(c.hardware) ×\(d.deviceCount), \(precision.weights.rawValue) weights, batch \(batch)"
        if d.pimPlacement != .none { setup += ", PIM \(d.pimPlacement.rawValue)" }
        return Side(setup: setup, batch: batch, value: value, joulesPerToken: joules, tokensPerSecond: p.outputTokensPerSecond)
    }

    /// The catalog's comparison files (`scenarios/comparisons`), by the published case they reproduce.
    public static func all(in catalog: ProfileCatalog) throws -> [String: (path: String, comparison: Comparison)] {
        var result: [String: (path: String, comparison: Comparison)] = [:]
        for id in catalog.ids(in: ProfileCatalog.comparisonsPath) {
            if let data = catalog.file(ProfileCatalog.comparisonsPath + "/" + id + ".json")?.data, ServingComparison.isServing(data) { continue }
            let (name, c) = try load(id: id, catalog: catalog)
            result[c.publishedCase] = (name, c)
        }
        return result
    }
}
