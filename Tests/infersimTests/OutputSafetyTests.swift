import Foundation
import Testing

/// Outputs are checked before a run, written atomically, and removed when a signal stops the run.
@Suite(.serialized) struct OutputSafetyTests {
    func expectRefused(_ r: CLIResult, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        for p in parts { #expect(r.stderr.contains(p), "missing \(p): \(r.stderr)", sourceLocation: sourceLocation) }
    }

    func leftovers(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".partial") }
    }

    @Test func everyOutputOptionIsCheckedBeforeTheRun() throws {
        let dir = try ScenarioFiles.directory()
        let scenario = try ScenarioFiles.write(ScenarioFiles.json(), in: dir)
        let kept = dir + "/t.csv"
        try "keep\n".write(toFile: kept, atomically: true, encoding: .utf8)
        // A directory for one output: refused, and the other output is not touched.
        expectRefused(try CLI.run(["simulate", scenario, "--requests-csv", dir, "--timeline-csv", kept]),
                      ["--requests-csv", "expected a file, found the directory"])
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "keep\n")
        // The same file for two outputs.
        expectRefused(try CLI.run(["simulate", scenario, "--requests-csv", kept, "--timeline-csv", dir + "/./t.csv"]),
                      ["--timeline-csv", "is also the output of --requests-csv"])
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "keep\n")
        // An empty path, a missing directory.
        expectRefused(try CLI.run(["simulate", scenario, "--requests-csv", ""]), ["--requests-csv", "empty"])
        expectRefused(try CLI.run(["simulate", scenario, "--timeline-csv", dir + "/no/such/t.csv"]), ["--timeline-csv", "does not exist"])
        expectRefused(try CLI.run(["sweep", scenario, "--vary", "replicas=1,2", "--csv", dir]), ["--csv", "directory"])
        expectRefused(try CLI.run(["calibrate", "--output", dir]), ["--output", "directory"])
        let model = try CLISurfaceTests.tinyModelFile()
        expectRefused(try CLI.run(["validate", "--model", model, "--step-log", dir]), ["--step-log", "directory"])
        #expect(try leftovers(dir).isEmpty)
    }

    @Test func aFailingRunLeavesNoFileAndKeepsTheOldOne() throws {
        let dir = try ScenarioFiles.directory()
        try "arrival_s,prompt_tokens,output_tokens\n0,10,4\n0.1,x,4\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let scenario = try ScenarioFiles.write(ScenarioFiles.json(workload: #"{"trace": {"format": "csv", "path": "bad.csv"}}"#), in: dir)
        let out = dir + "/r.csv"
        try "old\n".write(toFile: out, atomically: true, encoding: .utf8)
        let r = try CLI.run(["simulate", scenario, "--requests-csv", out, "--timeline-csv", dir + "/t.csv"])
        #expect(r.status == 2)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "old\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/t.csv"))
        #expect(try leftovers(dir).isEmpty)
    }

    @Test func sigtermMidRunLeavesNoPartialFile() throws {
        let dir = try ScenarioFiles.directory()
        let scenario = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 300_000, rate: 400)), in: dir)
        let out = dir + "/r.csv"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["simulate", scenario, "--requests-csv", out]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the run is writing (its partial file exists), then stop it.
        var waited = 0.0
        while !FileManager.default.fileExists(atPath: out + ".partial") && waited < 30 && process.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
            waited += 0.02
        }
        #expect(FileManager.default.fileExists(atPath: out + ".partial"), "the run never started writing")
        Thread.sleep(forTimeInterval: 0.2)
        process.terminate()  // SIGTERM
        var after = 0.0
        while process.isRunning && after < 30 {
            Thread.sleep(forTimeInterval: 0.05)
            after += 0.05
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }  // never hang the suite
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + 15)
        #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
