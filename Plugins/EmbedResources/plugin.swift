import Foundation
import PackagePlugin

/// Embeds the profiles, models, device classes, comparison scenarios, the published validation
/// set and the quickstart scenario into the `BundledResources` target as Swift source, so that a
/// copied `infersim` binary needs no checkout beside it. Runs on every build; the file list is
/// read afresh each time, so a new profile is picked up without touching this plugin.
@main
struct EmbedResources: BuildToolPlugin {
    /// Directories (every `.json` file inside, recursively) and single files, relative to the package root.
    static let directories = ["hardware-profiles", "scenarios/models", "scenarios/comparisons", "data/validation", "data/prices"]
    static let files = ["scenarios/quickstart.json", "scenarios/traces/executor-trace.csv"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        var relative: [String] = Self.files
        let fm = FileManager.default
        for dir in Self.directories {
            guard let walker = fm.enumerator(atPath: root.appendingPathComponent(dir).path) else { continue }
            while let entry = walker.nextObject() as? String {
                if entry.hasSuffix(".json") { relative.append(dir + "/" + entry) }
            }
        }
        relative.sort()
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedFiles.swift")
        return [.buildCommand(
            displayName: "Embedding \(relative.count) profile and data files",
            executable: try context.tool(named: "embed-resources").url,
            arguments: [output.path, root.path] + relative,
            inputFiles: relative.map { root.appendingPathComponent($0) },
            outputFiles: [output])]
    }
}
