import Foundation
import Testing

@Suite(.serialized) struct PredictCommandTests {
    func json(_ result: CLIResult) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func predictJSONHasTheDocumentedKeys() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch", "8",
                             "--input", "512", "--output", "64", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r)
        for key in ["ttft_ms", "tpot_ms", "e2e_ms", "output_tokens_per_s", "weights_bytes_per_device", "kv_bytes_per_token",
                    "kv_bytes_per_device", "fits", "max_batch", "prefill_bound", "decode_bound"] {
            #expect(o[key] != nil, "missing \(key)")
        }
        #expect(o["fits"] as? Bool == true)
        #expect(o["kv_bytes_per_token"] as? Double == 131_072)  // 2 × 32 × 8 × 128 × 2
        #expect(o["decode_bound"] as? String == "memory")
    }

    @Test func llama3_70bOnOneH100IsRefusedWithTheShortfall() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b"])
        #expect(r.stdout.contains("DOES NOT FIT"))
        #expect(r.stdout.contains("327,680 B/token (0.3125 MiB)"))
        let j = try json(try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--json"]))
        #expect(j["fits"] as? Bool == false)
        #expect(j["max_batch"] as? Int == 0)
        #expect((j["shortfall_bytes_per_device"] as? Double ?? 0) > 60e9)
    }

    @Test func explainShowsTheBandwidthFloorAndTheCommunication() throws {
        let r = try CLI.run(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--tp", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("bandwidth floor"))
        #expect(r.stdout.contains("Communication (per call: one layer's collective or one stage boundary)"))
        #expect(r.stdout.contains("all-reduce (FFN): 80 × "))
        #expect(r.stdout.contains("ring all-reduce of 2 ranks on NVLink"))
        #expect(r.stdout.contains("all-reduce"))
        #expect(r.stdout.contains("Decode turns compute-bound at batch"))
        #expect(r.stdout.contains("ridge point"))
    }

    @Test func profilesListAndShow() throws {
        let list = try CLI.run(["profiles", "list"])
        #expect(list.status == 0)
        for id in ["nvidia-h100-sxm", "groq-lpu", "cerebras-wse-3", "samsung-hbm-pim", "xilinx-u280", "llama-3-70b", "deepseek-v3"] {
            #expect(list.stdout.contains(id), "missing \(id)")
        }
        let show = try CLI.run(["profiles", "show", "nvidia-h200"])
        #expect(show.status == 0)
        #expect(show.stdout.contains("\"name\": \"nvidia-h200\""))
    }
}

@Suite(.serialized) struct BadInputTests {
    func expectOneLineError(_ r: CLIResult, containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit status \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
        for part in parts {
            #expect(r.stderr.contains(part), "\(r.stderr) lacks \(part)", sourceLocation: sourceLocation)
        }
    }

    @Test func unknownHardwareListsKnownIDs() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h900", "--model", "llama-3-8b"])
        expectOneLineError(r, containing: ["nvidia-h900", "known:", "nvidia-h100-sxm"])
    }

    @Test func unknownModelListsKnownIDs() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-9"])
        expectOneLineError(r, containing: ["llama-9", "known:", "llama-3-8b"])
    }

    @Test func tensorParallelismThatDoesNotDivideTheHeads() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--tp", "3"])
        expectOneLineError(r, containing: ["tensor parallelism 3", "32 attention heads"])
    }

    @Test func zeroOrNegativeBatch() throws {
        expectOneLineError(try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch", "0"]),
                           containing: ["--batch must be in 1...1048576, got 0"])
        expectOneLineError(try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch=-4"]),
                           containing: ["--batch must be in 1...1048576, got -4"])
    }

    @Test func unknownDType() throws {
        let r = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--weights", "fp6"])
        expectOneLineError(r, containing: ["--weights", "fp6", "known:"])
    }

    @Test func malformedProfileNamesFileAndJSONPath() throws {
        let root = try CLI.scratchProfiles()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/hardware-profiles/devices/nvidia-h100-sxm.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"bandwidthBytesPerSecond\": 3.35e12", with: "\"bandwidthBytesPerSecond\": -1")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["predict", "--profiles", root, "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"])
        expectOneLineError(r, containing: ["nvidia-h100-sxm.json", "$.memoryTiers[1].bandwidthBytesPerSecond", "expected a number > 0, found -1"])
    }

    @Test func unknownKeyInAProfileIsAnError() throws {
        let root = try CLI.scratchProfiles()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/scenarios/models/llama-3-8b.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"layers\"", with: "\"layerz\": 1, \"layers\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["predict", "--profiles", root, "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"])
        expectOneLineError(r, containing: ["llama-3-8b.json", "$.layerz", "unknown key"])
    }

    @Test func truncatedProfileIsNotValidJSON() throws {
        let root = try CLI.scratchProfiles()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/hardware-profiles/devices/nvidia-l4.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try String(text.prefix(text.count / 2)).write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["predict", "--profiles", root, "--hardware", "nvidia-l4", "--model", "llama-3-8b"])
        expectOneLineError(r, containing: ["nvidia-l4.json", "not valid JSON"])
    }

    @Test func missingKeyIsNamed() throws {
        let root = try CLI.scratchProfiles()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/scenarios/models/llama-3-8b.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"vocabSize\"", with: "\"unusedVocab\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["predict", "--profiles", root, "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"])
        expectOneLineError(r, containing: ["llama-3-8b.json", "$.vocabSize", "missing required key"])
    }
}

@Suite struct PublishedValidationTests {
    @Test func medianErrorOverGPUCasesIsAtMost9Point5PercentAndEveryClassIsMapped() throws {
        let r = try CLI.run(["validate", "--published", "data/validation/published.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("single + multi GPU") })
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // "single + multi GPU  <cases>  <median>%  <mean>%"
        let median = try #require(Double(fields[fields.count - 2].dropLast()))
        let cases = try #require(Int(fields[fields.count - 3]))
        #expect(cases >= 25)
        #expect(median <= 9.5)
        // The execution models map every SRAM-ASIC, PIM and FPGA case (issue 11). The SRAM-ASIC
        // goal is a median of at most 25%.
        func summary(_ category: String) throws -> (cases: Int, median: Double) {
            let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix(category + " ") })
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            return (try #require(Int(f[f.count - 3])), try #require(Double(f[f.count - 2].dropLast())))
        }
        let sram = try summary("sram_asic")
        #expect(sram.cases == 4)
        #expect(sram.median <= 25)
        #expect(try summary("pim").cases == 3)
        #expect(try summary("fpga").cases == 2)
        // Nothing is dropped silently: every case is listed.
        #expect(r.stdout.contains("of 49 cases"), "\(r.stdout.suffix(300))")
        // Splitwise's 1.4x at equal cost, by two serving scenarios on the Azure trace (issue 14).
        let splitwise = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("splitwise-throughput-cost") })
        #expect(!splitwise.contains("not mapped"), "\(splitwise)")
    }
}
