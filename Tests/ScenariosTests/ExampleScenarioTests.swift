import Foundation
import HardwareModel
import Scenarios
import Serving
import Testing

/// The scenario files shipped in `scenarios/examples/` (see `scenarios/README.md`) must keep
/// decoding under the strict schema, name hardware and models that exist, point at trace files
/// that exist, and fit on their hardware. Nothing is simulated here: expanding, decoding and
/// sizing every point takes milliseconds.
enum Examples {
    /// The checkout: three levels up from `Tests/ScenariosTests/ExampleScenarioTests.swift`.
    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var directory: String { repoRoot + "/scenarios/examples" }

    /// Every `*.json` in `scenarios/examples`, sorted by name.
    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    static func path(_ name: String) -> String { directory + "/" + name }

    /// A workload path as `WorkloadSpec.makeSource` resolves it: relative to the scenario's directory.
    static func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : directory + "/" + path }
}

@Test func theExamplesDirectoryHoldsScenarios() {
    #expect(Examples.files.count >= 6, "found \(Examples.files) in \(Examples.directory)")
}

@Test(arguments: Examples.files)
func exampleDecodesStrictly(_ name: String) throws {
    let file = Examples.path(name)
    let scenario = try Scenario.load(path: file)
    #expect(scenario.name == (name as NSString).deletingPathExtension, "the scenario's name should match its file name")

    // A sweep expands to the full grid; a plain scenario to one point with an empty label.
    let points = try SweepExpansion.expand(file: file)
    let expected = (scenario.sweep ?? [:]).values.reduce(1) { $0 * $1.count }
    #expect(points.count == expected)
    if scenario.sweep == nil {
        #expect(points.map(\.label) == [""])
    } else {
        #expect(Set(points.map(\.label)).count == points.count, "every sweep point should have its own label")
    }
}

@Test(arguments: Examples.files)
func exampleNamesExistingProfilesAndFiles(_ name: String) throws {
    let file = Examples.path(name)
    let catalog = ProfileCatalog(root: Examples.repoRoot)
    let hardware = Set(catalog.deviceIDs + catalog.systemIDs)
    let models = Set(catalog.modelIDs)
    for point in try SweepExpansion.expand(file: file) {
        let s = point.scenario
        #expect(hardware.contains(s.hardware), "\(name) [\(point.label)]: unknown hardware \(s.hardware)")
        #expect(models.contains(s.model), "\(name) [\(point.label)]: unknown model \(s.model)")
        var paths: [String] = []
        switch s.workload {
        case .trace(let t):
            paths.append(t.path)
        case .generator(let g):
            for length in [g.promptTokens, g.outputTokens] {
                if case .empirical(let path, _, _) = length { paths.append(path) }
            }
        }
        for p in paths {
            #expect(FileManager.default.fileExists(atPath: Examples.resolve(p)), "\(name): \(p) not found next to the scenario")
        }
    }
}

/// Every point resolves to a deployment that fits (weights, workspace and at least one KV block)
/// and to a valid cluster configuration: what `infersim simulate` checks before the first event.
@Test(arguments: Examples.files)
func exampleFitsOnItsHardware(_ name: String) throws {
    let file = Examples.path(name)
    let resolve = ReplicaResolvers.catalog(root: Examples.repoRoot)
    for point in try SweepExpansion.expand(file: file) {
        let replica = try resolve(point.scenario, file)
        let configuration = try point.scenario.clusterConfiguration(replica: replica, file: file)
        #expect(configuration.kvCache.totalUnits >= 1)
        #expect(configuration.replicas == point.scenario.replicas)
    }
}
