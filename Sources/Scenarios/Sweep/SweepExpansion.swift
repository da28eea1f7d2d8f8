import Diagnostics
import Foundation
import HardwareModel

/// One point of a sweep grid: the axis values that produced it and the resulting scenario.
public struct SweepPoint: Sendable {
    /// `path=value` per axis, axes in sorted order.
    public var label: String
    /// The value of each axis at this point, in the order of `SweepExpansion.axes`.
    public var values: [JSONValue] = []
    public var scenario: Scenario
}

/// Expands a scenario with `"sweep": {"scheduler.kind": [...], "replicas": [...]}` into the
/// full grid (cartesian product; axes in sorted path order, first axis slowest). Each point is
/// the scenario JSON with the axis values written at their paths and decoded strictly again,
/// so a bad value is reported like any other scenario error, with the point's label.
public enum SweepExpansion {
    /// The axes a sweep of `scenario` with `extraAxes` runs over, in grid order (sorted paths).
    public static func axes(of scenario: Scenario, extraAxes: [String: [JSONValue]] = [:]) -> [String] {
        (scenario.sweep ?? [:]).merging(extraAxes) { _, extra in extra }.keys.sorted()
    }

    /// - Parameter extraAxes: axes given on the command line; they replace a file axis of the same path.
    /// - Throws: `InputError` for a path that does not exist or a value the schema rejects.
    public static func expand(file: String, extraAxes: [String: [JSONValue]] = [:]) throws -> [SweepPoint] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError(file: file, "file not found or not readable")
        }
        let scenario = try StrictJSON.decode(Scenario.self, from: data, file: file)
        let sweep = (scenario.sweep ?? [:]).merging(extraAxes) { _, extra in extra }
        guard !sweep.isEmpty else { return [SweepPoint(label: "", scenario: scenario)] }
        guard var base = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InputError(file: file, "expected a JSON object")
        }
        base.removeValue(forKey: "sweep")
        let axes = sweep.keys.sorted()
        for axis in axes where sweep[axis]!.isEmpty {
            throw InputError(file: file, jsonPath: "$.sweep.\(axis)", "expected at least one value, found an empty list")
        }
        var points: [SweepPoint] = []
        var index = Array(repeating: 0, count: axes.count)
        while true {
            var object = base
            var labels: [String] = []
            for (a, axis) in axes.enumerated() {
                let value = sweep[axis]![index[a]]
                try set(&object, path: axis.split(separator: ".", omittingEmptySubsequences: false).map(String.init), value: value.foundationValue, file: file)
                labels.append("\(axis)=\(value)")
            }
            let label = labels.joined(separator: " ")
            let pointData = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            let pointScenario = try StrictJSON.decode(Scenario.self, from: pointData, file: "\(file) [\(label)]")
            points.append(SweepPoint(label: label, values: axes.indices.map { sweep[axes[$0]]![index[$0]] }, scenario: pointScenario))
            // Odometer increment, last axis fastest.
            var a = axes.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < sweep[axes[a]]!.count { break }
                index[a] = 0
                a -= 1
            }
            if a < 0 { break }
        }
        return points
    }

    /// Writes `value` at `path`, creating intermediate objects the file leaves out (they decode
    /// with their defaults, like an absent object), so `precision.kv` can be swept in a file
    /// without `precision`. A misspelt key still fails: the point is decoded strictly.
    static func set(_ object: inout [String: Any], path: [String], value: Any, file: String, fullPath: [String]? = nil) throws {
        let full = fullPath ?? path
        guard let head = path.first, !head.isEmpty, !full.contains(where: \.isEmpty) else {
            throw InputError(file: file, jsonPath: "$.sweep", "expected a dot-separated key path, found \"\(full.joined(separator: "."))\"")
        }
        if path.count == 1 {
            object[head] = value
            return
        }
        var child: [String: Any]
        switch object[head] {
        case nil, is NSNull:
            child = [:]
        case let existing as [String: Any]:
            child = existing
        case let other?:
            let parent = full.prefix(full.count - path.count + 1).joined(separator: ".")
            throw InputError(file: file, jsonPath: "$.sweep.\(full.joined(separator: "."))",
                             "expected an object at $.\(parent) to set \(path.dropFirst().joined(separator: ".")) in, found \(StrictJSON.describeFound(other))")
        }
        try set(&child, path: Array(path.dropFirst()), value: value, file: file, fullPath: full)
        object[head] = child
    }
}

/// Runs a sweep's points in parallel (one independent value-type simulation per point) and
/// returns their reports in grid order.
public struct SweepRunner: Sendable {
    public var runner: SimulationRunner
    /// Points run at once: nil for one per core.
    public var jobs: Int?
    /// Called (from worker threads, serialised) after each point with (points done, points to run).
    public var progress: (@Sendable (Int, Int) -> Void)?
    public init(runner: SimulationRunner = SimulationRunner(), jobs: Int? = nil) {
        self.runner = runner
        self.jobs = jobs
    }

    /// - Parameter skipBadRows: skip malformed trace rows at every point (as `simulate --skip-bad-rows`).
    public func run(file: String, extraAxes: [String: [JSONValue]] = [:], skipBadRows: Bool = false) throws -> [(label: String, report: SimulationReport)] {
        try runPoints(file: file, extraAxes: extraAxes, skipBadRows: skipBadRows).map { ($0.point.label, $0.report) }
    }

    /// Every point with its report, in grid order. An error from a point's run that names the
    /// scenario file is reported with the point's label (`s.json [tp=16]: $.parallelism: …`).
    public func runPoints(file: String, extraAxes: [String: [JSONValue]] = [:], skipBadRows: Bool = false) throws -> [(point: SweepPoint, report: SimulationReport)] {
        try runIndexed(file: file, extraAxes: extraAxes, skipBadRows: skipBadRows).results.map { ($0.point, $0.report) }
    }

    /// The points of `shard` (all points without one) not in `skipping`, with their grid
    /// indices, and the grid's size.
    public func runIndexed(file: String, extraAxes: [String: [JSONValue]] = [:], skipBadRows: Bool = false,
                           shard: SweepShard? = nil, skipping: Set<Int> = []) throws
        -> (total: Int, results: [(index: Int, point: SweepPoint, report: SimulationReport)]) {
        var all = try SweepExpansion.expand(file: file, extraAxes: extraAxes)
        if skipBadRows {
            for i in all.indices { all[i].scenario.workload.skipBadRows() }
        }
        let chosen = all.indices.filter { (shard?.contains($0) ?? true) && !skipping.contains($0) }
        let results = ResultBox<SimulationReport>(count: chosen.count)
        let runner = self.runner
        let points = chosen.map { all[$0] }
        // Workers take the next point from a shared counter, so `jobs` bounds the concurrency.
        let workers = max(1, min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, points.count))
        let counter = PointCounter()
        let progress = self.progress
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = counter.next(below: points.count) {
                let result = Result { try runner.run(points[i].scenario, file: file) }
                results.set(i, result)
                if let progress { counter.finished { progress($0, points.count) } }
            }
        }
        let out = try points.indices.map { i in
            do {
                return (chosen[i], points[i], try results.get(i).get())
            } catch let e as InputError where !points[i].label.isEmpty {
                throw e.renamingFile { $0 == file ? "\(file) [\(points[i].label)]" : $0 }
            }
        }
        return (all.count, out)
    }
}

/// Results written by concurrent workers, one slot each, under a lock; read after they finish.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private var slots: [Result<T, any Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<T, any Error>) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result<T, any Error> { lock.lock(); defer { lock.unlock() }; return slots[i]! }
}

/// The next point index for a worker, and a serialised count of finished points.
final class PointCounter: @unchecked Sendable {
    private var taken = 0
    private var done = 0
    private let lock = NSLock()
    func next(below count: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard taken < count else { return nil }
        taken += 1
        return taken - 1
    }
    func finished(_ report: (Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        report(done)
    }
}
