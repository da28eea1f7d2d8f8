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
    @Flag(help: "Print one JSON object (schema: schemas/compare.schema.json).") var json = false

    func run() throws {
        let catalog = try catalogOptions.locate()
        let (name, c) = FileManager.default.fileExists(atPath: file) || file.hasSuffix(".json")
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
            w.add("predicted_ratio", r.predictedRatio)
            w.add("published_ratio", r.publishedRatio)
            w.add("error", r.error)
            w.add("tolerance", r.tolerance)
            w.add("within_tolerance", r.withinTolerance)
            w.add("same_direction", r.sameDirection)
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
                     r.error * 100, r.tolerance * 100, r.withinTolerance ? "reproduced" : (r.sameDirection ? "right direction, outside tolerance" : "NOT reproduced")))
        print("  source: \(c.source)")
    }
}
