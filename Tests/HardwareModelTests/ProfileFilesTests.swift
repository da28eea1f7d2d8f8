import Diagnostics
import Foundation
import Testing
import HardwareModel

/// Decodes every file under `hardware-profiles/` with the strict decoder and cross-checks them:
/// file name = id, every referenced device and link exists, every device the project promises
/// exists, and the numbers obey the physical orderings a datasheet implies (narrower arithmetic
/// types are not slower than wider ones, memory tiers run fastest to slowest, a system's links
/// are its device's links).
@Suite struct ProfileFilesTests {
    /// `<repo>/hardware-profiles`, found from this file's path (`Tests/HardwareModelTests/…`).
    static let profilesRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // HardwareModelTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repo root
        .appendingPathComponent("hardware-profiles")

    /// Device ids other targets, scenarios and validation cases rely on.
    static let requiredDevices = [
        "nvidia-a100-sxm-40gb", "nvidia-a100-sxm-80gb", "nvidia-h100-sxm", "nvidia-h100-pcie", "nvidia-h200",
        "nvidia-b200", "amd-mi300x", "nvidia-l4", "nvidia-l40s", "nvidia-rtx-4090", "nvidia-rtx-3090",
        "apple-m2-ultra", "apple-m2-max", "intel-xeon-spr", "intel-core-i5-6500", "groq-lpu", "cerebras-wse-3",
        "skhynix-aim", "samsung-hbm-pim", "xilinx-u280", "xilinx-vhk158", "google-tpu-v5e", "host-cpu-zen5-2vcpu",
    ]
    static let requiredInterconnects = [
        "nvlink3", "nvlink4", "nvlink5", "pcie4-x16", "pcie5-x16", "infiniband-hdr", "infiniband-ndr", "roce-400g",
        "infinity-fabric-mi300x", "groq-c2c", "cerebras-swarmx", "tpu-v5e-ici",
    ]
    static let requiredSystems = ["dgx-a100", "dgx-h100", "hgx-h200", "dgx-b200", "mi300x-platform", "tpu-v5e-pod-slice"]
    static let deviceClasses: Set<String> = ["datacenter-gpu", "consumer-gpu", "cpu", "apple-soc", "sram-asic", "pim", "fpga", "tpu"]

    /// The shipped JSON files of one sub-folder, sorted, as (id, path). A profile written by
    /// `infersim calibrate` (git-ignored, measured figures of the machine at hand) is not checked here.
    static func files(in folder: String) throws -> [(id: String, path: String)] {
        let directory = profilesRoot.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".json") && $0 != "host-calibrated.json" }.sorted().map {
            (String($0.dropLast(".json".count)), directory.appendingPathComponent($0).path)
        }
    }

    static func devices() throws -> [String: DeviceProfile] {
        var out: [String: DeviceProfile] = [:]
        for file in try files(in: "devices") { out[file.id] = try StrictJSON.decode(DeviceProfile.self, contentsOf: file.path) }
        return out
    }

    static func interconnects() throws -> [String: InterconnectProfile] {
        var out: [String: InterconnectProfile] = [:]
        for file in try files(in: "interconnects") { out[file.id] = try StrictJSON.decode(InterconnectProfile.self, contentsOf: file.path) }
        return out
    }

    static func systems() throws -> [String: SystemProfile] {
        var out: [String: SystemProfile] = [:]
        for file in try files(in: "systems") { out[file.id] = try StrictJSON.decode(SystemProfile.self, contentsOf: file.path) }
        return out
    }

    @Test func everyDeviceDecodesAndIsNamedAfterItsFile() throws {
        let devices = try Self.devices()
        #expect(devices.count >= Self.requiredDevices.count)
        for (id, device) in devices {
            #expect(device.name == id, "\(id).json: name is \(device.name)")
            #expect(Self.deviceClasses.contains(device.deviceClass), "\(id).json: unknown deviceClass \(device.deviceClass)")
            #expect(!device.displayName.isEmpty)
        }
    }

    @Test func everyInterconnectDecodesAndIsNamedAfterItsFile() throws {
        for (id, link) in try Self.interconnects() {
            #expect(link.name == id, "\(id).json: name is \(link.name)")
            // Links between 1 GB/s and 10 TB/s per direction, latency between 10 ns and 100 us.
            #expect(link.bandwidthBytesPerSecondPerDirection >= 1e9 && link.bandwidthBytesPerSecondPerDirection <= 1e13, "\(id)")
            #expect(link.latencySeconds >= 1e-8 && link.latencySeconds <= 1e-4, "\(id)")
        }
    }

    @Test func everySystemDecodesAndIsNamedAfterItsFile() throws {
        for (id, system) in try Self.systems() {
            #expect(system.name == id, "\(id).json: name is \(system.name)")
            #expect(system.schemaVersion == 1)
        }
    }

    @Test func requiredProfilesExist() throws {
        let devices = try Self.devices(), links = try Self.interconnects(), systems = try Self.systems()
        for id in Self.requiredDevices { #expect(devices[id] != nil, "missing hardware-profiles/devices/\(id).json") }
        for id in Self.requiredInterconnects { #expect(links[id] != nil, "missing hardware-profiles/interconnects/\(id).json") }
        for id in Self.requiredSystems { #expect(systems[id] != nil, "missing hardware-profiles/systems/\(id).json") }
    }

    @Test func everyReferencedIdExists() throws {
        let devices = try Self.devices(), links = try Self.interconnects()
        for (id, device) in devices {
            for link in [device.interconnect.scaleUp, device.interconnect.scaleOut, device.interconnect.host].compactMap({ $0 }) {
                #expect(links[link] != nil, "devices/\(id).json refers to missing interconnect \(link)")
            }
        }
        for (id, system) in try Self.systems() {
            #expect(devices[system.device] != nil, "systems/\(id).json refers to missing device \(system.device)")
            for link in [system.scaleUp, system.scaleOut, system.host].compactMap({ $0 }) {
                #expect(links[link] != nil, "systems/\(id).json refers to missing interconnect \(link)")
            }
        }
    }

    /// A system is its device's node: the same links, and no more devices per node than the
    /// device's scale-up domain holds.
    @Test func systemsAgreeWithTheirDevices() throws {
        let devices = try Self.devices()
        for (id, system) in try Self.systems() {
            guard let device = devices[system.device] else { continue }
            #expect(system.devicesPerNode <= device.interconnect.devicesPerNode,
                    "systems/\(id).json: \(system.devicesPerNode) per node > device's \(device.interconnect.devicesPerNode)")
            if system.devicesPerNode > 1 { #expect(system.scaleUp != nil, "systems/\(id).json: several devices but no scale-up link") }
            if let link = system.scaleUp { #expect(link == device.interconnect.scaleUp, "systems/\(id).json scaleUp \(link)") }
            if let link = system.scaleOut { #expect(link == device.interconnect.scaleOut, "systems/\(id).json scaleOut \(link)") }
            if let link = system.host { #expect(link == device.interconnect.host, "systems/\(id).json host \(link)") }
        }
    }

    /// Narrower arithmetic is never slower than wider arithmetic on the same device, for every
    /// pair the device lists (dense peaks: a 2:4-sparse figure slipped into one entry breaks this
    /// only rarely, but a dense/sparse mix-up between fp16 and fp8 does).
    @Test func peakComputeIsOrderedByWidth() throws {
        let pairs: [(narrow: DType, wide: DType)] = [
            (.tf32, .fp32), (.bf16, .fp32), (.fp16, .fp32), (.fp8, .fp16), (.fp8, .bf16),
            (.int8, .fp16), (.int8, .bf16), (.int8, .fp32), (.fp4, .fp8), (.int4, .int8),
        ]
        for (id, device) in try Self.devices() {
            let peak = device.peakFLOPsPerSecond
            for (narrow, wide) in pairs {
                guard let n = peak[narrow.rawValue], let w = peak[wide.rawValue] else { continue }
                #expect(n >= w, "devices/\(id).json: \(narrow.rawValue) \(n) < \(wide.rawValue) \(w)")
            }
            // No device in this list runs above 100 PFLOP/s dense or below 100 GFLOP/s.
            for (dtype, value) in peak { #expect(value >= 1e11 && value <= 1e17, "devices/\(id).json \(dtype) = \(value)") }
        }
    }

    /// Tiers run from fastest to slowest, and the decode-bounding tier is a real memory.
    @Test func memoryTiersRunFastestFirst() throws {
        for (id, device) in try Self.devices() {
            let bandwidths = device.memoryTiers.map(\.bandwidthBytesPerSecond)
            #expect(bandwidths == bandwidths.sorted(by: >), "devices/\(id).json: tiers not fastest-first: \(bandwidths)")
            let main = device.mainMemory
            #expect(main.capacityBytes >= 1e8, "devices/\(id).json: weights tier below 100 MB")
            // Bytes per FLOP of the weights tier: between 1e-5 (wafer-scale/GPU) and 1 (PIM GEMV).
            let best = device.peakFLOPsPerSecond.values.max()!
            let ratio = main.bandwidthBytesPerSecond / best
            #expect(ratio > 1e-5 && ratio < 2, "devices/\(id).json: bytes per FLOP \(ratio)")
            // A PIM device computes inside its memory faster than its host reads it over the pins.
            if device.executionModel == .pimHybrid {
                #expect(device.pim != nil, "devices/\(id).json: pimHybrid device without a pim block")
                if let pim = device.pim {
                    #expect(pim.internalBandwidthBytesPerSecond > main.bandwidthBytesPerSecond, "devices/\(id).json: internal bandwidth not above the pins'")
                }
            }
        }
    }

    /// Every source names something a reader can follow: a URL, a paper or a file; estimates say
    /// so and how they were made.
    @Test func everySourceIsSpecific() throws {
        var sources: [(String, Source)] = []
        for (id, d) in try Self.devices() { sources += d.sources.map { ("devices/\(id).\($0.key)", $0.value) } }
        for (id, l) in try Self.interconnects() { sources += l.sources.map { ("interconnects/\(id).\($0.key)", $0.value) } }
        for (id, s) in try Self.systems() { sources += s.sources.map { ("systems/\(id).\($0.key)", $0.value) } }
        #expect(sources.count > 100)
        for (where_, source) in sources {
            #expect(source.reference.count >= 40, "\(where_): reference too short to follow")
            let r = source.reference.lowercased()
            // A URL, a paper, a file of this repository or of a named project; an estimate may
            // instead say that it is one and how it was made.
            let followable = r.contains("http") || r.contains("arxiv") || r.contains("isscc") || r.contains("data/")
                || r.contains("src/") || (source.kind == .estimated && r.contains("estimat"))
            #expect(followable, "\(where_): no URL, paper or file in \"\(source.reference)\"")
        }
    }

    /// Spot checks against the primary figures quoted in the project brief (dense peaks).
    @Test func headlineNumbersMatchTheDatasheets() throws {
        let d = try Self.devices()
        func peak(_ id: String, _ t: DType) -> Double { d[id]?.peakFLOPsPerSecond[t.rawValue] ?? .nan }
        func bw(_ id: String) -> Double { d[id]?.mainMemory.bandwidthBytesPerSecond ?? .nan }
        func cap(_ id: String) -> Double { d[id]?.mainMemory.capacityBytes ?? .nan }
        let checks: [(String, Double, Double)] = [
            ("h100-pcie bf16", peak("nvidia-h100-pcie", .bf16), 756e12), ("h100-pcie bw", bw("nvidia-h100-pcie"), 2.0e12),
            ("h200 bw", bw("nvidia-h200"), 4.8e12), ("h200 capacity", cap("nvidia-h200"), 141e9),
            ("b200 bf16", peak("nvidia-b200", .bf16), 2.25e15), ("b200 bw", bw("nvidia-b200"), 8e12),
            ("mi300x bf16", peak("amd-mi300x", .bf16), 1307.4e12), ("mi300x bw", bw("amd-mi300x"), 5.3e12),
            ("l4 fp16", peak("nvidia-l4", .fp16), 121e12), ("l40s fp16", peak("nvidia-l40s", .fp16), 362.05e12),
            ("a100-40 bw", bw("nvidia-a100-sxm-40gb"), 1555e9), ("a100-80 bw", bw("nvidia-a100-sxm-80gb"), 2039e9),
            ("a100 bf16", peak("nvidia-a100-sxm-80gb", .bf16), 312e12), ("tpu-v5e bf16", peak("google-tpu-v5e", .bf16), 197e12),
            ("groq sram bw", bw("groq-lpu"), 80e12), ("wse-3 capacity", cap("cerebras-wse-3"), 44e9),
            ("u280 bw", bw("xilinx-u280"), 460e9), ("vhk158 bw", bw("xilinx-vhk158"), 819e9),
            ("zen5 fp32", peak("host-cpu-zen5-2vcpu", .fp32), 450e9),
        ]
        for (what, found, expected) in checks {
            #expect(abs(found / expected - 1) < 0.005, "\(what): expected \(expected), found \(found)")
        }
    }

    /// The strict decoder really guards these files: a misspelt key in a copy of a real profile
    /// is reported with its JSON path.
    @Test func aMisspeltKeyInARealProfileIsRejected() throws {
        let path = Self.profilesRoot.appendingPathComponent("devices/nvidia-l4.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let broken = text.replacingOccurrences(of: "\"bandwidthBytesPerSecond\"", with: "\"bandwithBytesPerSecond\"")
        #expect(broken != text)
        do {
            _ = try StrictJSON.decode(DeviceProfile.self, from: Data(broken.utf8), file: "nvidia-l4.json")
            Issue.record("expected an InputError for the misspelt key")
        } catch let error as InputError {
            #expect(error.file == "nvidia-l4.json")
            #expect(error.location.contains("memoryTiers[0]"), "location was \(error.location)")
        }
    }
}
