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
            throw InputError(file: file, location: "$.sweep.\(axis)", "expected at least one value, found an empty list")
        }
        var points: [SweepPoint] = []
        var index = Array(repeating: 0, count: axes.count)
        while true {
            var object = base
            var labels: [String] = []
            for (a, axis) in axes.enumerated() {
                let value = sweep[axis]![index[a]]
                try set(&object, path: axis.split(separator: ".").map(String.init), value: value.foundationValue, file: file)
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

    static func set(_ object: inout [String: Any], path: [String], value: Any, file: String) throws {
        guard let head = path.first, !head.isEmpty else {
            throw InputError(file: file, location: "$.sweep", "expected a dot-separated key path, found an empty one")
        }
        if path.count == 1 {
            object[head] = value
            return
        }
        guard var child = object[head] as? [String: Any] else {
            throw InputError(file: file, location: "$.sweep.\(path.joined(separator: "."))",
                             "no object at \"\(head)\" to set \(path.dropFirst().joined(separator: ".")) in")
        }
        try set(&child, path: Array(path.dropFirst()), value: value, file: file)
        object[head] = child
    }
}

/// Runs a sweep's points in parallel (one independent value-type simulation per point) and
/// returns their reports in grid order.
public struct SweepRunner: Sendable {
    public var runner: SimulationRunner
    public init(runner: SimulationRunner = SimulationRunner()) { self.runner = runner }

    public func run(file: String, extraAxes: [String: [JSONValue]] = [:]) throws -> [(label: String, report: SimulationReport)] {
        try runPoints(file: file, extraAxes: extraAxes).map { ($0.point.label, $0.report) }
    }

    /// Every point with its report, in grid order.
    public func runPoints(file: String, extraAxes: [String: [JSONValue]] = [:]) throws -> [(point: SweepPoint, report: SimulationReport)] {
        let points = try SweepExpansion.expand(file: file, extraAxes: extraAxes)
        let results = ResultBox(count: points.count)
        let runner = self.runner
        DispatchQueue.concurrentPerform(iterations: points.count) { i in
            let result = Result { try runner.run(points[i].scenario, file: file) }
            results.set(i, result)
        }
        return try points.indices.map { i in (points[i], try results.get(i).get()) }
    }
}

/// Results written by concurrent workers, one slot each, under a lock.
final class ResultBox: @unchecked Sendable {
    private var slots: [Result<SimulationReport, any Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<SimulationReport, any Error>) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result<SimulationReport, any Error> { lock.lock(); defer { lock.unlock() }; return slots[i]! }
}
