import ArgumentParser
import Foundation
import HardwareModel
import Scenarios

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a comparison scenario (scenarios/comparisons/*.json): two configurations, their predicted ratio against a published one.")

    @Argument(help: "Comparison scenario file.")
    var file: String
    @Option(help: "Directory holding hardware-profiles/ and scenarios/ (default: found from the working directory).")
    var profiles: String?

    func run() throws {
        let catalog = try ProfileCatalog.locate(explicit: profiles)
        let c = try Comparison.load(file)
        let r = try c.run(catalog: catalog, file: file)
        let unit: String
        switch c.metric {
        case .throughput: unit = "output tokens/s"
        case .decodeTokensPerSecond: unit = "decode tokens/s per sequence"
        case .decodeThroughput: unit = "decode tokens/s of the batch"
        case .decodeKernelSpeedup: unit = "decode steps/s without the per-step host overhead"
        case .energyEfficiency: unit = "J per output token"
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
