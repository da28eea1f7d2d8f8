import ArgumentParser
import Foundation
import Scenarios
import Validation

/// `infersim calibrate`: measures this host and writes a device profile for it.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine (bandwidth, executor kernel rates, fixed costs) and write a host device profile.")

    @Option(help: "Threads (default: all online cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output profile (default: hardware-profiles/devices/host-calibrated.json).") var output: String?
    @Option(help: "Directory holding hardware-profiles/ and scenarios/.") var profiles: String?
    @Flag(help: "Print the profile JSON instead of the summary.") var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let path = try output ?? (ProfileCatalog.locate(explicit: profiles).devicesDirectory + "/\(HostProfileWriter.defaultID).json")
        let calibration = try HostCalibrator(threads: threads).run()
        let profile = try HostProfileWriter.write(calibration, to: path)
        if json {
            print(HostProfileWriter.json(calibration, id: profile.name), terminator: "")
        } else {
            print("wrote \(path)")
            print(profile.notes ?? "")
        }
    }
}
