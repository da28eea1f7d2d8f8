import ArgumentParser
import Foundation
import HardwareModel
import Scenarios
import Serving

/// `infersim simulate SCENARIO.json`: runs a serving simulation (or each point of a sweep) and prints its metrics.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate serving a workload on a cluster of replicas and report latency, throughput, KV-cache use and energy.")

    @Argument(help: "Scenario JSON file (see scenarios/README.md); default: the built-in quickstart scenario.",
              completion: .file(extensions: ["json"]))
    var scenario: String?
    @Flag(help: "Print the report as JSON (schema: schemas/simulate.schema.json).") var json = false
    @Option(help: "Write one CSV row per completed request to this file.") var requestsCsv: String?
    @Option(help: "Write the binned step timeline as CSV to this file.") var timelineCsv: String?
    @Option(help: "Draw the run as an SVG file: TTFT and TPOT CDFs with the SLO lines, batch size and KV-cache utilisation over time.")
    var plot: String?
    @Flag(help: "Skip malformed trace rows (counted, with the first reasons, in the report) instead of failing; applies to every point of a sweep.")
    var skipBadRows = false
    @OptionGroup var catalogOptions: CatalogOptions
    @Flag(help: "Run every decode step as its own events (no decode fast-forward); the output is identical, only slower.")
    var noFastForward = false
    @Flag(help: "Keep every request's latencies and report exact percentiles (memory grows with the run); by default a streaming sketch keeps memory constant, its percentiles within 0.2% of the exact nearest-rank ones.")
    var exactPercentiles = false

    var runner: SimulationRunner {
        var r = SimulationRunner(resolve: ReplicaResolvers.catalog(root: catalogOptions.profiles))
        r.percentiles = exactPercentiles ? .exact : .sketch
        r.fastForwardDecodes = !noFastForward
        r.tracksTailGaps = true
        return r
    }

    func run() throws {
        guard let scenario else {
            let catalog = try catalogOptions.locate()
            var (loaded, name) = try catalog.decode(Scenario.self, ProfileCatalog.quickstartFile)
            if skipBadRows { loaded.workload.skipBadRows() }
            let report = try runner.run(loaded, file: name, outputs: RunOutputs(requestsCSV: requestsCsv, timelineCSV: timelineCsv, plot: plot))
            print(json ? report.renderedJSON() : report.renderedText(), terminator: json ? "\n" : "")
            return
        }
        var loaded = try Scenario.load(path: scenario)
        if skipBadRows { loaded.workload.skipBadRows() }
        let runner = self.runner
        if loaded.sweep != nil {
            guard requestsCsv == nil && timelineCsv == nil && plot == nil else {
                throw ValidationError("--requests-csv, --timeline-csv and --plot take a single scenario, not a sweep (use `infersim sweep --plot` or `--heatmap`)")
            }
            let results = try SweepRunner(runner: runner).run(file: scenario, skipBadRows: skipBadRows)
            if json {
                print("[" + results.map { "{\"point\": \"\($0.label)\", \"report\": \($0.report.renderedJSON())}" }.joined(separator: ",\n") + "]")
            } else {
                for (label, report) in results { print("== \(label)\n" + report.renderedText()) }
            }
            return
        }
        let report = try runner.run(loaded, file: scenario, outputs: RunOutputs(requestsCSV: requestsCsv, timelineCSV: timelineCsv, plot: plot))
        print(json ? report.renderedJSON() : report.renderedText(), terminator: json ? "\n" : "")
    }
}
