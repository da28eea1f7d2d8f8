import CostModel
import Foundation
import HardwareModel

/// The profiles shipped with InferSim: `hardware-profiles/{devices,interconnects,systems}`,
/// `hardware-profiles/device-classes.json` and `scenarios/models`, found under one root.
///
/// Ids are file names without `.json`. Unknown ids are reported with the list of known ones.
public struct ProfileCatalog: Sendable {
    /// The directory holding `hardware-profiles/` and `scenarios/`.
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Finds the root: `explicit` if given, else `$INFERSIM_HOME`, else the first directory
    /// holding `hardware-profiles/` found walking up from the working directory and then from
    /// the executable's location (so `.build/release/infersim` finds the checkout it was built in).
    public static func locate(explicit: String? = nil) throws -> ProfileCatalog {
        let fm = FileManager.default
        func isRoot(_ dir: String) -> Bool {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: dir + "/hardware-profiles", isDirectory: &isDir) && isDir.boolValue
        }
        if let explicit {
            guard isRoot(explicit) else { throw InputError(file: explicit, "expected a directory containing hardware-profiles/") }
            return ProfileCatalog(root: explicit)
        }
        if let env = ProcessInfo.processInfo.environment["INFERSIM_HOME"], !env.isEmpty {
            guard isRoot(env) else { throw InputError(file: "INFERSIM_HOME=\(env)", "expected a directory containing hardware-profiles/") }
            return ProfileCatalog(root: env)
        }
        var starts = [fm.currentDirectoryPath]
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent().path
        starts.append(exe)
        for start in starts {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if isRoot(dir.path) { return ProfileCatalog(root: dir.path) }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw InputError(file: "hardware-profiles/", "not found above \(fm.currentDirectoryPath); run from the InferSim checkout or set INFERSIM_HOME")
    }

    public var devicesDirectory: String { root + "/hardware-profiles/devices" }
    public var interconnectsDirectory: String { root + "/hardware-profiles/interconnects" }
    public var systemsDirectory: String { root + "/hardware-profiles/systems" }
    public var modelsDirectory: String { root + "/scenarios/models" }
    public var deviceClassesPath: String { root + "/hardware-profiles/device-classes.json" }

    /// Ids (file names without `.json`) in a directory, sorted.
    public static func ids(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    public var deviceIDs: [String] { Self.ids(in: devicesDirectory) }
    public var interconnectIDs: [String] { Self.ids(in: interconnectsDirectory) }
    public var systemIDs: [String] { Self.ids(in: systemsDirectory) }
    public var modelIDs: [String] { Self.ids(in: modelsDirectory) }

    private func load<T: Codable>(_ type: T.Type, id: String, in directory: String, what: String, known: [String]) throws -> T {
        let path = directory + "/" + id + ".json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError(file: what, "unknown id \"\(id)\"; known: \(known.joined(separator: ", "))")
        }
        return try StrictJSON.decode(T.self, contentsOf: path)
    }

    private func checkName(_ name: String, id: String, directory: String) throws {
        guard name == id else {
            throw InputError(file: directory + "/" + id + ".json", location: "$.name", "expected \"\(id)\" (the file name), found \"\(name)\"")
        }
    }

    public func device(_ id: String) throws -> DeviceProfile {
        let d = try load(DeviceProfile.self, id: id, in: devicesDirectory, what: "hardware", known: deviceIDs + systemIDs)
        try checkName(d.name, id: id, directory: devicesDirectory)
        return d
    }

    public func interconnect(_ id: String) throws -> InterconnectProfile {
        let l = try load(InterconnectProfile.self, id: id, in: interconnectsDirectory, what: "interconnect", known: interconnectIDs)
        try checkName(l.name, id: id, directory: interconnectsDirectory)
        return l
    }

    public func system(_ id: String) throws -> SystemProfile {
        let s = try load(SystemProfile.self, id: id, in: systemsDirectory, what: "system", known: systemIDs)
        try checkName(s.name, id: id, directory: systemsDirectory)
        return s
    }

    public func model(_ id: String) throws -> ModelProfile {
        let m = try load(ModelProfile.self, id: id, in: modelsDirectory, what: "model", known: modelIDs)
        try checkName(m.name, id: id, directory: modelsDirectory)
        return m
    }

    public func deviceClass(_ name: String) throws -> DeviceClassProfile {
        let catalog = try StrictJSON.decode(DeviceClassCatalog.self, contentsOf: deviceClassesPath)
        guard let c = catalog.classes.first(where: { $0.name == name }) else {
            throw InputError(file: deviceClassesPath, "no device class \"\(name)\"; known: \(catalog.classes.map(\.name).joined(separator: ", "))")
        }
        return c
    }

    /// Resolves `hardware` (a device id or a system id) and `model` into a deployment.
    /// - Throws: `InputError` for unknown ids or bad files; `Deployment.Problem` as `InputError`
    ///   for parallelism the model or hardware cannot take, and for more devices (tp × pp) than a
    ///   system (`hardware` naming a system) has; both with `file` `parallelismLabel`.
    public func deployment(hardware: String, model modelID: String, tensorParallel: Int = 1, pipelineParallel: Int = 1,
                           precision: Precision = Precision(), memoryUtilization: Double = 0.9,
                           pimPlacement: PIMPlacement = .none, chips: Int? = nil, onChipKVTokens: Int? = nil) throws -> Deployment {
        let device: DeviceProfile
        var scaleUp: String?, scaleOut: String?, host: String?
        var systemLimit: (name: String, devices: Int)?
        if systemIDs.contains(hardware) {
            let s = try system(hardware)
            systemLimit = (s.name, s.deviceCount)
            if tensorParallel >= 1 && pipelineParallel >= 1 && tensorParallel * pipelineParallel > s.deviceCount {
                throw InputError(file: Self.parallelismLabel,
                                 "--tp \(tensorParallel) × --pp \(pipelineParallel) = \(tensorParallel * pipelineParallel) devices exceeds the \(s.deviceCount) devices of \(s.name) (\(s.devicesPerNode) per node × \(s.nodes) node\(s.nodes == 1 ? "" : "s")); name the device (\(s.device)) instead of the system to model a larger cluster")
            }
            device = try self.device(s.device)
            scaleUp = s.scaleUp
            scaleOut = s.scaleOut
            host = s.host
        } else {
            device = try self.device(hardware)
            scaleUp = device.interconnect.scaleUp
            scaleOut = device.interconnect.scaleOut
            host = device.interconnect.host
        }
        let model = try self.model(modelID)
        let cls = try deviceClass(device.deviceClass)
        do {
            let d = try Deployment(model: model, device: device, deviceClass: cls,
                                  tensorParallel: tensorParallel, pipelineParallel: pipelineParallel, precision: precision,
                                  scaleUpLink: try scaleUp.map(interconnect), scaleOutLink: try scaleOut.map(interconnect),
                                  hostLink: try host.map(interconnect), memoryUtilization: memoryUtilization,
                                  pimPlacement: pimPlacement, units: chips, onChipKVTokens: onChipKVTokens)
            if let limit = systemLimit, let layout = d.layout, layout.units > limit.devices {
                throw InputError(file: Self.chipsLabel,
                                 "\(model.name) needs \(layout.units) \(layout.unitName)s of \(device.name); \(limit.name) has \(limit.devices) (\(layout.derivation)); name the device (\(device.name)) to model more")
            }
            return d
        } catch let problem as Deployment.Problem {
            switch problem {
            case .doesNotFit(let m): throw InputError(file: Self.chipsLabel, m)
            case .invalidPlacement(let m): throw InputError(file: Self.placementLabel, m)
            case .incompleteProfile(let m): throw InputError(file: devicesDirectory + "/" + device.name + ".json", location: "$", m)
            default: throw InputError(file: Self.parallelismLabel, problem.description)
            }
        }
    }

    /// The `file` of errors about the parallelism (`--tp/--pp` on the command line; scenario
    /// runners re-label them `$.parallelism` with `scenarioWording`).
    public static let parallelismLabel = "--tp/--pp"
    /// The `file` of errors about an SRAM machine's chip count (`$.parallelism.chips` in a scenario).
    public static let chipsLabel = "--chips"
    /// The `file` of errors about a PIM placement (`$.parallelism.pimPlacement` in a scenario).
    public static let placementLabel = "--pim-placement"

    /// A parallelism error's text as a scenario reads it: `tp`/`pp` instead of the flags.
    public static func scenarioWording(_ message: String) -> String {
        message.replacingOccurrences(of: "--tp ", with: "tp ").replacingOccurrences(of: "--pp ", with: "pp ")
    }
}
