import ArgumentParser
import Diagnostics
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
    @Option(help: "Also draw latency (TTFT and TPOT p99) against throughput over the points as an SVG file, with the scenario's SLO lines.")
    var plot: String?
    @Option(help: "Also draw a two-axis sweep as an SVG heatmap of --heatmap-metric.") var heatmap: String?
    @Option(help: "The heatmap's metric: throughput, goodput, ttft-p99, tpot-p99, e2e-p99, slo-attainment, joules-per-token.")
    var heatmapMetric: String = "goodput"
    @Option(help: "Points to run at once (default: one per core).") var jobs: Int?
    @Option(help: "Run only this worker's share of the points, I/N (I from 0): points whose grid index k has k % N == I. Needs --csv, which then holds a shard file for `infersim merge`.")
    var shard: String?
    @Flag(help: "With --shard: keep the points already in the --csv shard file and run only the others.") var resume = false

    func run() throws {
        try OutputPaths.check([("--csv", csv), ("--plot", plot), ("--heatmap", heatmap)])
        guard let metric = SweepMetric(rawValue: heatmapMetric) else {
            throw InputError(option: "--heatmap-metric", "unknown metric \"\(heatmapMetric)\"; known: " + SweepMetric.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var extra: [String: [JSONValue]] = [:]
        for spec in axes {
            let (path, values) = try Self.parseAxis(spec)
            extra[path] = values
        }
        if let jobs { guard (1...1024).contains(jobs) else { throw ValidationError("--jobs must be in 1...1024, got \(jobs)") } }
        var runner = SweepRunner(runner: runner, jobs: jobs)
        runner.progress = Self.progressReporter()
        let loaded = try Scenario.load(path: scenario)
        let axisPaths = SweepExpansion.axes(of: loaded, extraAxes: extra)
        if heatmap != nil {
            guard axisPaths.count == 2 else { throw InputError(option: "--heatmap", "a heatmap needs exactly two sweep axes, found \(axisPaths.count)") }
            guard shard == nil else { throw InputError(option: "--heatmap", "draw the heatmap from the merged run, not from a shard") }
        }
        if let shard {
            try runShard(try SweepShard.parse(shard), runner: runner, extra: extra, axes: axisPaths)
            return
        }
        guard !resume else { throw ValidationError("--resume needs --shard (use --shard 0/1 for a single resumable run)") }
        let results = try runner.runPoints(file: scenario, extraAxes: extra, skipBadRows: skipBadRows)
        let table = SweepTable(axes: axisPaths, results: results)
        if let csv {
            let writer = try AtomicFileWriter(path: csv)
            try writer.write(table.renderedCSV())
            try writer.commit()
        }
        if let heatmap, let figure = Plots.heatmap(table, metric: metric, title: "\(loaded.name ?? loaded.model): \(metric.label)") {
            let writer = try AtomicFileWriter(path: heatmap)
            try writer.write(figure.rendered())
            try writer.commit()
        }
        if let plot {
            let chart = Plots.latencyThroughput(table, title: "\(loaded.name ?? loaded.model): latency against throughput", slo: loaded.slo)
            let writer = try AtomicFileWriter(path: plot)
            try writer.write(chart.rendered())
            try writer.commit()
        }
        print(json ? table.renderedJSON() : table.renderedText(), terminator: "")
    }

    /// On a terminal, a progress line on stderr (points done, ETA) rewritten in place; otherwise nothing.
    static func progressReporter() -> (@Sendable (Int, Int) -> Void)? {
        guard isatty(2) != 0 else { return nil }
        let start = DispatchTime.now().uptimeNanoseconds
        return { done, total in
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            let eta = elapsed / Double(done) * Double(total - done)
            let bar = String(repeating: "#", count: 30 * done / total) + String(repeating: ".", count: 30 - 30 * done / total)
            let line = done == total ? "\r\u{1B}[K" : "\r\u{1B}[K[\(bar)] \(done)/\(total) points, ETA \(Int(eta.rounded())) s"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Runs one shard and writes its shard file (keeping, with --resume, the points already there).
    func runShard(_ shard: SweepShard, runner: SweepRunner, extra: [String: [JSONValue]], axes: [String]) throws {
        guard let csv else { throw ValidationError("--shard needs --csv FILE for the shard file") }
        var existing: SweepShardFile?
        if resume, FileManager.default.fileExists(atPath: csv) {
            existing = try SweepShardFile.read(csv)
            guard existing!.shard == shard else {
                throw InputError(file: csv, line: 1, "is shard \(existing!.shard), not \(shard); resume a shard from its own file")
            }
        }
        let kept = existing?.records ?? [:]
        let (total, results) = try runner.runIndexed(file: scenario, extraAxes: extra, skipBadRows: skipBadRows, shard: shard,
                                                     skipping: Set(kept.keys))
        let table = SweepTable(axes: axes, results: results.map { ($0.point, $0.report) })
        if let existing, !kept.isEmpty, existing.header != table.csvHeader || existing.points != total {
            throw InputError(file: csv, line: 2, "was written for another sweep (different axes, metrics or number of points); remove it or drop --resume")
        }
        var records = kept
        for (result, row) in zip(results, table.rows) { records[result.index] = table.csvRecord(row) }
        let file = SweepShardFile(shard: shard, points: total, header: table.csvHeader, records: records)
        let writer = try AtomicFileWriter(path: csv)
        try writer.write(file.rendered())
        try writer.commit()
        print(json ? table.renderedJSON() : table.renderedText(), terminator: "")
        if !json {
            print("shard \(shard): \(records.count) of the \(total) points are in \(csv) (\(results.count) run now, \(kept.count) kept)")
        }
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
