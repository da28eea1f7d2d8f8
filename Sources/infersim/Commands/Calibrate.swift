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
        abstract: "Measure this machine and write a host device profile, or fit an engine's kernels from measurements (--from).",
        discussion: """
        Without --from: measures this host (bandwidth, executor kernel rates, fixed costs) and writes a host device profile.

        With --from FILE (repeatable): fits the kernel efficiencies of --engine on --hardware by least squares and writes an engine profile with their provenance (inputs, residuals, each parameter's uncertainty). FILE is an operator microbenchmark JSON (schemas/microbench.schema.json), a per-step CSV (prefill_tokens, prefill_sequences, decode_tokens, context_sum, context_max, time_s; needs --model), or the result JSON of `vllm bench serve --save-result` (needs --model). Nothing is written when any input is bad.
        """)

    @Option(help: "Measurements to fit (repeatable): microbenchmark JSON, per-step CSV, or a vLLM benchmark result JSON.") var from: [String] = []
    @Option(help: "With --from: the device the measurements ran on (an id or a device JSON file).") var hardware: String?
    @Option(help: "With --from: the engine whose figures are fitted (an id or an engine JSON file).") var engine: String?
    @Option(help: "With --from and a step CSV or vLLM result: the model that ran (an id or a model JSON file).") var model: String?

    @Option(help: "Threads (default: all online cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output profile (default: hardware-profiles/devices/host-calibrated.json in the profiles directory, or in ~/.infersim).") var output: String?
    @Option(help: "Directory holding hardware-profiles/ and scenarios/.") var profiles: String?
    @Flag(help: "Print one JSON object: the path written, the noise figures and the profile (schema: schemas/calibrate.schema.json).") var json = false

    func validate() throws {
        if from.isEmpty {
            for (flag, value) in [("--hardware", hardware), ("--engine", engine), ("--model", model)] where value != nil {
                throw ValidationError("\(flag) applies only with --from")
            }
        } else {
            guard hardware != nil else { throw ValidationError("--from needs --hardware: the device the measurements ran on") }
            guard engine != nil else { throw ValidationError("--from needs --engine: the engine whose figures are fitted") }
            guard output != nil else { throw ValidationError("--from needs --output PROFILE.json") }
        }
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
        if !from.isEmpty { return try runFit() }
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
