import Foundation
import FuzzTargets
import Testing

/// Every seed in `Fuzz/corpus/TARGET` and every input a fuzzer once crashed on
/// (`Fuzz/regressions/TARGET`) runs through its target without trapping, and is either accepted
/// or refused with a one-line error (`FuzzTargets.run` checks that).
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    static func files(_ kind: String, _ target: FuzzTargets.Target) -> [String] {
        let dir = root + "/\(kind)/\(target.rawValue)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    @Test(arguments: FuzzTargets.Target.allCases)
    func corpusAndRegressionsRunWithoutCrashing(_ target: FuzzTargets.Target) throws {
        if target == .tokenizer {
            FuzzTargets.tokenizerFixture = try FuzzTargets.tokenizer(ggufAt: Self.root + "/corpus/gguf/tiny-llama.gguf")
        }
        for path in Self.files("corpus", target) + Self.files("regressions", target) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            _ = FuzzTargets.run(target, data)
        }
    }

    @Test func theSeedsOfEachKindAreAccepted() throws {
        let gguf = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/corpus/gguf/tiny-llama.gguf"))
        #expect(FuzzTargets.run(.gguf, gguf) == nil)
        let jsonl = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/corpus/trace-jsonl/sample.jsonl"))
        #expect(FuzzTargets.run(.traceJSONL, jsonl) == nil)
    }
}
