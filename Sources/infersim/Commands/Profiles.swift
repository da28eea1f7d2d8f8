import ArgumentParser
import CostModel
import Foundation
import HardwareModel
import Scenarios

struct Profiles: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and show hardware and model profiles.",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every device, system, interconnect and model id.")
        @Option(help: "Directory holding hardware-profiles/ and scenarios/.")
        var profiles: String?

        func run() throws {
            let c = try ProfileCatalog.locate(explicit: profiles)
            var t = TextTable(["id", "kind", "name", "memory", "bandwidth", "peak bf16/fp16"], leftAligned: [0, 1, 2])
            for id in c.deviceIDs {
                let d = try c.device(id)
                let m = d.mainMemory
                let peak = d.peakFLOPsPerSecond["bf16"] ?? d.peakFLOPsPerSecond["fp16"] ?? d.peakCompute(for: .fp16).0.value
                t.add([id, "device (\(d.deviceClass))", d.displayName, Format.gb(m.capacityBytes),
                       Format.fixed(m.bandwidthBytesPerSecond / 1e12, 2) + " TB/s", Format.si(peak) + "FLOP/s"])
            }
            for id in c.systemIDs { let s = try c.system(id); t.add([id, "system", s.displayName, "", "", ""]) }
            for id in c.interconnectIDs {
                let l = try c.interconnect(id)
                t.add([id, "interconnect", l.displayName, "", Format.fixed(l.bandwidthBytesPerSecondPerDirection / 1e9, 1) + " GB/s/dir", ""])
            }
            for id in c.modelIDs {
                let m = try c.model(id)
                t.add([id, "model (\(m.attention.rawValue)\(m.moe != nil ? ", moe" : ""))", m.displayName,
                       Format.fixed(m.parameterCount / 1e9, 2) + " B params", "", ""])
            }
            print(t.rendered())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one profile's JSON (any kind), as stored, after validating it.")
        @Argument(help: "A device, system, interconnect or model id.")
        var id: String
        @Option(help: "Directory holding hardware-profiles/ and scenarios/.")
        var profiles: String?

        func run() throws {
            let c = try ProfileCatalog.locate(explicit: profiles)
            let path: String
            if c.deviceIDs.contains(id) { _ = try c.device(id); path = c.devicesDirectory }
            else if c.systemIDs.contains(id) { _ = try c.system(id); path = c.systemsDirectory }
            else if c.interconnectIDs.contains(id) { _ = try c.interconnect(id); path = c.interconnectsDirectory }
            else if c.modelIDs.contains(id) {
                let m = try c.model(id)
                path = c.modelsDirectory
                print("// \(m.displayName): \(Format.fixed(m.parameterCount / 1e9, 3)) B parameters (\(Format.fixed(m.activeParameterCount / 1e9, 3)) B active), KV \(Format.grouped(Int(m.kvBytesPerToken(.fp16).value))) B/token at fp16")
            } else {
                throw InputError(file: "profiles show", "unknown id \"\(id)\"; known: \((c.deviceIDs + c.systemIDs + c.interconnectIDs + c.modelIDs).joined(separator: ", "))")
            }
            print(String(decoding: FileManager.default.contents(atPath: path + "/" + id + ".json") ?? Data(), as: UTF8.self), terminator: "")
        }
    }
}
