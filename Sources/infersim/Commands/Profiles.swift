import Diagnostics
import ArgumentParser
import CostModel
import Foundation
import HardwareModel
import Scenarios

struct Profiles: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and show hardware and model profiles (built in, or from a profiles directory).",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every device, system, interconnect, model and comparison id.")
        @OptionGroup var catalog: CatalogOptions
        @Flag(help: "Print a JSON array (schema: schemas/profiles-list.schema.json).") var json = false

        func run() throws {
            let c = try catalog.locate()
            var t = TextTable(["id", "kind", "name", "memory", "bandwidth", "peak bf16/fp16"], leftAligned: [0, 1, 2])
            var rows: [String] = []
            func row(_ id: String, _ kind: String, _ name: String, source: String, extra: (inout JSONWriter) -> Void = { _ in }) {
                var w = JSONWriter()
                w.add("id", id)
                w.add("kind", kind)
                w.add("name", name)
                w.add("source", source)
                extra(&w)
                rows.append(w.rendered(indent: "  "))
            }
            func source(_ dir: String, _ id: String) -> String { c.file(dir + "/" + id + ".json")?.name ?? "" }
            for id in c.deviceIDs {
                let d = try c.device(id)
                let m = d.mainMemory
                let peak = d.peakFLOPsPerSecond["bf16"] ?? d.peakFLOPsPerSecond["fp16"] ?? d.peakCompute(for: .fp16).0.value
                t.add([id, "device (\(d.deviceClass))", d.displayName, Format.gb(m.capacityBytes),
                       Format.fixed(m.bandwidthBytesPerSecond / 1e12, 2) + " TB/s", Format.si(peak) + "FLOP/s"])
                row(id, "device", d.displayName, source: source(ProfileCatalog.devicesPath, id)) {
                    $0.add("device_class", d.deviceClass)
                    $0.add("memory_bytes", m.capacityBytes)
                    $0.add("bandwidth_bytes_per_s", m.bandwidthBytesPerSecond)
                    $0.add("peak_flops_16bit", peak)
                }
            }
            for id in c.systemIDs {
                let s = try c.system(id)
                t.add([id, "system", s.displayName, "", "", ""])
                row(id, "system", s.displayName, source: source(ProfileCatalog.systemsPath, id)) {
                    $0.add("device", s.device)
                    $0.add("devices", s.deviceCount)
                }
            }
            for id in c.interconnectIDs {
                let l = try c.interconnect(id)
                t.add([id, "interconnect", l.displayName, "", Format.fixed(l.bandwidthBytesPerSecondPerDirection / 1e9, 1) + " GB/s/dir", ""])
                row(id, "interconnect", l.displayName, source: source(ProfileCatalog.interconnectsPath, id)) {
                    $0.add("bandwidth_bytes_per_s_per_direction", l.bandwidthBytesPerSecondPerDirection)
                }
            }
            for id in c.modelIDs {
                let m = try c.model(id)
                t.add([id, "model (\(m.attention.rawValue)\(m.moe != nil ? ", moe" : ""))", m.displayName,
                       Format.fixed(m.parameterCount / 1e9, 2) + " B params", "", ""])
                row(id, "model", m.displayName, source: source(ProfileCatalog.modelsPath, id)) {
                    $0.add("parameters", m.parameterCount)
                    $0.add("attention", m.attention.rawValue)
                    $0.add("moe", m.moe != nil)
                }
            }
            for id in c.engineIDs {
                let e = try c.engine(id)
                let fitted = (e.kernels ?? [:]).keys.sorted()
                t.add([id, "engine", e.displayName, "", "", fitted.isEmpty ? "" : "fitted on " + fitted.joined(separator: ", ")])
                row(id, "engine", e.displayName, source: source(ProfileCatalog.enginesPath, id)) {
                    $0.addArray("fitted_devices", fitted.map(JSONText.quoted))
                }
            }
            for id in c.ids(in: ProfileCatalog.comparisonsPath) {
                let name: String, file: String
                if let data = c.file(ProfileCatalog.comparisonsPath + "/" + id + ".json")?.data, ServingComparison.isServing(data) {
                    (file, name) = try { let (f, cmp) = try ServingComparison.load(id: id, catalog: c); return (f, cmp.name) }()
                } else {
                    (file, name) = try { let (f, cmp) = try Comparison.load(id: id, catalog: c); return (f, cmp.name) }()
                }
                t.add([id, "comparison", name, "", "", ""])
                row(id, "comparison", name, source: file)
            }
            print(json ? JSONWriter.array(rows) : t.rendered())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one profile's JSON (any kind) as stored, after validating it; with --json, wrapped with its kind, source and derived figures.")
        @Argument(help: "A device, system, interconnect or model id.", completion: .list(Completions.allIDs))
        var id: String
        @OptionGroup var catalog: CatalogOptions
        @Flag(help: "Print the profile with its kind, source and derived figures (schema: schemas/profiles-show.schema.json).")
        var json = false

        func run() throws {
            let c = try catalog.locate()
            let directory: String, kind: String
            var derived = JSONWriter()
            if c.deviceIDs.contains(id) {
                let d = try c.device(id)
                directory = ProfileCatalog.devicesPath; kind = "device"
                derived.add("execution_model", (try? c.deviceClass(d.deviceClass)).map { d.executionModel(in: $0).rawValue })
                derived.add("memory_bytes", d.mainMemory.capacityBytes)
            } else if c.systemIDs.contains(id) {
                let s = try c.system(id)
                directory = ProfileCatalog.systemsPath; kind = "system"
                derived.add("devices", s.deviceCount)
            } else if c.interconnectIDs.contains(id) {
                _ = try c.interconnect(id)
                directory = ProfileCatalog.interconnectsPath; kind = "interconnect"
            } else if c.engineIDs.contains(id) {
                let e = try c.engine(id)
                directory = ProfileCatalog.enginesPath; kind = "engine"
                derived.addArray("fitted_devices", (e.kernels ?? [:]).keys.sorted().map(JSONText.quoted))
            } else if c.modelIDs.contains(id) {
                let m = try c.model(id)
                directory = ProfileCatalog.modelsPath; kind = "model"
                derived.add("parameters", m.parameterCount)
                derived.add("active_parameters", m.activeParameterCount)
                derived.add("kv_bytes_per_token_fp16", m.kvBytesPerToken(.fp16).value)
            } else {
                throw InputError(file: "profiles show", NearestName.unknown(id, known: c.allIDs))
            }
            guard let (data, source) = c.file(directory + "/" + id + ".json") else { throw InputError(file: id, "not found") }
            let stored = String(decoding: data, as: UTF8.self)
            guard json else {
                print(stored, terminator: stored.hasSuffix("\n") ? "" : "\n")
                return
            }
            var w = JSONWriter()
            w.add("id", id)
            w.add("kind", kind)
            w.add("source", source)
            w.addRaw("derived", derived.rendered(indent: "  "))
            w.addRaw("profile", stored.trimmingCharacters(in: .whitespacesAndNewlines))
            print(w.rendered())
        }
    }
}

/// `--profiles DIR`, shared by every command that reads profiles.
struct CatalogOptions: ParsableArguments {
    @Option(help: "Directory of your own profiles, laid out like the built-in ones (hardware-profiles/, scenarios/models/); they override and extend the built-in profiles (default: $INFERSIM_HOME, a checkout found from the working directory, or ~/.infersim).",
            completion: .directory)
    var profiles: String?

    func locate() throws -> ProfileCatalog { try ProfileCatalog.locate(explicit: profiles) }
}
