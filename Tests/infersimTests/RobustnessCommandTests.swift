import Foundation
import GGUF
import Testing
import TestSupport

/// The inputs that crashed InferSim under fuzzing through the CLI, rebuilt: each gets one line
/// naming its file and what was expected, and exit code 2.
@Suite(.serialized) struct RobustnessCommandTests {
    func expectOneLine(_ r: CLIResult, containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("error: "), sourceLocation: sourceLocation)
        for part in parts { #expect(r.stderr.contains(part), "missing \(part) in \(r.stderr)", sourceLocation: sourceLocation) }
    }

    @Test func anAzureTimestampOutsideTheRepresentableYearsIsRefused() throws {
        let dir = try ScenarioFiles.directory()
        for stamp in ["99999999999999", "9999-11-16 18:15:46.6805900", "1677-01-01 00:00:00"] {
            try "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n\(stamp),10,10\n"
                .write(toFile: dir + "/az.csv", atomically: true, encoding: .utf8)
            let scenario = try ScenarioFiles.write(ScenarioFiles.json(workload: #"{"trace": {"format": "azure2023", "path": "\#(dir)/az.csv"}}"#))
            expectOneLine(try CLI.run(["simulate", scenario]), containing: ["az.csv", "line 3", "TIMESTAMP", "years 1970-2200"])
        }
    }

    @Test func aRateOf1e308IsRefusedWhereItIsRead() throws {
        let scenario = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(rate: 1e308)))
        expectOneLine(try CLI.run(["simulate", scenario]),
                      containing: [scenario, "$.workload.generator.arrivals.poisson.ratePerSecond", "expected a number in (0, 1e9], found 1e308"])
    }

    @Test func aMemoryOf1e30BytesIsRefused() throws {
        let dir = try ScenarioFiles.directory()
        let h100 = try String(contentsOfFile: CLI.repoRoot + "/hardware-profiles/devices/nvidia-h100-sxm.json", encoding: .utf8)
        let capacity = try #require(h100.range(of: #""capacityBytes": [0-9.e]+"#, options: .regularExpression))
        let path = dir + "/huge.json"
        try h100.replacingCharacters(in: capacity, with: #""capacityBytes": 1e30"#).write(toFile: path, atomically: true, encoding: .utf8)
        expectOneLine(try CLI.run(["predict", "--hardware", path, "--model", "llama-3-8b"]),
                      containing: [path, "capacityBytes", "expected a number in (0, 1e21], found 1e30"])
    }

    @Test func aModelOf2To62LayersIsRefused() throws {
        let dir = try ScenarioFiles.directory()
        let model = try String(contentsOfFile: CLI.repoRoot + "/scenarios/models/llama-3-8b.json", encoding: .utf8)
        let layers = try #require(model.range(of: #""layers": [0-9]+"#, options: .regularExpression))
        let path = dir + "/deep.json"
        try model.replacingCharacters(in: layers, with: #""layers": 4611686018427387904"#).write(toFile: path, atomically: true, encoding: .utf8)
        expectOneLine(try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", path]),
                      containing: [path, "$.layers", "expected an integer in 1...10000, found 4611686018427387904"])
    }

    @Test func tooManyReplicasOrRequestsAreRefused() throws {
        let replicas = try ScenarioFiles.write(ScenarioFiles.json(extra: ["replicas": "1000000000"]))
        expectOneLine(try CLI.run(["simulate", replicas]), containing: ["$.replicas", "expected an integer in 1...65536"])
        let requests = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 9_000_000_000_000_000_000)))
        expectOneLine(try CLI.run(["simulate", requests]), containing: ["$.workload.generator.requests", "1...1000000000"])
    }

    @Test func aGGUFWhoseTensorCountOverflowsIsRefused() throws {
        var bytes: [UInt8] = Array("GGUF".utf8)
        bytes += [3, 0, 0, 0]                                   // version 3
        bytes += [UInt8](repeating: 0xFF, count: 8)             // tensor count 2^64 - 1
        bytes += [0, 0, 0, 0, 0, 0, 0, 0]                       // metadata count 0
        let path = try ScenarioFiles.directory() + "/count.gguf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectOneLine(try CLI.run(["run", "--model", path, "--prompt", "hi"]), containing: [path, "tensor count", "cannot fit in the file"])
    }

    @Test func aGGUFWhoseActivationsGoNaNIsRefused() throws {
        var bytes = TinyLlama.make(seed: 3)
        let file = try GGUFFile(bytes: bytes)
        let norm = try #require(file.tensor(named: "output_norm.weight"))
        #expect(norm.type == .f32)
        let nan = Float.nan.bitPattern
        for i in 0 ..< norm.byteCount / 4 {
            for b in 0 ..< 4 { bytes[norm.offset + 4 * i + b] = UInt8((nan >> (8 * UInt32(b))) & 0xFF) }
        }
        let path = try ScenarioFiles.directory() + "/nan.gguf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectOneLine(try CLI.run(["run", "--model", path, "--prompt", "hello", "--max-tokens", "2"]),
                      containing: [path, "non-finite logits"])
    }
}
