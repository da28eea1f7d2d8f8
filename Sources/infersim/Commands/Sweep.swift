import ArgumentParser
import Foundation
import HardwareModel
import Scenarios
import ServingMetrics

/// `infersim sweep SCENARIO.json --vary PATH=V1,V2,...`: a what-if grid, one table row per point.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario over a grid of settings and print one row of latency, throughput, goodput and energy per point.",
        discussion: """
        Axes come from the scenario's "sweep" object and from --vary; a --vary axis replaces a file axis \
        with the same path. The grid is the cartesian product, axes in sorted path order. Examples:
          infersim sweep scenarios/quickstart.json --vary workload.generator.arrivals.poisson.ratePerSecond=2,4,8,16
          infersim sweep scenarios/quickstart.json --vary scheduler.kind=continuousBatching,chunkedPrefill --vary replicas=1,2
        Points run in parallel; each is an independent, deterministic simulation.
        """)

    @Argument(help: "Scenario JSON file (see scenarios/README.md).") var scenario: String
    @Option(name: .customLong("vary"), help: ArgumentHelp(
        "An axis: a dot-separated scenario key path, '=', and comma-separated values (numbers, true/false, or names).",
        valueName: "path=v1,v2,..."))
    var axes: [String] = []
    @Flag(help: "Print the table as a JSON array.") var json = false
    @Option(help: "Also write the table as CSV to this file (written whole or not at all).") var csv: String?
    @OptionGroup var catalogOptions: CatalogOptions
    @Flag(help: "Keep every request's latencies and report exact percentiles (memory grows with the run); by default a streaming sketch keeps memory constant, its percentiles within 0.2% of the exact nearest-rank ones.")
    var exactPercentiles = false

    var runner: SimulationRunner {
        var r = SimulationRunner(resolve: ReplicaResolvers.catalog(root: catalogOptions.profiles))
        r.percentiles = exactPercentiles ? .exact : .sketch
        return r
    }
    @Flag(help: "Skip malformed trace rows at every point (counted in the table) instead of failing.") var skipBadRows = false

    func run() throws {
        try OutputPaths.check([("--csv", csv)])
        var extra: [String: [JSONValue]] = [:]
        for spec in axes {
            let (path, values) = try Self.parseAxis(spec)
            extra[path] = values
        }
        let runner = SweepRunner(runner: runner)
        let results = try runner.runPoints(file: scenario, extraAxes: extra, skipBadRows: skipBadRows)
        let loaded = try Scenario.load(path: scenario)
        let table = SweepTable(axes: SweepExpansion.axes(of: loaded, extraAxes: extra), results: results)
        if let csv {
            let writer = try AtomicFileWriter(path: csv)
            try writer.write(table.renderedCSV())
            try writer.commit()
        }
        print(json ? table.renderedJSON() : table.renderedText(), terminator: "")
    }

    /// `path=v1,v2` → the path and its values; each value is JSON if it parses as JSON, else a string.
    static func parseAxis(_ spec: String) throws -> (String, [JSONValue]) {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else {
            throw ValidationError("--vary expects path=v1,v2,..., found \"\(spec)\"")
        }
        let path = String(spec[..<eq])
        let raw = spec[spec.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !raw.isEmpty, !raw.contains(where: \.isEmpty) else {
            throw ValidationError("--vary \(path): expected comma-separated values, found \"\(spec[spec.index(after: eq)...])\"")
        }
        let values = raw.map { text -> JSONValue in
            (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
        }
        return (path, values)
    }
}
