import CostModel
import Diagnostics
import Foundation
import HardwareModel
import Scenarios
import Testing

/// The parallelism rules issue 14 asks to fall out of the numbers, on the shipped profiles.
@Suite struct ParallelismRulesTests {
    let catalog: ProfileCatalog
    init() throws { catalog = try ProfileCatalog.locate(explicit: FileManager.default.currentDirectoryPath) }

    func decodeStep(_ d: Deployment, batch: Int, context: Int = 1024) -> Double {
        var step = StepWorkload()
        for _ in 0..<batch { step.addDecode(contextLength: context) }
        return InferenceCostModel(deployment: d).cost(of: step).duration.value
    }

    @Test func tp8InsideOneNodeBeatsTp8AcrossTwoNodesForLlama3_70BDecode() throws {
        let h100 = try catalog.device("nvidia-h100-sxm")
        var halfNode = h100
        halfNode.interconnect.devicesPerNode = 4  // the same GPUs, four to a node: TP 8 spans two nodes
        let model = try catalog.model("llama-3-70b"), cls = try catalog.deviceClass(h100.deviceClass)
        let up = try h100.interconnect.scaleUp.map(catalog.interconnect), out = try h100.interconnect.scaleOut.map(catalog.interconnect)
        let one = try Deployment(model: model, device: h100, deviceClass: cls, tensorParallel: 8, scaleUpLink: up, scaleOutLink: out)
        let two = try Deployment(model: model, device: halfNode, deviceClass: cls, tensorParallel: 8, scaleUpLink: up, scaleOutLink: out)
        #expect(one.tensorNodeLink == nil && two.tensorNodeLink?.ranksPerNode == 4)
        for batch in [1, 64, 256] {
            let inside = decodeStep(one, batch: batch), across = decodeStep(two, batch: batch)
            // 160 all-reduces a step, each crossing InfiniBand once the group spans nodes.
            #expect(inside < across, "batch \(batch): one node \(inside) s, two nodes \(across) s")
        }
        // One card beats many when it fits: Llama-3-8B decodes faster on 1 H100 than TP 2.
        let small = try catalog.model("llama-3-8b")
        let tp1 = try Deployment(model: small, device: h100, deviceClass: cls, tensorParallel: 1, scaleUpLink: up, scaleOutLink: out)
        let tp2 = try Deployment(model: small, device: h100, deviceClass: cls, tensorParallel: 2, scaleUpLink: up, scaleOutLink: out)
        #expect(decodeStep(tp1, batch: 1) * 1 < decodeStep(tp2, batch: 1) * 2, "per-device throughput: one card wins")
    }

    @Test func mixtralExpertParallelismLosesAtBatch1AndTiesAtBatch256() throws {
        // TP 8 slices every expert 8 ways: a batch-1 token's 2 experts cost each GPU 2/8 of an
        // expert. EP 8 keeps experts whole: the GPU holding a chosen expert reads all of it, 4x the
        // bytes, and the step waits for it. At batch 256 every expert is chosen, both read one
        // expert's worth per GPU, and the decode is memory-bound: EP's busiest rank (1.24x the mean
        // routed tokens under uniform top-2) costs nothing there.
        func deployment(ep: Int) throws -> Deployment {
            try catalog.deployment(hardware: "nvidia-h100-sxm", model: "mixtral-8x7b", tensorParallel: 8, expertParallel: ep)
        }
        let tp = try deployment(ep: 1), ep = try deployment(ep: 8)
        let one = (tp: decodeStep(tp, batch: 1), ep: decodeStep(ep, batch: 1))
        let many = (tp: decodeStep(tp, batch: 256), ep: decodeStep(ep, batch: 256))
        #expect(one.tp < one.ep * 0.75, "batch 1: TP \(one.tp) s, EP \(one.ep) s")
        #expect(abs(many.ep / many.tp - 1) < 0.05, "batch 256: TP \(many.tp) s, EP \(many.ep) s")
        func expertBytes(_ d: Deployment, _ batch: Int) -> Double {
            var step = StepWorkload()
            for _ in 0..<batch { step.addDecode(contextLength: 1024) }
            var bytes = 0.0
            d.forEachOperator(in: step) { if $0.kind == .moeExperts { bytes += $0.weightBytes.value } }
            return bytes
        }
        #expect(abs(expertBytes(ep, 1) / expertBytes(tp, 1) - 4) < 1e-9)
        #expect(abs(expertBytes(ep, 256) / expertBytes(tp, 256) - 1) < 0.01)
        #expect(abs(ExpertLoad.expectedImbalance(tokens: 256, active: 2, ranks: 8) - 1.239) < 0.001)
    }

    @Test func expertParallelDegreesThatDoNotFitAreOneLine() throws {
        for (model, tp, ep, message) in [("mixtral-8x7b", 4, 8, "must divide tensor parallelism 4"),
                                         ("mixtral-8x7b", 8, 3, "does not divide the 8 experts"),
                                         ("llama-3-8b", 2, 2, "needs a mixture-of-experts model")] {
            do {
                _ = try catalog.deployment(hardware: "nvidia-h100-sxm", model: model, tensorParallel: tp, expertParallel: ep)
                Issue.record("\(model) tp \(tp) ep \(ep) accepted")
            } catch let e as InputError {
                #expect(e.message.contains(message) && !e.description.contains("\n"), "\(e)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// An engine's communication overlap hides that share of the step's collectives behind its
    /// compute and memory work, never more than that work; 0 (the default) hides nothing.
    @Test func communicationOverlapHidesItsShareOfTheCollectives() throws {
        let h100 = try catalog.device("nvidia-h100-sxm")
        let model = try catalog.model("llama-3-70b"), cls = try catalog.deviceClass(h100.deviceClass)
        let up = try h100.interconnect.scaleUp.map(catalog.interconnect), out = try h100.interconnect.scaleOut.map(catalog.interconnect)
        func engine(_ overlap: Double?) -> EngineProfile {
            EngineProfile(name: "t", displayName: "t", cudaGraphs: true, kernelLaunchSeconds: nil, stepOverheadSeconds: nil,
                          stepOverheadOverlaps: false, elementwiseKernelsPerLayer: nil, attention: .init(kernel: .splitKV),
                          fittedOn: "test", communicationOverlap: overlap)
        }
        func step(_ overlap: Double?, batch: Int) throws -> StepCost {
            let d = try Deployment(model: model, device: h100, deviceClass: cls, tensorParallel: 8, scaleUpLink: up, scaleOutLink: out,
                                   engine: engine(overlap))
            var w = StepWorkload()
            for _ in 0..<batch { w.addDecode(contextLength: 1024) }
            return InferenceCostModel(deployment: d).cost(of: w)
        }
        for batch in [1, 64] {
            let none = try step(nil, batch: batch), half = try step(0.5, batch: batch), all = try step(1, batch: batch)
            #expect(none.communication.value > 0)
            #expect(try step(0, batch: batch) == none)
            // Half the communication off the step time, and off its exposed communication.
            #expect(abs((none.duration - half.duration).value - none.communication.value / 2) < 1e-12, "batch \(batch)")
            #expect(abs(half.communication.value - none.communication.value / 2) < 1e-12)
            // All of it at most: the step never gets shorter than its work without communication.
            #expect(all.duration.value >= none.duration.value - none.communication.value - 1e-12)
            #expect(all.duration < half.duration)
        }
    }
}

/// `predict` and `explain` list each communication operator per call and per step, with its
/// route: a ring inside a node, a hierarchical all-reduce across nodes, pipeline stage boundaries.
@Test func communicationIsListedPerLayerAndPerStepWithItsRoute() throws {
    let catalog = try ProfileCatalog.locate(explicit: FileManager.default.currentDirectoryPath)
    var step = StepWorkload()
    for _ in 0..<8 { step.addDecode(contextLength: 1024) }
    func summary(tp: Int, pp: Int = 1) throws -> CommunicationSummary {
        let d = try catalog.deployment(hardware: "nvidia-h100-sxm", model: "llama-3-70b", tensorParallel: tp, pipelineParallel: pp)
        return InferenceCostModel(deployment: d).breakdown(of: step).communication(in: d)
    }
    let one = try summary(tp: 1)
    #expect(one.lines.isEmpty && one.total.value == 0)
    let eight = try summary(tp: 8)
    #expect(eight.lines.map(\.name) == ["all-reduce (attention)", "all-reduce (FFN)"])
    #expect(eight.lines.allSatisfy { $0.calls == 80 && $0.route.hasPrefix("ring all-reduce of 8 ranks") })
    #expect(abs(eight.total.value - eight.lines.reduce(0) { $0 + $1.perStep.value }) < 1e-15)
    #expect(eight.hidden.value == 0)
    let sixteen = try summary(tp: 16)
    #expect(sixteen.lines.allSatisfy { $0.route.hasPrefix("hierarchical all-reduce of 16 ranks") })
    let staged = try summary(tp: 8, pp: 2)
    #expect(staged.lines.contains { $0.name == "pipeline transfer" && $0.calls == 1 && $0.route.hasPrefix("1 stage boundaries") })
}

/// `simulate` reports the time a tensor-parallel cluster spends communicating: part of its busy
/// time, none on one device.
@Test func simulateReportsTheTimeSpentCommunicating() throws {
    func scenario(tp: Int) -> String {
        """
        {"name": "comm-tp\(tp)", "hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "parallelism": {"tp": \(tp)}, "replicas": 1,
         "scheduler": {"kind": "continuousBatching", "maxBatchSize": 32, "maxTokensPerStep": 2048},
         "kvCache": {"kind": "paged", "blockSize": 16},
         "workload": {"generator": {"arrivals": {"poisson": {"ratePerSecond": 4}},
            "promptTokens": {"uniform": {"min": 100, "max": 400}}, "outputTokens": {"uniform": {"min": 20, "max": 80}}, "requests": 40}},
         "seed": 3}
        """
    }
    let runner = SimulationRunner()
    let one = try runner.run(file: try writeTemporary(scenario(tp: 1))).summary
    let two = try runner.run(file: try writeTemporary(scenario(tp: 2))).summary
    #expect(one.communicationSeconds == 0)
    #expect(two.communicationSeconds > 0 && two.communicationSeconds < two.busySeconds)
    #expect(two.renderedText().contains("communication: "))
    #expect(two.renderedJSON().contains("\"communication_seconds\": "))
}

/// Data-parallel attention with expert parallelism (DeepSeek's serving layout).
@Suite struct DataParallelAttentionTests {
    let catalog: ProfileCatalog
    init() throws { catalog = try ProfileCatalog.locate(explicit: FileManager.default.currentDirectoryPath) }

    func deployment(_ model: String, hardware: String = "nvidia-h200", dp: Bool, dispatch: ExpertDispatch = .allToAll,
                    precision: Precision = Precision()) throws -> Deployment {
        try catalog.deployment(hardware: hardware, model: model, tensorParallel: 8, precision: precision, expertParallel: 8,
                               dataParallelAttention: dp, expertDispatch: dp ? dispatch : .allToAll)
    }

    func decode(_ d: Deployment, batch: Int, context: Int = 2048) -> StepBreakdown {
        var step = StepWorkload()
        for _ in 0..<batch { step.addDecode(contextLength: context) }
        return InferenceCostModel(deployment: d).breakdown(of: step)
    }

    /// MLA's latent KV cannot be split by heads, so tensor-parallel attention keeps every
    /// sequence's KV on all 8 GPUs; data-parallel attention keeps it on one. DeepSeek-V3 in FP8 on
    /// 8 H200s then holds several times the batch, even though every GPU now holds the attention
    /// weights whole; and each GPU attends over an eighth of the batch.
    @Test func deepSeekHoldsSeveralTimesTheBatchAndDropsTheAllReduces() throws {
        let fp8 = Precision(weights: .fp8, activations: .fp8, kvCache: .fp16)
        let tp = try deployment("deepseek-v3", dp: false, precision: fp8), dp = try deployment("deepseek-v3", dp: true, precision: fp8)
        let tpPlan = tp.memoryPlan(maxStepTokens: 8192, maxLogitRows: 256), dpPlan = dp.memoryPlan(maxStepTokens: 8192, maxLogitRows: 256)
        #expect(dpPlan.weightsPerDevice.value > tpPlan.weightsPerDevice.value)
        #expect(abs(dpPlan.kvBytesPerTokenPerDevice.value * 8 - tpPlan.kvBytesPerTokenPerDevice.value) < 1e-6)
        let ratio = (dpPlan.kvCapacityPerDevice.value / dpPlan.kvBytesPerTokenPerDevice.value)
            / (tpPlan.kvCapacityPerDevice.value / tpPlan.kvBytesPerTokenPerDevice.value)
        #expect(ratio > 2.5, "KV tokens held: \(ratio)×")
        let t = decode(tp, batch: 64), d = decode(dp, batch: 64)
        #expect(!d.operators.contains { $0.op.kind == .allReduce })
        #expect(d.operators.filter { $0.op.kind == .allToAll }.map(\.op.name) == ["MoE dispatch (all-to-all)", "MoE combine (all-to-all)"])
        let attention = { (b: StepBreakdown) in b.operators.first { $0.op.kind == .attentionDecode }!.op.memoryBytes.value }
        #expect(abs(attention(t) / attention(d) - 8) < 0.25, "each GPU reads about an eighth of the batch's KV and activations")
        #expect(d.cost.duration < t.cost.duration)
    }

    /// Mixtral routes each token to 2 of 8 experts: an all-to-all sends each token to its two
    /// experts' GPUs, an all-gather sends every token to all 8, four times the bytes, in a ring
    /// of 7 latency-bound steps. At DeepSeek's 8 of 256 experts the two move the same bytes.
    @Test func allToAllMovesFewerBytesThanAllGatherWhenTopKIsBelowTheRanks() throws {
        let a2a = try deployment("mixtral-8x7b", hardware: "nvidia-h100-sxm", dp: true)
        let agrs = try deployment("mixtral-8x7b", hardware: "nvidia-h100-sxm", dp: true, dispatch: .allGatherReduceScatter)
        for batch in [1, 256] {
            let x = decode(a2a, batch: batch).communication(in: a2a), y = decode(agrs, batch: batch).communication(in: agrs)
            let sent = { (c: CommunicationSummary) in c.lines.first!.bytesPerCall.value }
            #expect(y.total > x.total, "batch \(batch): all-to-all \(x.total.value) s, all-gather + reduce-scatter \(y.total.value) s")
            // All-gather: (n − 1)/n of every token; all-to-all: a device's tokens × k × (n − 1)/n.
            let agSent = sent(y) * 7 / 8, a2aSent = sent(x)
            if batch == 256 { #expect(abs(agSent / a2aSent - 4) < 1e-9) }
            #expect(x.lines.allSatisfy { $0.route.hasPrefix("all-to-all among 8 devices") })
            #expect(y.lines.map(\.name) == ["MoE dispatch (all-gather)", "MoE combine (reduce-scatter)"])
        }
    }

    @Test func dataParallelAttentionThatDoesNotFitIsOneLine() throws {
        for (model, tp, ep, message) in [("mixtral-8x7b", 8, 4, "expert parallelism must equal its 8 devices"),
                                         ("llama-3-8b", 2, 2, "needs a mixture-of-experts model")] {
            do {
                _ = try catalog.deployment(hardware: "nvidia-h100-sxm", model: model, tensorParallel: tp, expertParallel: ep, dataParallelAttention: true)
                Issue.record("\(model) tp \(tp) ep \(ep) accepted")
            } catch let e as InputError {
                #expect(e.message.contains(message) && !e.description.contains("\n"), "\(e)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }
}
