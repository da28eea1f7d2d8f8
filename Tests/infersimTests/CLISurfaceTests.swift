import Foundation
import Testing
import TestSupport
@testable import infersim
@testable import Validation

/// Every command that reports prints JSON with `--json` that parses and matches its schema in
/// `schemas/`; the binary works copied alone; options are reported as a user needs.
@Suite(.serialized) struct CLISurfaceTests {
    static func schema(_ name: String) throws -> JSONSchemaValidator {
        try JSONSchemaValidator(path: CLI.repoRoot + "/schemas/\(name).schema.json")
    }

    static func expectMatches(_ text: String, schema name: String, _ command: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let violation = try schema(name).violation(value)
        #expect(violation == nil, "\(command): \(violation ?? "")")
    }

    /// A tiny GGUF model (random weights, SmolLM2's tokenizer layout) in a scratch directory.
    static func tinyModelFile() throws -> String {
        let dir = try ScenarioFiles.directory()
        let path = dir + "/tiny.gguf"
        try Data(TinyLlama.make(seed: 3)).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [
        (["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--json"], "predict"),
        (["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--json"], "predict"),
        (["predict", "--hardware", "groq-lpu", "--model", "llama-2-70b", "--output", "1", "--json"], "predict"),
        (["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--tp", "2", "--json"], "explain"),
        (["explain", "--hardware", "samsung-hbm-pim", "--model", "llama-2-7b", "--pim-placement", "decodeInMemory", "--json"], "explain"),
        (["explain", "--hardware", "xilinx-u280", "--model", "llama-2-7b", "--json"], "explain"),
        (["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--step", "prefill=512@1024,decode=64@1024", "--json"], "explain-step"),
        (["profiles", "list", "--json"], "profiles-list"),
        (["profiles", "show", "nvidia-h200", "--json"], "profiles-show"),
        (["profiles", "show", "llama-3-8b", "--json"], "profiles-show"),
        (["validate", "--published", "--json"], "validate-published"),
        (["simulate", "--json"], "simulate"),
        (["simulate", "scenarios/examples/static-vs-continuous.json", "--json"], "simulate"),
        (["simulate", "scenarios/examples/disaggregated-azure-conv.json", "--json"], "simulate"),
        (["sweep", "scenarios/quickstart.json", "--vary", "replicas=1,2", "--json"], "sweep"),
        (["bench", "--requests", "500", "--replicas", "2", "--json"], "bench"),
        (["bench", "--requests", "500", "--replicas", "2", "--pricing", "closedForm", "--json"], "bench"),
        (["bench", "--requests", "500", "--replicas", "3", "--prefill-replicas", "1", "--json"], "bench"),
        (["bench", "--sweep", "--points", "3", "--sweep-requests", "40", "--json"], "bench-sweep"),
        (["bench", "--memory", "--file-requests", "2000", "--stream-requests", "3000", "--agreement-requests", "1000", "--json"], "bench-memory"),
        (["compare", "skhynix-gddr6-aim-16x", "--json"], "compare"),
        (["compare", "scenarios/comparisons/flightllm-u280-energy.json", "--json"], "compare"),
        (["speculate", "--hardware", "nvidia-a100-sxm-80gb", "--model", "llama-2-7b", "--draft-model", "llama-68m",
          "--context", "128", "--batches", "1,1024", "--json"], "speculate"),
    ])
    func commandJSONMatchesItsSchema(arguments: [String], schema: String) throws {
        let r = try CLI.run(arguments)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        try Self.expectMatches(r.stdout, schema: schema, arguments.joined(separator: " "))
    }

    @Test func executorCommandsJSONMatchTheirSchemas() throws {
        let model = try Self.tinyModelFile()
        let run = try CLI.run(["run", "--model", model, "--prompt", "hello", "--max-tokens", "4", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        try Self.expectMatches(run.stdout, schema: "run", "run")
        let text = try CLI.run(["run", "--model", model, "--prompt", "hello", "--max-tokens", "4"])
        #expect(text.status == 0 && text.stdout.hasSuffix("\n"), "\(text.stderr)")
        let bad = try CLI.run(["run", "--model", model + ".missing", "--prompt", "hello"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("error: " + model + ".missing: ") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        let bench = try CLI.run(["bench-executor", "--model", model, "--repetitions", "1", "--threads", "1",
                                 "--tests", "tg4", "pp8", "--bandwidth", "1e10", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        try Self.expectMatches(bench.stdout, schema: "bench-executor", "bench-executor")
        let trace = (model as NSString).deletingLastPathComponent + "/trace.csv"
        try "arrival_s,prompt_tokens,output_tokens\n0,8,4\n0.01,6,3\n".write(toFile: trace, atomically: true, encoding: .utf8)
        let served = try CLI.run(["serve-trace", "--model", model, trace, "--threads", "1", "--json"])
        #expect(served.status == 0, "\(served.stderr)")
        try Self.expectMatches(served.stdout, schema: "serve-trace", "serve-trace")
    }

    /// `calibrate --json` and `validate --model --json` need minutes of measurement or the real
    /// model; their JSON is built from the same functions the commands call.
    @Test func calibrateAndModelValidationJSONMatchTheirSchemas() throws {
        var c = HostCalibration(cpuModel: "Test CPU", threads: 2, memoryCapacityBytes: 16e9, readBandwidthOneThread: 10e9,
                                readBandwidthAllThreads: 30e9,
                                kernels: [.init(weightType: "Q4_1", computeFLOPsPerSecond: 200e9, smallRowsFLOPsPerSecond: 100e9, gemvBytesPerSecond: 25e9)],
                                attentionFLOPsPerSecond: 40e9, attentionPrefillFLOPsPerSecond: 60e9, attentionOverheadSeconds: 4e-6,
                                attentionPrefillRows: 512, attentionPositions: 512, computeRows: 128, smallRows: 8,
                                kernelOverheadSeconds: 2e-6, stepOverheadSeconds: 20e-6, tinyLayerSeconds: 15e-6)
        c.spreads = [0.01, 0.03, 0.2]
        try Self.expectMatches(Calibrate.json(c, output: "/tmp/h.json", profileName: "h", noisy: false), schema: "calibrate", "calibrate")
        let report = ValidationReport(rows: [.init(quantity: "decode tok/s", unit: "tok/s", predicted: 10, measured: 11, goal: 0.1),
                                             .init(quantity: "TTFT p50", unit: "ms", predicted: .nan, measured: 3, goal: nil)],
                                      setup: [("model", "tiny"), ("threads", "1")])
        try Self.expectMatches(report.json, schema: "validate-model", "validate --model")
    }

    @Test func everySchemaIsValidJSONWithATitleAndADescription() throws {
        let dir = CLI.repoRoot + "/schemas"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".schema.json") }
        #expect(names.count >= 15)
        for name in names {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) as? [String: Any]
            #expect(object?["title"] is String, "\(name)")
            #expect(object?["description"] is String, "\(name)")
        }
    }

    @Test func theBinaryCopiedAloneRunsPredictSimulateAndValidate() throws {
        let dir = try ScenarioFiles.directory()
        let binary = dir + "/infersim"
        try FileManager.default.copyItem(atPath: CLI.binary, toPath: binary)
        try ScenarioFiles.json().write(toFile: dir + "/s.json", atomically: true, encoding: .utf8)
        // No checkout above the directory, no INFERSIM_HOME, a HOME without ~/.infersim.
        let env = ["HOME": dir, "PATH": "/usr/bin:/bin"]
        let predict = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"], in: dir, binary: binary, environment: env)
        #expect(predict.status == 0, "\(predict.stderr)")
        #expect(predict.stdout.contains("time to first token"))
        let simulate = try CLI.run(["simulate", "s.json"], in: dir, binary: binary, environment: env)
        #expect(simulate.status == 0, "\(simulate.stderr)")
        #expect(simulate.stdout.contains("50 completed"))
        let validate = try CLI.run(["validate", "--published"], in: dir, binary: binary, environment: env)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("cases predicted"))
        let show = try CLI.run(["profiles", "show", "nvidia-h100-sxm", "--json"], in: dir, binary: binary, environment: env)
        #expect(show.stdout.contains("\"source\": \"<built-in>/hardware-profiles/devices/nvidia-h100-sxm.json\""))
    }

    @Test func aProfilesDirectoryOverridesAndExtendsTheBuiltInOnes() throws {
        let dir = try ScenarioFiles.directory()
        try FileManager.default.createDirectory(atPath: dir + "/hardware-profiles/devices", withIntermediateDirectories: true)
        let h100 = try String(contentsOfFile: CLI.repoRoot + "/hardware-profiles/devices/nvidia-h100-sxm.json", encoding: .utf8)
        try h100.replacingOccurrences(of: "\"name\": \"nvidia-h100-sxm\"", with: "\"name\": \"my-h100\"")
            .write(toFile: dir + "/hardware-profiles/devices/my-h100.json", atomically: true, encoding: .utf8)
        let env = ["HOME": dir, "PATH": "/usr/bin:/bin"]
        let list = try CLI.run(["profiles", "list", "--profiles", dir], in: dir, environment: env)
        #expect(list.stdout.contains("my-h100") && list.stdout.contains("nvidia-h200"))
        let byID = try CLI.run(["predict", "--hardware", "my-h100", "--model", "llama-3-8b", "--profiles", dir, "--json"], in: dir, environment: env)
        let byPath = try CLI.run(["predict", "--hardware", dir + "/hardware-profiles/devices/my-h100.json", "--model", "llama-3-8b", "--json"],
                                 in: dir, environment: env)
        let builtIn = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--json"], in: dir, environment: env)
        #expect(byID.status == 0 && byPath.status == 0, "\(byID.stderr) \(byPath.stderr)")
        func ttft(_ r: CLIResult) -> Double? {
            ((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any])?["ttft_ms"] as? Double
        }
        #expect(ttft(byID) != nil && ttft(byID) == ttft(builtIn) && ttft(byPath) == ttft(builtIn))
        // INFERSIM_HOME names the same directory.
        let viaEnv = try CLI.run(["predict", "--hardware", "my-h100", "--model", "llama-3-8b"], in: dir,
                                 environment: env.merging(["INFERSIM_HOME": dir]) { $1 })
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
    }

    @Test func aMisspelledOptionIsReportedAsUnknownWithTheNearestOne() throws {
        let r = try CLI.run(["predict", "--hardwre", "nvidia-h100-sxm", "--model", "llama-3-8b"])
        #expect(r.status == 2)
        #expect(r.stderr == "error: Unknown option '--hardwre'. Did you mean '--hardware'?\n")
        let r2 = try CLI.run(["simulate", "scenarios/quickstart.json", "--jsn"])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("Unknown option '--jsn'") && r2.stderr.contains("--json"))
        // A genuinely missing option is still reported as missing.
        let r3 = try CLI.run(["predict", "--model", "llama-3-8b"])
        #expect(r3.stderr.contains("Missing expected argument '--hardware"))
    }

    @Test func unknownIdsSuggestTheNearestKnownOne() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sx", "--model", "llama-3-8b"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("error: hardware: unknown id \"nvidia-h100-sx\"; did you mean \"nvidia-h100-sxm\"?"))
        let m = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "lama-3-8b"])
        #expect(m.stderr.contains("did you mean \"llama-3-8b\"?"))
    }

    @Test func negativeNumbersAreReportedAsSuch() throws {
        for (option, value) in [("--batch", "-4"), ("--input", "-1"), ("--tp", "-2")] {
            let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", option, value])
            #expect(r.status == 2)
            #expect(r.stderr.contains(option) && r.stderr.contains("got \(value)"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func versionIsPrinted() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout == InferSimVersion.string + "\n")
    }

    @Test func aPromptLongerThanTheContextIsRefused() throws {
        for command in ["predict", "explain"] {
            let r = try CLI.run([command, "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--input", "100000"])
            #expect(r.status == 2)
            #expect(r.stderr == "error: --input/--output: expected a prompt plus output of at most 8192 tokens (llama-3-8b's context), found 100000 + 128 = 100128\n")
        }
    }

    @Test func completionsOfferTheBuiltInIds() throws {
        let r = try CLI.run(["--generate-completion-script", "bash"])
        #expect(r.status == 0)
        for id in ["nvidia-h100-sxm", "groq-lpu", "llama-3-70b", "bf16", "fp8"] { #expect(r.stdout.contains(id), "\(id)") }
    }
}
