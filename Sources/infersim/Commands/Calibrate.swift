import Diagnostics
import ArgumentParser
import Foundation
import HardwareModel
import Scenarios
import ServingMetrics
import Validation

/// `infersim calibrate`: measures this host and writes a device profile for it.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine (bandwidth, executor kernel rates, fixed costs) and write a host device profile.")

    @Option(help: "Threads (default: all online cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output profile (default: hardware-profiles/devices/host-calibrated.json in the profiles directory, or in ~/.infersim).") var output: String?
    @Option(help: "Directory holding hardware-profiles/ and scenarios/.") var profiles: String?
    @Flag(help: "Print one JSON object: the path written, the noise figures and the profile (schema: schemas/calibrate.schema.json).") var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// `hardware-profiles/devices/host-calibrated.json` under the user's profiles directory, or
    /// under `~/.infersim` (created) when there is none.
    static func defaultOutput(_ catalog: ProfileCatalog) throws -> String {
        guard let dir = catalog.writableDevicesDirectory else {
            throw InputError(option: "--output", "no profiles directory and no $HOME; give --output FILE or --profiles DIR")
        }
        if catalog.root == nil { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        return dir + "/\(HostProfileWriter.defaultID).json"
    }

    func run() throws {
        let path = try output ?? Self.defaultOutput(ProfileCatalog.locate(explicit: profiles))
        try OutputPaths.check([("--output", path)])
        let load = HostNoise.loadLine()
        FileHandle.standardError.write(Data((load + "\n").utf8))
        let calibration = try HostCalibrator(threads: threads).run()
        let spread = HostNoise.spreadLine(calibration.spreads, what: "\(calibration.spreads.count) timed figures")
        FileHandle.standardError.write(Data((spread + "\n").utf8))
        let profile = try HostProfileWriter.write(calibration, to: path)
        if json {
            print(Self.json(calibration, output: path, profileName: profile.name, noisy: load.hasPrefix("warning") || spread.hasPrefix("warning")))
        } else {
            print("wrote \(path)")
            print(profile.notes ?? "")
        }
    }

    /// Schema: schemas/calibrate.schema.json.
    static func json(_ calibration: HostCalibration, output: String, profileName: String, noisy: Bool) -> String {
        var w = JSONWriter()
        w.add("output", output)
        w.add("threads", calibration.threads)
        w.add("load_average", HostNoise.loadAverage())
        let sorted = calibration.spreads.sorted()
        w.add("spread_median", sorted.isEmpty ? nil : sorted[sorted.count / 2])
        w.add("spread_worst", sorted.last)
        w.add("noisy", noisy)
        w.addRaw("profile", HostProfileWriter.json(calibration, id: profileName).trimmingCharacters(in: .whitespacesAndNewlines))
        return w.rendered()
    }
}
