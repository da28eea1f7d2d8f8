import Foundation
import Testing

/// Bad input to the execution models gets one clear line and exit code 2 (issue 11): a model
/// that does not fit the SRAM names its shortfall in bytes and chips; a PIM placement on a
/// device without PIM; an FPGA profile without DSP figures.
@Suite struct ExecutionModelCommandTests {
    @Test func tooFewSRAMChipsNameTheShortfallInBytesAndChips() throws {
        let r = try CLI.run(["predict", "--hardware", "groq-lpu", "--model", "llama-2-70b", "--chips", "500"])
        expectScenarioError(r, containing: ["--chips: llama-2-70b at fp16 needs", "500 chips of groq-lpu hold", "short by ", " bytes, ", "more chips ("])
        let file = try ScenarioFiles.write(ScenarioFiles.json(hardware: "groq-lpu", model: "llama-2-70b", extra: ["parallelism": #"{"chips": 400}"#]))
        expectScenarioError(try CLI.run(["simulate", file]), containing: [file + ": $.parallelism.chips: llama-2-70b at fp16 needs", "more chips"])
        // --tp/--pp do not apply: the layout is the machine's own.
        expectScenarioError(try CLI.run(["predict", "--hardware", "groq-lpu", "--model", "llama-2-7b", "--tp", "2"]),
                            containing: ["groq-lpu lays the model out over its chips itself (sramPipeline): give a chip count instead of tensor/pipeline parallelism"])
    }

    @Test func aPIMPlacementOnADeviceWithoutPIM() throws {
        expectScenarioError(try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-2-7b", "--pim-placement", "attentionInMemory"]),
                            containing: ["--pim-placement: PIM placement attentionInMemory needs a device with processing in memory", "nvidia-h100-sxm executes as roofline"])
        expectScenarioError(try CLI.run(["predict", "--hardware", "skhynix-aim", "--model", "smollm2-135m", "--pim-placement", "everywhere"]),
                            containing: ["--pim-placement: unknown placement \"everywhere\"; known: none, decodeInMemory"])
        let file = try ScenarioFiles.write(ScenarioFiles.json(hardware: "nvidia-h100-sxm", extra: ["parallelism": #"{"pimPlacement": "decodeInMemory"}"#]))
        expectScenarioError(try CLI.run(["simulate", file]), containing: [file + ": $.parallelism.pimPlacement: PIM placement decodeInMemory needs"])
    }

    @Test func anFPGAProfileWithoutDSPFigures() throws {
        // A copy of the profiles whose U280 has no "fpga" block.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-fpga-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: CLI.repoRoot + "/hardware-profiles", toPath: root + "/hardware-profiles")
        try FileManager.default.copyItem(atPath: CLI.repoRoot + "/scenarios", toPath: root + "/scenarios")
        let path = root + "/hardware-profiles/devices/xilinx-u280.json"
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        object["fpga"] = nil
        var sources = object["sources"] as! [String: Any]
        sources["fpga"] = nil
        object["sources"] = sources
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["predict", "--hardware", "xilinx-u280", "--model", "llama-2-7b", "--profiles", root])
        expectScenarioError(r, containing: ["xilinx-u280.json", "$.fpga", "needs an \"fpga\" block with its DSP figures"])
    }

    @Test func explainSaysHowAnSRAMMachineWasSizedAndWhatBoundsAToken() throws {
        let r = try CLI.run(["explain", "--hardware", "groq-lpu", "--model", "llama-2-70b"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Execution model sramPipeline: 137.95 GB weights"), "\(r.stdout)")
        #expect(r.stdout.contains("chips per layer, 80 pipeline stages, 79 hops per token"))
        #expect(r.stdout.contains("per stage on average, of which"))
        #expect(r.stdout.contains("chip-to-chip hops and all-reduces"))
        let pim = try CLI.run(["explain", "--hardware", "amd-mi100-hbm-pim", "--model", "llama-2-7b", "--pim-placement", "decodeInMemory"])
        #expect(pim.status == 0, "\(pim.stderr)")
        #expect(pim.stdout.contains("decode operators in memory: rmsnorm (attention), QKV projection, attention (decode)"), "\(pim.stdout)")
        let fpga = try CLI.run(["explain", "--hardware", "xilinx-u280", "--model", "llama-2-7b"])
        #expect(fpga.stdout.contains("Execution model fpgaDataflow: 6144 DSPs at 225 MHz"), "\(fpga.stdout)")
        #expect(fpga.stdout.contains("of the weights spill to DDR4"), "\(fpga.stdout)")
    }

    @Test func everyComparisonScenarioRuns() throws {
        let dir = CLI.repoRoot + "/scenarios/comparisons"
        // Serving comparisons replay traces at many rates: ServingComparisonTests and
        // PublishedValidationTests run them.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.hasSuffix(".json") && !((try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8))?.contains("\"kind\": \"serving\"") ?? false)
        }
        #expect(files.count >= 5)
        for f in files {
            let r = try CLI.run(["compare", dir + "/" + f])
            #expect(r.status == 0, "\(f): \(r.stderr)")
            #expect(r.stdout.contains("predicted "), "\(f): \(r.stdout)")
        }
    }
}

/// Speculative decoding's bad input (issue 12): one line each, exit code 2.
@Suite struct SpeculativeDecodingCommandTests {
    @Test func badSpeculationInputIsOneLine() throws {
        func scenario(_ speculative: String) throws -> String {
            try ScenarioFiles.write(ScenarioFiles.json(model: "llama-2-7b", extra: ["speculative": speculative]))
        }
        var f = try scenario(#"{"draftModel": "llama-68m", "draftTokens": 4, "acceptance": 1.5}"#)
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.speculative.acceptance: expected an acceptance rate in [0, 1], found 1.5"])
        f = try scenario(#"{"draftModel": "llama-68m", "draftTokens": 0, "acceptance": 0.8}"#)
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.speculative.draftTokens: expected an integer >= 1, found 0"])
        f = try scenario(#"{"draftModel": "smollm2-135m", "draftTokens": 4, "acceptance": 0.8}"#)
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.speculative.draftModel: draft model smollm2-135m has a vocabulary of 49152 tokens, the target llama-2-7b 32000"])
        expectScenarioError(try CLI.run(["speculate", "--hardware", "nvidia-a100-sxm-80gb", "--model", "llama-2-7b", "--draft-model", "llama-68m", "--acceptance", "1.5"]),
                            containing: ["--acceptance must be in [0, 1], got 1.5"])
        expectScenarioError(try CLI.run(["speculate", "--hardware", "nvidia-a100-sxm-80gb", "--model", "llama-2-7b", "--draft-model", "llama-68m", "--draft-tokens", "0"]),
                            containing: ["--draft-tokens must be in 1...64, got 0"])
        f = try scenario(#"{"draftModel": "llama-68m", "draftTokens": 4, "acceptance": 0.8, "treeWidth": 17}"#)
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.speculative.treeWidth: expected a tree width of at most 16, found 17"])
        expectScenarioError(try CLI.run(["speculate", "--hardware", "nvidia-a100-sxm-80gb", "--model", "llama-2-7b", "--draft-model", "llama-68m", "--tree-width", "0"]),
                            containing: ["--tree-width must be in 1...16, got 0"])
    }

    /// A batch whose KV cache does not fit is not priced, and the verdict speaks only of those that fit.
    @Test func speculateSkipsBatchesWhoseKVDoesNotFit() throws {
        let r = try CLI.run(["speculate", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--draft-heads", "--context", "8192"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("   64              -                    -         -  does not fit"), "\(r.stdout)")
        #expect(r.stdout.contains("Speculation pays at every batch listed that fits (up to 32)."))
        #expect(r.stdout.contains("Not priced: batch 64, 128, 256, 512, whose KV cache at context 8192 (plus the drafts) does not fit."))
        let j = try CLI.run(["speculate", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--draft-heads", "--context", "8192", "--json"])
        let o = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        let rows = try #require(o["batches"] as? [[String: Any]])
        #expect(rows.filter { $0["fits"] as? Bool == false }.map { $0["batch"] as? Int } == [64, 128, 256, 512])
        #expect(rows.filter { $0["fits"] as? Bool == false }.allSatisfy { $0["tpot_plain_ms"] == nil })
    }

    /// Tree verification (w = 3 chains of k = 4): more tokens a round than a chain (3.362 at
    /// a = 0.8), priced as 13 query tokens, so it pays at batch 1 and stops paying sooner.
    @Test func speculateWithATreeYieldsMoreTokensAndStopsPayingSooner() throws {
        func run(_ width: String) throws -> [String: Any] {
            let r = try CLI.run(["speculate", "--hardware", "nvidia-a100-sxm-80gb", "--model", "llama-2-7b", "--draft-model", "llama-68m",
                                 "--context", "128", "--batches", "1,16,64,256,1024", "--tree-width", width, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            return try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        }
        let chain = try run("1"), tree = try run("3")
        let e1 = try #require(chain["expected_tokens_per_verification"] as? Double), e3 = try #require(tree["expected_tokens_per_verification"] as? Double)
        #expect(abs(e1 - 3.362) < 1e-3 && e3 > e1, "\(e1) \(e3)")
        #expect(tree["tree_width"] as? Int == 3)
        // The chain still pays at 256 (1.01×); the tree stops at 64. Batch 1024's KV does not fit either way.
        #expect(chain["stops_paying_at_batch"] is NSNull)
        #expect(tree["stops_paying_at_batch"] as? Int == 64)
        for o in [chain, tree] {
            #expect((o["batches"] as? [[String: Any]])?.last?["fits"] as? Bool == false)
        }
        let b1 = try #require((tree["batches"] as? [[String: Any]])?.first?["speedup"] as? Double)
        #expect(b1 > 1)
    }

    @Test func speculateShowsTheCrossover() throws {
        let r = try CLI.run(["speculate", "--hardware", "nvidia-a100-sxm-80gb", "--model", "llama-2-7b", "--draft-model", "llama-68m",
                             "--context", "128", "--batches", "1,64,512,2048"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("3.362 tokens per verification"), "\(r.stdout)")
        #expect(r.stdout.contains("Speculation stops paying at batch"), "\(r.stdout)")
    }
}

@Suite struct KVBudgetCommandTests {
    @Test func aWindowLargerThanTheContextIsOneLine() throws {
        var f = try ScenarioFiles.write(ScenarioFiles.json(extra: ["kvCache": #"{"kind": "paged", "maxSequenceTokens": 4096, "budget": {"streamingLLM": {"windowTokens": 8000}}}"#]))
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.kvCache.budget.streamingLLM.windowTokens: a window of 4 sink + 8000 tokens is larger than the context of 4096 tokens"])
        f = try ScenarioFiles.write(ScenarioFiles.json(extra: ["kvCache": #"{"kind": "paged", "budget": {"slidingWindow": {}}}"#]))
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.kvCache.budget.slidingWindow: llama-3-8b declares no sliding window"])
        f = try ScenarioFiles.write(ScenarioFiles.json(extra: ["kvCache": #"{"kind": "prefixCaching", "budget": {"heavyHitter": {"budgetTokens": 512}}}"#]))
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.kvCache.budget: a KV budget drops tokens, prefix caching shares them"])
    }
}

@Suite struct OffloadCommandTests {
    @Test func anOffloadTierOnADeviceWithoutAHostLink() throws {
        let f = try ScenarioFiles.write(ScenarioFiles.json(hardware: "skhynix-aim", model: "smollm2-135m",
                                                           extra: ["kvCache": #"{"kind": "paged", "offload": {"capacityBytes": 1e9}}"#]))
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.kvCache.offload: an offload tier needs a host link and skhynix-aim has none"])
    }

    @Test func aLongContextRequestIsServedWithAnOffloadTier() throws {
        let r = try CLI.run(["simulate", "scenarios/examples/long-context-offload.json", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"requests_completed\": 1"), "\(r.stdout.prefix(400))")
        // A 128k context (131,008 + 64 tokens); each decode step fetches the ~95k offloaded
        // tokens' KV (~12.5 GB) over ~25 GB/s: TPOT is paced by the link, about 0.6 s.
        #expect(r.stdout.contains("\"tpot_ms\": {\"count\": 1, \"mean\": 6"), "\(r.stdout.prefix(600))")
        #expect(!r.stdout.contains("\"kv_fragmentation_mean\": -"), "\(r.stdout)")
    }
}

@Suite struct SamplingCommandTests {
    @Test func samplingRunsAndRefusesSpeculationBesideIt() throws {
        var f = try ScenarioFiles.write(ScenarioFiles.json(extra: ["sampling": #"{"n": 4}"#]))
        let r = try CLI.run(["simulate", f])
        #expect(r.status == 0, "\(r.stderr)")
        f = try ScenarioFiles.write(ScenarioFiles.json(extra: ["sampling": #"{"beamWidth": 4}"#,
                                                               "speculative": #"{"draftHeads": true, "draftTokens": 2, "acceptance": 0.5}"#]))
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.sampling: several completions per request do not combine with speculative decoding"])
    }
}

@Suite struct TechniqueReportTests {
    @Test func theReportSaysWhichTechniquesARunUsed() throws {
        var r = try CLI.run(["simulate", "scenarios/examples/long-context-offload.json"])
        #expect(r.stdout.contains("KV offload tier: 512.0 GB over 25.2 GB/s"), "\(r.stdout)")
        let f = try ScenarioFiles.write(ScenarioFiles.json(extra: ["kvCache": #"{"kind": "paged", "budget": {"streamingLLM": {"sinkTokens": 4, "windowTokens": 1020}}}"#]))
        r = try CLI.run(["simulate", f])
        #expect(r.stdout.contains("KV budget: StreamingLLM: 4 sink + 1020 window tokens kept per sequence"), "\(r.stdout)")
        r = try CLI.run(["simulate", "scenarios/quickstart.json"])
        #expect(!r.stdout.contains("KV budget") && !r.stdout.contains("speculative"))
    }
}

@Suite struct DisaggregationCommandTests {
    /// A scenario with a prefill and a decode pool (here H100 prefill, A100 decode) runs, reports
    /// each replica's pool and the KV transfer times, and its JSON passes the schema.
    @Test func mixedHardwarePoolsRunAndReportTheirTransfers() throws {
        let f = try ScenarioFiles.write(ScenarioFiles.json(extra: [
            "disaggregation": #"{"prefillReplicas": 1, "decodeReplicas": 2, "decodeHardware": "nvidia-a100-sxm-80gb"}"#]))
        var r = try CLI.run(["simulate", f])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("replica 0 (prefill)") && r.stdout.contains("replica 2 (decode)"), "\(r.stdout)")
        #expect(r.stdout.contains("disaggregated pools: prefill 1 replicas"), "\(r.stdout)")
        r = try CLI.run(["simulate", f, "--json"])
        #expect(r.stdout.contains("\"pool\": \"decode\"") && r.stdout.contains("\"kv_transfers_ms\": {\"count\": 50"), "\(r.stdout.prefix(300))")
    }

    @Test func badPoolsAreOneLine() throws {
        func scenario(_ d: String, model: String = "llama-3-8b", tp: Int = 1) throws -> String {
            try ScenarioFiles.write(ScenarioFiles.json(model: model, extra: ["disaggregation": d, "parallelism": "{\"tp\": \(tp)}"]))
        }
        var f = try scenario(#"{"prefillReplicas": 0, "decodeReplicas": 2}"#)
        expectScenarioError(try CLI.run(["simulate", f]),
                            containing: [f + ": $.disaggregation.prefillReplicas: expected at least 1 replica in each pool (a prefill:decode ratio with a 0), found 0"])
        f = try scenario(#"{"prefillReplicas": 1, "decodeReplicas": 1, "decodeHardware": "nvidia-a100-sxm-80gb", "link": "nvlink4"}"#)
        expectScenarioError(try CLI.run(["simulate", f]),
                            containing: [f + ": $.disaggregation.link: nvlink4 is a scale-up link inside one node of nvidia-h100-sxm; it does not connect to nvidia-a100-sxm-80gb devices"])
        f = try scenario(#"{"prefillReplicas": 1, "decodeReplicas": 1, "decodeHardware": "nvidia-l4", "decodeTp": 1}"#, model: "llama-3-70b", tp: 4)
        let r = try CLI.run(["simulate", f])
        #expect(r.status == 2 && r.stderr.contains(f + ": $.disaggregation.decodeHardware: decode pool:") && r.stderr.contains("does not fit"),
                "\(r.stderr)")
        f = try scenario(#"{"prefillReplicas": 1, "decodeReplicas": 1, "routing": "nearest"}"#)
        expectScenarioError(try CLI.run(["simulate", f]), containing: [f + ": $.disaggregation.routing:", "leastOutstanding"])
        let bench = try CLI.run(["bench", "--replicas", "2", "--prefill-replicas", "2"])
        #expect(bench.status == 2 && bench.stderr.contains("--prefill-replicas must be in 1...1 (the rest decode), got 2"), "\(bench.stderr)")
    }
}
