import ArgumentParser
import Foundation
import HardwareModel
import Scenarios

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a comparison scenario (scenarios/comparisons/*.json): two configurations, their predicted ratio against a published one.")

    @Argument(help: "Comparison scenario: a file, or the id of a built-in one (see `infersim profiles list`).")
    var file: String
    @OptionGroup var catalogOptions: CatalogOptions
    @Flag(help: "Print one JSON object (schema: schemas/compare.schema.json; a serving comparison: schemas/compare-serving.schema.json).") var json = false

    func run() throws {
        let catalog = try catalogOptions.locate()
        let isFile = FileManager.default.fileExists(atPath: file) || file.hasSuffix(".json")
        let data = isFile ? FileManager.default.contents(atPath: file) : catalog.file(ProfileCatalog.comparisonsPath + "/" + file + ".json")?.data
        if let data, ServingComparison.isServing(data) {
            let (name, c) = isFile ? (file, try ServingComparison.load(file)) : try ServingComparison.load(id: file, catalog: catalog)
            try runServing(c, name: name, catalog: catalog)
            return
        }
        let (name, c) = isFile
            ? (file, try Comparison.load(file)) : try Comparison.load(id: file, catalog: catalog)
        let r = try c.run(catalog: catalog, file: name)
        let unit: String
        switch c.metric {
        case .throughput: unit = "output tokens/s"
        case .decodeTokensPerSecond: unit = "decode tokens/s per sequence"
        case .decodeThroughput: unit = "decode tokens/s of the batch"
        case .decodeKernelSpeedup: unit = "decode steps/s without the per-step host overhead"
        case .energyEfficiency: unit = "J per output token"
        }
        if json {
            func side(_ s: Comparison.Side) -> String {
                var o = JSONWriter()
                o.add("setup", s.setup)
                o.add("batch", s.batch)
                o.add("value", s.value)
                o.add("tokens_per_s", s.tokensPerSecond)
                o.add("joules_per_token", s.joulesPerToken)
                return o.rendered(indent: "  ")
            }
            var w = JSONWriter()
            w.add("name", c.name)
            w.add("published_case", c.publishedCase)
            w.add("claim", c.claim)
            w.add("model", c.model)
            w.add("metric", c.metric.rawValue)
            w.add("unit", unit)
            w.addRaw("baseline", side(r.baseline))
            w.addRaw("system", side(r.system))
            Self.addRatio(r, to: &w)
            w.add("source", c.source)
            print(w.rendered())
            return
        }
        func fmt(_ v: Double) -> String { String(format: "%.4g", v) }
        print("\(c.name): \(c.claim)")
        print("  model \(c.model), \(c.inputTokens) prompt + \(c.outputTokens) output tokens per request")
        print("  baseline  \(r.baseline.setup): \(fmt(r.baseline.value)) \(unit) (\(fmt(r.baseline.tokensPerSecond)) tok/s, \(fmt(r.baseline.joulesPerToken)) J/token)")
        print("  system    \(r.system.setup): \(fmt(r.system.value)) \(unit) (\(fmt(r.system.tokensPerSecond)) tok/s, \(fmt(r.system.joulesPerToken)) J/token)")
        print(String(format: "  predicted %.2fx, published %.2fx (%+.1f%%, tolerance ±%.0f%%): %@", r.predictedRatio, r.publishedRatio,
                     r.error * 100, r.tolerance * 100, r.verdict))
        print("  source: \(c.source)")
    }

    func runServing(_ c: ServingComparison, name: String, catalog: ProfileCatalog) throws {
        let r = try c.run(catalog: catalog, file: name)
        let unit: String
        switch c.metric {
        case .maxRate: unit = "req/s within the SLO"
        case .maxRatePerDevice: unit = "req/s per device within the SLO"
        case .maxRatePerDollar: unit = "req/s per $/h within the SLO"
        }
        if json {
            func side(_ s: ServingComparison.Side) -> String {
                var o = JSONWriter()
                o.add("setup", s.setup)
                o.add("devices", s.devices)
                if let usd = s.usdPerHour { o.add("usd_per_hour", usd) }
                o.add("max_rate", s.maxRate)
                o.add("value", s.value)
                o.add("ttft_p99_ms", s.summary.timeToFirstToken.p99.milliseconds)
                o.add("tpot_p99_ms", s.summary.timePerOutputToken.p99.milliseconds)
                o.add("simulations", s.simulations)
                return o.rendered(indent: "  ")
            }
            var w = JSONWriter()
            w.add("name", c.name)
            if let k = c.publishedCase { w.add("published_case", k) }
            w.add("claim", c.claim)
            w.add("metric", c.metric.rawValue)
            w.add("unit", unit)
            w.add("slo", "\(r.slo)")
            w.addRaw("baseline", side(r.baseline))
            w.addRaw("system", side(r.system))
            Self.addRatio(r, to: &w)
            w.add("source", c.source)
            print(w.rendered())
            return
        }
        func fmt(_ v: Double) -> String { String(format: "%.4g", v) }
        func line(_ s: ServingComparison.Side) -> String {
            "\(s.setup), \(s.devices) devices\(s.usdPerHour.map { String(format: ", $%.2f/h", $0) } ?? ""): \(fmt(s.maxRate)) req/s"
                + " (TTFT p99 \(fmt(s.summary.timeToFirstToken.p99.milliseconds)) ms, TPOT p99 \(fmt(s.summary.timePerOutputToken.p99.milliseconds)) ms; \(s.simulations) runs)"
        }
        print("\(c.name): \(c.claim)")
        print("  SLO: \(r.slo)")
        print("  baseline  \(line(r.baseline))")
        print("  system    \(line(r.system))")
        print(String(format: "  %@: predicted %.2fx, published %.2fx (%+.1f%%, tolerance ±%.0f%%): %@", unit, r.predictedRatio, r.publishedRatio,
                     r.error * 100, r.tolerance * 100, r.verdict))
        print("  source: \(c.source)")
    }

    /// The ratio fields both comparison kinds print, in the schemas' order.
    static func addRatio(_ r: some RatioOutcome, to w: inout JSONWriter) {
        w.add("predicted_ratio", r.predictedRatio)
        w.add("published_ratio", r.publishedRatio)
        w.add("error", r.error)
        w.add("tolerance", r.tolerance)
        w.add("within_tolerance", r.withinTolerance)
        w.add("same_direction", r.sameDirection)
    }
}
