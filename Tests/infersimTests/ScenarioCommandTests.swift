import Foundation
import Testing

/// `infersim simulate` and `infersim sweep` on small scenario files written to a scratch
/// directory: bad input gives one line naming the file and JSON path, with exit code 2.
enum ScenarioFiles {
    /// A small valid scenario (50 fixed-length requests on one H100): `overrides` replaces the
    /// top-level keys given (a JSON fragment per key), `extra` adds keys.
    static func json(hardware: String = "nvidia-h100-sxm", model: String = "llama-3-8b",
                     scheduler: String = #"{"kind": "chunkedPrefill", "maxBatchSize": 64, "maxTokensPerStep": 2048}"#,
                     workload: String = generator(requests: 50), seed: String = "1", extra: [String: String] = [:]) -> String {
        var keys: [(String, String)] = [("hardware", "\"\(hardware)\""), ("model", "\"\(model)\""), ("scheduler", scheduler),
                                        ("workload", workload), ("seed", seed)]
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { keys.append((k, v)) }
        return "{" + keys.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ",\n ") + "}\n"
    }

    static func generator(requests: Int = 50, rate: Double = 4, prompt: Int = 512, output: Int = 64) -> String {
        """
        {"generator": {"arrivals": {"poisson": {"ratePerSecond": \(rate)}}, "promptTokens": {"fixed": {"tokens": \(prompt)}},
                       "outputTokens": {"fixed": {"tokens": \(output)}}, "requests": \(requests)}}
        """
    }

    /// A fresh scratch directory.
    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` as `name` in a fresh scratch directory; returns its path.
    static func write(_ text: String, name: String = "s.json", in dir: String? = nil) throws -> String {
        let d = try dir ?? directory()
        let path = d + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

func expectScenarioError(_ r: CLIResult, containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 2, "exit status \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1, "expected one line, got: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(!r.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    #expect(!r.stderr.contains("not valid JSON"), "\(r.stderr)", sourceLocation: sourceLocation)
    for part in parts {
        #expect(r.stderr.contains(part), "\(r.stderr) lacks \(part)", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct ScenarioNumberErrorTests {
    @Test func negativeSeedNamesThePathAndTheValue() throws {
        let file = try ScenarioFiles.write(ScenarioFiles.json(seed: "-1"))
        expectScenarioError(try CLI.run(["simulate", file]),
                           containing: [file, "$.seed: expected a non-negative integer, found -1"])
    }

    @Test func fractionalIntegersNameThePathAndTheValue() throws {
        let tp = try ScenarioFiles.write(ScenarioFiles.json(extra: ["parallelism": #"{"tp": 2.5}"#]))
        expectScenarioError(try CLI.run(["simulate", tp]), containing: [tp, "$.parallelism.tp: expected an integer, found 2.5"])
        let requests = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator().replacingOccurrences(
            of: "\"requests\": 50", with: "\"requests\": 1e30")))
        expectScenarioError(try CLI.run(["simulate", requests]),
                           containing: ["$.workload.generator.requests: expected an integer, found 1e+30"])
        let string = try ScenarioFiles.write(ScenarioFiles.json(extra: ["replicas": #""two""#]))
        expectScenarioError(try CLI.run(["simulate", string]), containing: [#"$.replicas: expected an integer, found the string "two""#])
    }

    @Test func sweepValueThatIsNotAnIntegerNamesThePoint() throws {
        let file = try ScenarioFiles.write(ScenarioFiles.json())
        expectScenarioError(try CLI.run(["sweep", file, "--vary", "replicas=1,2.5"]),
                           containing: ["[replicas=2.5]", "$.replicas: expected an integer, found 2.5"])
        expectScenarioError(try CLI.run(["sweep", file, "--vary", "seed=-3"]),
                           containing: ["[seed=-3]", "$.seed: expected a non-negative integer, found -3"])
    }

    @Test func fractionalIntegerInAProfileNamesTheProfileAndPath() throws {
        let root = try CLI.scratchProfiles()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/scenarios/models/llama-3-8b.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let broken = text.replacingOccurrences(of: "\"layers\": 32", with: "\"layers\": 31.5")
        #expect(broken != text)
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["predict", "--profiles", root, "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"])
        expectScenarioError(r, containing: ["llama-3-8b.json", "$.layers: expected an integer, found 31.5"])
    }

    @Test func unknownTraceFormatAndEmpiricalFieldListTheKnownValues() throws {
        let trace = try ScenarioFiles.write(ScenarioFiles.json(workload: #"{"trace": {"format": "azure", "path": "t.csv"}}"#))
        expectScenarioError(try CLI.run(["simulate", trace]),
                           containing: ["$.workload.trace.format", #"unknown value "azure"; did you mean "azure2023"? known: azure2023, mooncake, csv, jsonl"#])
        let empirical = #"""
        {"generator": {"arrivals": {"poisson": {"ratePerSecond": 4}}, "outputTokens": {"fixed": {"tokens": 8}}, "requests": 5,
                       "promptTokens": {"empirical": {"path": "t.csv", "format": "csv", "field": "input"}}}}
        """#
        let field = try ScenarioFiles.write(ScenarioFiles.json(workload: empirical))
        expectScenarioError(try CLI.run(["simulate", field]),
                           containing: ["$.workload.generator.promptTokens.empirical.field", #"unknown value "input"; known: prompt, output"#])
        let badFormat = try ScenarioFiles.write(ScenarioFiles.json(workload: empirical.replacingOccurrences(of: "\"csv\"", with: "\"tsv\"")))
        expectScenarioError(try CLI.run(["simulate", badFormat]),
                           containing: ["$.workload.generator.promptTokens.empirical.format", "known: azure2023, mooncake, csv, jsonl"])
    }
}

/// Runs `infersim` with `arguments` and parses stdout as JSON.
func jsonOutput(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
    let r = try CLI.run(arguments)
    #expect(r.status == 0, "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
    return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
}

@Suite(.serialized) struct ScenarioResolutionErrorTests {
    @Test func unknownHardwareAndModelIdsNameTheScenarioPathAndListTheKnownIds() throws {
        let hardware = try ScenarioFiles.write(ScenarioFiles.json(hardware: "h100"))
        expectScenarioError(try CLI.run(["simulate", hardware]),
                            containing: [hardware + ": $.hardware: unknown hardware id \"h100\"; known:", "nvidia-h100-sxm", "dgx-h100"])
        let model = try ScenarioFiles.write(ScenarioFiles.json(model: "llama3"))
        expectScenarioError(try CLI.run(["simulate", model]),
                            containing: [model + ": $.model: unknown model id \"llama3\"; known:", "llama-3-8b"])
        // In a sweep, the point is named too.
        let swept = try ScenarioFiles.write(ScenarioFiles.json())
        expectScenarioError(try CLI.run(["sweep", swept, "--vary", "hardware=nvidia-h100-sxm,h900"]),
                            containing: [swept + " [hardware=h900]: $.hardware: unknown hardware id \"h900\""])
    }

    @Test func parallelismErrorsAreReportedAtDollarParallelism() throws {
        let file = try ScenarioFiles.write(ScenarioFiles.json(extra: ["parallelism": #"{"tp": 3}"#]))
        let r = try CLI.run(["simulate", file])
        expectScenarioError(r, containing: [file + ": $.parallelism: tensor parallelism 3 does not divide the 32 attention heads"])
        #expect(!r.stderr.contains("--tp"), "\(r.stderr)")
        let link = try ScenarioFiles.write(ScenarioFiles.json(hardware: "nvidia-rtx-4090", extra: ["parallelism": #"{"tp": 2}"#]))
        expectScenarioError(try CLI.run(["simulate", link]), containing: [link + ": $.parallelism: tensor parallelism across 2 devices"])
    }

    @Test func aSystemRefusesMoreDevicesThanItHas() throws {
        let tp16 = try ScenarioFiles.write(ScenarioFiles.json(hardware: "dgx-h100", model: "llama-3-70b", extra: ["parallelism": #"{"tp": 16}"#]))
        let r = try CLI.run(["simulate", tp16])
        expectScenarioError(r, containing: [tp16 + ": $.parallelism: tensor parallelism 16 × pipeline parallelism 1 = 16 devices exceeds the 8 devices of dgx-h100", "nvidia-h100-sxm"])
        #expect(!r.stderr.contains("--tp"), "\(r.stderr)")
        let groq = try ScenarioFiles.write(ScenarioFiles.json(hardware: "groq-rack", extra: ["parallelism": #"{"tp": 8, "pp": 16}"#]))
        expectScenarioError(try CLI.run(["simulate", groq]), containing: ["$.parallelism: tensor parallelism 8 × pipeline parallelism 16 = 128 devices exceeds the 64 devices of groq-rack"])
        let replicas = try ScenarioFiles.write(ScenarioFiles.json(hardware: "dgx-h100", model: "llama-3-70b",
                                                                  extra: ["parallelism": #"{"tp": 8}"#, "replicas": "2"]))
        expectScenarioError(try CLI.run(["simulate", replicas]),
                            containing: [replicas + ": $.replicas: expected at most 1 replicas of tp 8 × pp 1 on the 8 devices of dgx-h100, found 2"])
        expectScenarioError(try CLI.run(["predict", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "16"]),
                            containing: ["--tp/--pp: tensor parallelism 16 × pipeline parallelism 1 = 16 devices exceeds the 8 devices of dgx-h100"])
        // The device id models any number of devices, and a system up to its own.
        #expect(try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--tp", "16"]).status == 0)
        // An SRAM machine lays the model out itself, within the system's chips.
        #expect(try CLI.run(["predict", "--hardware", "groq-rack", "--model", "llama-3-8b", "--weights", "int8"]).status == 0)
        expectScenarioError(try CLI.run(["predict", "--hardware", "groq-rack", "--model", "llama-3-70b"]),
                            containing: ["--chips: llama-3-70b needs 6", "chips of groq-lpu; groq-rack has 64"])
    }

    @Test func aModelThatDoesNotFitPrintsGigabytesWithTwoDecimals() throws {
        let file = try ScenarioFiles.write(ScenarioFiles.json(model: "llama-3-70b"))
        let r = try CLI.run(["simulate", file])
        expectScenarioError(r, containing: [file + ": $.model: llama-3-70b does not fit on nvidia-h100-sxm with tp 1 × pp 1: short by "])
        let pattern = #/short by \d+\.\d\d GB per device \(weights \d+\.\d\d GB, usable \d+\.\d\d GB\)\n$/#
        #expect(r.stderr.firstMatch(of: pattern) != nil, "\(r.stderr)")
    }

    @Test func maxSequenceTokensDefaultsToTheModelContextAndMayNotExceedIt() throws {
        let explicit = try ScenarioFiles.write(ScenarioFiles.json(extra: ["kvCache": #"{"kind": "paged", "maxSequenceTokens": 16384}"#]))
        expectScenarioError(try CLI.run(["simulate", explicit]),
                            containing: [explicit + ": $.kvCache.maxSequenceTokens: expected at most 8192 (the maxContextTokens of llama-3-8b), found 16384"])
        // 8,200 + 8 tokens: beyond Llama-3-8B's 8,192-token context, within Llama-3.1-8B's.
        let long = ScenarioFiles.generator(requests: 3, prompt: 8200, output: 8)
        let short = try jsonOutput(["simulate", "--json", try ScenarioFiles.write(ScenarioFiles.json(workload: long))]) as? [String: Any]
        let s = try #require(short?["summary"] as? [String: Any])
        #expect((s["rejections"] as? [String: Int]) == ["exceedsMaxSequenceLength": 3], "\(s)")
        let longer = try jsonOutput(["simulate", "--json", try ScenarioFiles.write(ScenarioFiles.json(model: "llama-3.1-8b", workload: long))]) as? [String: Any]
        #expect((longer?["summary"] as? [String: Any])?["requests_completed"] as? Int == 3)
    }

    @Test func priorityClassOptionsNeedThePriorityClassesScheduler() throws {
        let deadline = try ScenarioFiles.write(ScenarioFiles.json(scheduler: #"{"kind": "chunkedPrefill", "admissionDeadlineMs": 500}"#))
        expectScenarioError(try CLI.run(["simulate", deadline]),
                            containing: [deadline + ": $.scheduler.admissionDeadlineMs: only used by scheduler kind priorityClasses, found kind chunkedPrefill"])
        let classes = try ScenarioFiles.write(ScenarioFiles.json(scheduler: #"{"kind": "continuousBatching", "priorityClasses": 2}"#))
        expectScenarioError(try CLI.run(["simulate", classes]),
                            containing: ["$.scheduler.priorityClasses: only used by scheduler kind priorityClasses, found kind continuousBatching"])
        let fine = try ScenarioFiles.write(ScenarioFiles.json(scheduler: #"{"kind": "priorityClasses", "priorityClasses": 2, "admissionDeadlineMs": 500}"#))
        let r = try CLI.run(["simulate", fine])
        #expect(r.status == 0, "\(r.stderr)")
    }
}

@Suite(.serialized) struct ScenarioSweepTests {
    @Test func sweepPathsCreateObjectsTheFileLeavesOut() throws {
        // No precision, slo or kvCache object in the file: their keys can still be swept.
        let file = try ScenarioFiles.write(ScenarioFiles.json(extra: ["sweep": #"{"slo.ttftMs": [100, 1000]}"#]))
        let r = try CLI.run(["sweep", file, "--vary", "precision.kv=fp16,fp8", "--vary", "kvCache.blockSize=16,32", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 8)
        #expect(rows.allSatisfy { $0["requests_completed"] as? Int == 50 })
        // A misspelt parent is still an unknown key; a parent that is not an object is an error.
        expectScenarioError(try CLI.run(["sweep", file, "--vary", "precison.kv=fp8"]), containing: ["[precison.kv=fp8", "$.precison: unknown key"])
        expectScenarioError(try CLI.run(["sweep", file, "--vary", "hardware.kind=x"]),
                            containing: [file + ": $.sweep.hardware.kind: expected an object at $.hardware to set kind in, found the string \"nvidia-h100-sxm\""])
        expectScenarioError(try CLI.run(["sweep", file, "--vary", "kvCache..kind=paged"]), containing: ["$.sweep: expected a dot-separated key path"])
    }

    /// A CSV trace with 7 bad rows among 10.
    static func badTrace(in dir: String) throws {
        var text = "arrival_s,prompt_tokens,output_tokens\n"
        for i in 0..<10 { text += i % 3 == 0 ? "\(i),100,10\n" : "\(i),x\(i),10\n" }
        try text.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
    }

    @Test func skipBadRowsShowsTheFirstReasonsAndAppliesToEverySweepPoint() throws {
        let dir = try ScenarioFiles.directory()
        try Self.badTrace(in: dir)
        let trace = #"{"trace": {"format": "csv", "path": "t.csv"}}"#
        let single = try ScenarioFiles.write(ScenarioFiles.json(workload: trace), in: dir)
        expectScenarioError(try CLI.run(["simulate", single]), containing: ["t.csv: line 3: field 'prompt_tokens'"])
        let text = try CLI.run(["simulate", single, "--skip-bad-rows"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("skipped bad trace rows: 6 (the first 5:)\n"), "\(text.stdout)")
        for line in [3, 4, 6, 7, 9] { #expect(text.stdout.contains("t.csv: line \(line): field 'prompt_tokens'"), "line \(line): \(text.stdout)") }
        #expect(!text.stdout.contains("line 10:"))
        let report = try #require(try jsonOutput(["simulate", single, "--skip-bad-rows", "--json"]) as? [String: Any])
        #expect(report["skipped_rows"] as? Int == 6)
        let reasons = try #require(report["skipped_row_reasons"] as? [String])
        #expect(reasons.count == 5 && reasons[0].hasSuffix("t.csv: line 3: field 'prompt_tokens': expected an integer >= 1, found non-numeric \"x1\""), "\(reasons)")

        // A sweep file: simulate and sweep both honour --skip-bad-rows at every point, and fail without it.
        let sweep = try ScenarioFiles.write(ScenarioFiles.json(workload: trace, extra: ["sweep": #"{"replicas": [1, 2]}"#]), name: "sweep.json", in: dir)
        expectScenarioError(try CLI.run(["simulate", sweep]), containing: ["t.csv: line 3"])
        expectScenarioError(try CLI.run(["sweep", sweep]), containing: ["t.csv: line 3"])
        let points = try #require(try jsonOutput(["simulate", sweep, "--skip-bad-rows", "--json"]) as? [[String: Any]])
        #expect(points.count == 2)
        for p in points { #expect((p["report"] as? [String: Any])?["skipped_rows"] as? Int == 6) }
        let table = try CLI.run(["sweep", sweep, "--skip-bad-rows"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("point 2 skipped 6 bad trace rows, the first: "), "\(table.stdout)")
        let rows = try #require(try jsonOutput(["sweep", sweep, "--skip-bad-rows", "--json"]) as? [[String: Any]])
        #expect(rows.map { $0["skipped_rows"] as? Int } == [6, 6])
        #expect(rows.map { $0["requests_completed"] as? Int } == [4, 4])
    }
}

@Suite(.serialized) struct ScenarioReportTests {
    @Test func summaryEnergyIsTheSumOfTheReplicasIdleTimeIncluded() throws {
        // 2 replicas, 20 requests at 2/s: mostly idle, so idle energy matters.
        let file = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 20, rate: 2), extra: ["replicas": "2"]))
        let report = try #require(try jsonOutput(["simulate", file, "--json"]) as? [String: Any])
        let summary = try #require(report["summary"] as? [String: Any])
        let replicas = try #require(report["replicas"] as? [[String: Any]])
        let total = try #require(summary["energy_joules"] as? Double)
        let steps = try #require(summary["energy_joules_steps"] as? Double)
        let idle = try #require(summary["energy_joules_idle"] as? Double)
        let sum = replicas.compactMap { $0["energy_joules"] as? Double }.reduce(0, +)
        #expect(abs(total - sum) <= 0.002, "summary \(total) J vs replicas \(sum) J")
        #expect(abs(total - steps - idle) <= 0.002 && idle > 0, "\(steps) + \(idle)")
        let perToken = try #require(summary["energy_joules_per_output_token"] as? Double)
        #expect(abs(perToken - total / Double(20 * 64)) < 1e-5)
        let text = try CLI.run(["simulate", file])
        #expect(text.stdout.contains("energy: \(String(format: "%.1f", total)) J (steps "), "\(text.stdout)")
    }

    @Test func aZeroWaitingQueueServesRequestsThatFindTheReplicaFree() throws {
        let spaced = #"""
        {"generator": {"arrivals": {"constant": {"ratePerSecond": 2}}, "promptTokens": {"fixed": {"tokens": 256}},
                       "outputTokens": {"fixed": {"tokens": 16}}, "requests": 6}}
        """#
        let file = try ScenarioFiles.write(ScenarioFiles.json(scheduler: #"{"kind": "continuousBatching", "maxWaitingQueue": 0}"#, workload: spaced))
        let summary = try #require((try jsonOutput(["simulate", file, "--json"]) as? [String: Any])?["summary"] as? [String: Any])
        #expect(summary["requests_completed"] as? Int == 6 && summary["requests_rejected"] as? Int == 0, "\(summary)")
    }

    @Test func predictJSONNamesTheSystemAndItsDevice() throws {
        let o = try #require(try jsonOutput(["predict", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "8", "--json"]) as? [String: Any])
        #expect(o["hardware"] as? String == "dgx-h100")
        #expect(o["device"] as? String == "nvidia-h100-sxm")
        let d = try #require(try jsonOutput(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--json"]) as? [String: Any])
        #expect(d["hardware"] as? String == "nvidia-h100-sxm" && d["device"] as? String == "nvidia-h100-sxm")
    }
}
