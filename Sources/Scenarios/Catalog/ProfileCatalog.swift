import Diagnostics
import CostModel
import Foundation
import BundledResources
import HardwareModel

/// The profiles InferSim knows: device, interconnect and system profiles, device classes,
/// model profiles and comparison scenarios.
///
/// They are built into the binary (`BundledResources`), so a copied binary works anywhere. A
/// user's directory, laid out like the checkout (`hardware-profiles/{devices,interconnects,systems}`,
/// `hardware-profiles/device-classes.json`, `scenarios/models`, `scenarios/comparisons`),
/// overrides built-in files of the same name and adds new ones. Ids are file names without
/// `.json`; a device or model may also be named by the path of its JSON file. Unknown ids are
/// reported with the nearest known one.
public struct ProfileCatalog: Sendable {
    /// The user's directory searched before the built-in files; nil for the built-in files alone.
    public let root: String?
    /// Engines held in memory, by id, that `engine(_:)` returns before looking at any file (a
    /// calibration prices each candidate engine without writing it).
    public var engineOverrides: [String: EngineProfile] = [:]

    public init(root: String?) {
        self.root = root
    }

    /// The user's directory: `explicit` (`--profiles DIR`) if given, else `$INFERSIM_HOME`, else
    /// the first directory holding `hardware-profiles/` found walking up from the working
    /// directory and then from the executable's location (a checkout, so that profiles edited
    /// there count without a rebuild), else `~/.infersim` if it exists, else none.
    /// - Throws: `InputError` when `explicit` or `$INFERSIM_HOME` is not a directory.
    public static func locate(explicit: String? = nil) throws -> ProfileCatalog {
        let fm = FileManager.default
        func isDirectory(_ path: String) -> Bool {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
        }
        if let explicit {
            guard isDirectory(explicit) else { throw InputError(option: "--profiles", "expected a directory, found \"\(explicit)\"") }
            return ProfileCatalog(root: explicit)
        }
        if let env = ProcessInfo.processInfo.environment["INFERSIM_HOME"], !env.isEmpty {
            guard isDirectory(env) else { throw InputError(file: "INFERSIM_HOME", "expected a directory, found \"\(env)\"") }
            return ProfileCatalog(root: env)
        }
        var starts = [fm.currentDirectoryPath]
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent().path
        starts.append(exe)
        for start in starts {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if isDirectory(dir.path + "/hardware-profiles") { return ProfileCatalog(root: dir.path) }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        if let home = userHome, isDirectory(home) { return ProfileCatalog(root: home) }
        return ProfileCatalog(root: nil)
    }

    /// `~/.infersim`, where a calibration is written when there is no other user directory.
    public static var userHome: String? {
        guard let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.infersim"
    }

    public static let devicesPath = "hardware-profiles/devices"
    public static let interconnectsPath = "hardware-profiles/interconnects"
    public static let systemsPath = "hardware-profiles/systems"
    public static let modelsPath = "scenarios/models"
    public static let enginesPath = "hardware-profiles/engines"
    public static let comparisonsPath = "scenarios/comparisons"
    public static let deviceClassesFile = "hardware-profiles/device-classes.json"
    public static let publishedFile = "data/validation/published.json"
    public static let executorTraceFile = "scenarios/traces/executor-trace.csv"
    public static let quickstartFile = "scenarios/quickstart.json"
    public static let pricesFile = "data/prices/cloud-gpu-prices.json"

    /// Where this catalog writes a device profile (a host calibration): the user's directory,
    /// or `~/.infersim` when there is none.
    public var writableDevicesDirectory: String? {
        (root ?? Self.userHome).map { $0 + "/" + Self.devicesPath }
    }

    /// A file's bytes and the name errors give it: the user's copy if there is one, else the
    /// built-in one (named `<built-in>/PATH`), else nil.
    public func file(_ relativePath: String) -> (data: Data, name: String)? {
        if let root, let data = FileManager.default.contents(atPath: root + "/" + relativePath) {
            return (data, root + "/" + relativePath)
        }
        if let text = BundledFiles.contents(of: relativePath) { return (Data(text.utf8), Self.builtInPrefix + relativePath) }
        return nil
    }

    /// How errors name a built-in file.
    public static let builtInPrefix = "<built-in>/"

    /// Decodes a catalog file strictly (unknown keys are errors).
    public func decode<T: Codable>(_ type: T.Type, _ relativePath: String) throws -> (value: T, name: String) {
        guard let (data, name) = file(relativePath) else {
            throw InputError(file: relativePath, "not found in \(root ?? "the built-in profiles")")
        }
        return (try StrictJSON.decode(T.self, from: data, file: name), name)
    }

    /// Ids (file names without `.json`) in a catalog directory, from the user's directory and
    /// the built-in files together, sorted.
    public func ids(in relativeDirectory: String) -> [String] {
        var ids = Set(BundledFiles.names(in: relativeDirectory))
        if let root {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + relativeDirectory)) ?? []
            for name in names where name.hasSuffix(".json") { ids.insert(String(name.dropLast(5))) }
        }
        return ids.sorted()
    }

    public var deviceIDs: [String] { ids(in: Self.devicesPath) }
    public var interconnectIDs: [String] { ids(in: Self.interconnectsPath) }
    public var systemIDs: [String] { ids(in: Self.systemsPath) }
    public var modelIDs: [String] { ids(in: Self.modelsPath) }
    public var engineIDs: [String] { ids(in: Self.enginesPath) }
    /// Every id of every kind.
    public var allIDs: [String] { deviceIDs + systemIDs + interconnectIDs + modelIDs + engineIDs }

    /// Whether `id` names a JSON file rather than a catalog id.
    static func isPath(_ id: String) -> Bool { id.hasSuffix(".json") || id.contains("/") }

    private func load<T: Codable>(_ type: T.Type, id: String, in directory: String, what: String, known: [String],
                                  name: (T) -> String) throws -> T {
        if Self.isPath(id) {
            return try StrictJSON.decode(T.self, contentsOf: id)
        }
        guard known.contains(id) || ids(in: directory).contains(id) else {
            throw InputError(file: what, NearestName.unknown(id, known: known))
        }
        let (value, file) = try decode(T.self, directory + "/" + id + ".json")
        guard name(value) == id else {
            throw InputError(file: file, jsonPath: "$.name", "expected \"\(id)\" (the file name), found \"\(name(value))\"")
        }
        return value
    }

    /// A device profile by id, or by the path of a device JSON file.
    public func device(_ id: String) throws -> DeviceProfile {
        try load(DeviceProfile.self, id: id, in: Self.devicesPath, what: "hardware", known: deviceIDs + systemIDs, name: \.name)
    }

    /// A serving engine by id, or by the path of an engine JSON file.
    public func engine(_ id: String) throws -> EngineProfile {
        if let e = engineOverrides[id] { return e }
        return try load(EngineProfile.self, id: id, in: Self.enginesPath, what: "engine", known: engineIDs, name: \.name)
    }

    public func interconnect(_ id: String) throws -> InterconnectProfile {
        try load(InterconnectProfile.self, id: id, in: Self.interconnectsPath, what: "interconnect", known: interconnectIDs, name: \.name)
    }

    public func system(_ id: String) throws -> SystemProfile {
        try load(SystemProfile.self, id: id, in: Self.systemsPath, what: "system", known: systemIDs, name: \.name)
    }

    /// A model profile by id, or by the path of a model JSON file.
    public func model(_ id: String) throws -> ModelProfile {
        try load(ModelProfile.self, id: id, in: Self.modelsPath, what: "model", known: modelIDs, name: \.name)
    }

    public func deviceClass(_ name: String) throws -> DeviceClassProfile {
        let (catalog, file) = try decode(DeviceClassCatalog.self, Self.deviceClassesFile)
        guard let c = catalog.classes.first(where: { $0.name == name }) else {
            throw InputError(file: file, "no device class \"\(name)\"; " + NearestName.unknown(name, known: catalog.classes.map(\.name)))
        }
        return c
    }

    /// Resolves `hardware` (a device id or a system id) and `model` into a deployment.
    /// - Throws: `InputError` for unknown ids or bad files; `Deployment.Problem` as `InputError`
    ///   for parallelism the model or hardware cannot take, and for more devices (tp × pp) than a
    ///   system (`hardware` naming a system) has, placed at the setting's origin in `origins`.
    public func deployment(hardware: String, model modelID: String, tensorParallel: Int = 1, pipelineParallel: Int = 1,
                           precision: Precision = Precision(), memoryUtilization: Double = 0.9,
                           pimPlacement: PIMPlacement = .none, chips: Int? = nil, onChipKVTokens: Int? = nil,
                           expertParallel: Int = 1, expertImbalance: Double? = nil, engine engineID: String? = nil,
                           dataParallelAttention: Bool = false, expertDispatch: ExpertDispatch = .allToAll,
                           origins: SettingOrigins = .commandLine) throws -> Deployment {
        let engine = try engineID.map { try self.engine($0) }
        let device: DeviceProfile
        var scaleUp: String?, scaleOut: String?, host: String?
        var systemLimit: (name: String, devices: Int)?
        if systemIDs.contains(hardware) {
            let s = try system(hardware)
            systemLimit = (s.name, s.deviceCount)
            if tensorParallel >= 1 && pipelineParallel >= 1 && tensorParallel * pipelineParallel > s.deviceCount {
                throw InputError(origin: origins.parallelism,
                                 "tensor parallelism \(tensorParallel) × pipeline parallelism \(pipelineParallel) = \(tensorParallel * pipelineParallel) devices exceeds the \(s.deviceCount) devices of \(s.name) (\(s.devicesPerNode) per node × \(s.nodes) node\(s.nodes == 1 ? "" : "s")); name the device (\(s.device)) instead of the system to model a larger cluster")
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
                                  pimPlacement: pimPlacement, units: chips, onChipKVTokens: onChipKVTokens,
                                  expertParallel: expertParallel, expertImbalance: expertImbalance, engine: engine,
                                  dataParallelAttention: dataParallelAttention, expertDispatch: expertDispatch)
            if let limit = systemLimit, let layout = d.layout, layout.units > limit.devices {
                throw InputError(origin: origins.chips,
                                 "\(model.name) needs \(layout.units) \(layout.unitName)s of \(device.name); \(limit.name) has \(limit.devices) (\(layout.derivation)); name the device (\(device.name)) to model more")
            }
            return d
        } catch let problem as Deployment.Problem {
            switch problem {
            case .doesNotFit(let m): throw InputError(origin: origins.chips, m)
            case .invalidPlacement(let m): throw InputError(origin: origins.placement, m)
            case .incompleteProfile(let m):
                throw InputError(file: file(Self.devicesPath + "/" + device.name + ".json")?.name ?? hardware, jsonPath: "$", m)
            case .missingKernelFit(let m):
                throw InputError(origin: origins.engine, m)
            default: throw InputError(origin: origins.parallelism, problem.description)
            }
        }
    }

    /// Where a deployment's settings came from, so that its errors point there: options on the
    /// command line, or keys of a scenario file.
    public struct SettingOrigins: Sendable {
        public var parallelism: InputError.Origin
        public var chips: InputError.Origin
        public var placement: InputError.Origin
        public var engine: InputError.Origin = .option("--engine")

        public static let commandLine = SettingOrigins(parallelism: .option("--tp/--pp"), chips: .option("--chips"),
                                                       placement: .option("--pim-placement"))
        public static func scenario(_ file: String) -> SettingOrigins {
            SettingOrigins(parallelism: .jsonPath(file: file, path: "$.parallelism"),
                           chips: .jsonPath(file: file, path: "$.parallelism.chips"),
                           placement: .jsonPath(file: file, path: "$.parallelism.pimPlacement"),
                           engine: .jsonPath(file: file, path: "$.engine"))
        }
    }
}
