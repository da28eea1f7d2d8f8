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
                           containing: ["$.workload.trace.format", #"unknown value "azure"; known: azure2023, mooncake, csv, jsonl"#])
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
