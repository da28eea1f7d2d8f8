import Diagnostics
import Foundation
import CostModel
import HardwareModel
import Testing

@Suite struct RooflineTests {
    @Test func llama3_8bPrefillOf2048TokensIsComputeBoundOnH100() {
        let model = InferenceCostModel(deployment: Fixtures.deployment(Fixtures.llama3_8b))
        var step = StepWorkload()
        step.addPrefillChunk(tokens: 2048, contextBefore: 0)
        #expect(model.cost(of: step).boundBy == .compute)
    }

    @Test func decodeAtBatchOneIsMemoryBoundAndTurnsComputeBoundAtTheRidge() {
        let d = Fixtures.deployment(Fixtures.llama3_8b)
        let model = InferenceCostModel(deployment: d)
        func decode(_ b: Int) -> StepCost {
            var s = StepWorkload()
            for _ in 0..<b { s.addDecode(contextLength: 128) }
            return model.cost(of: s)
        }
        #expect(decode(1).boundBy == .memory)
        // Weight GEMMs have intensity ≈ batch FLOP/B at fp16 (2·B FLOPs per 2-byte weight);
        // the H100's ridge is 989.4e12 / 3.35e12 ≈ 295 FLOP/B. Short contexts keep attention small.
        #expect(decode(128).boundBy == .memory)
        #expect(decode(1024).boundBy == .compute)
    }

    @Test func batchOneDecodeTimeIsTheWeightReadAtPeakBandwidth() {
        // With an ideal device class, decode at batch 1 and a tiny context costs the weight bytes over bandwidth.
        let d = Fixtures.deployment(Fixtures.llama2_7b)
        var s = StepWorkload()
        s.addDecode(contextLength: 1)
        let t = InferenceCostModel(deployment: d).cost(of: s).duration.value
        // Weights read by a decode step: every layer and the LM head (the embedding table is only indexed).
        let perLayer: Double = 4.0 * 4096 * 4096 + 3.0 * 4096 * 11_008
        let floor = (32 * perLayer + 4096.0 * 32_000) * 2 / 3.35e12
        #expect(t > floor * 0.999 && t < floor * 1.01)
    }

    @Test func llama3_70bTP2DecodeCannotBeatTwentyOneMillisecondsPlusAllReduces() {
        let d = Fixtures.deployment(Fixtures.llama3_70b, tp: 2)
        let model = InferenceCostModel(deployment: d)
        var s = StepWorkload()
        s.addDecode(contextLength: 128)
        let b = model.breakdown(of: s)
        // 70.6 GB per device / 3.35 TB/s ≈ 21 ms.
        let floor = d.weightsPerDevice.value / 3.35e12
        #expect(floor > 0.0205 && floor < 0.0215)
        let comm = b.operators.filter { $0.op.kind == .allReduce }.reduce(0.0) { $0 + $1.totalTime.value }
        // 160 all-reduces of 16 KB: 2·(n−1) = 2 latency-bound steps of 2 µs each: ≥ 0.64 ms.
        #expect(comm > 160 * 2 * 2e-6)
        #expect(b.memoryFloor.value > 0.0205)
        #expect(b.cost.duration.value >= b.memoryFloor.value + comm)
        // A single device holding 140 GB at 3 TB/s would need ~46 ms: ~20 tokens/s.
        let single = Fixtures.llama3_70b.parameterCount * 2 / 3.0e12
        #expect(single > 0.045 && single < 0.048)
    }

    @Test func llama3_70bDoesNotFitOneH100AndSaysByHowMuch() {
        let d = Fixtures.deployment(Fixtures.llama3_70b)
        let plan = d.memoryPlan(maxStepTokens: 128, maxLogitRows: 1)
        #expect(!plan.weightsFit)
        // 141.1 GB of weights (+ workspace) against 72 GB usable: ~69 GB short.
        #expect(plan.shortfall.value > 68e9 && plan.shortfall.value < 71e9)
    }

    @Test func batch64At2kContextDoesNotFitTwoH100sBesideTheWeights() {
        let model = InferenceCostModel(deployment: Fixtures.deployment(Fixtures.llama3_70b, tp: 2))
        let p = model.predictStaticBatch(batch: 64, inputTokens: 2048 - 128, outputTokens: 128)
        #expect(!p.fits)
        #expect(p.maxBatch < 64)
    }

    @Test func stepCostIsMonotoneInWork() {
        let model = InferenceCostModel(deployment: Fixtures.deployment(Fixtures.llama3_8b, deviceClass: Fixtures.idealClass))
        var previous = 0.0
        for b in [1, 2, 4, 8, 16, 64, 256] {
            var s = StepWorkload()
            for _ in 0..<b { s.addDecode(contextLength: 512) }
            let t = model.cost(of: s).duration.value
            #expect(t >= previous)
            previous = t
        }
    }

    @Test func decodeTableGivesTheSamePricesToTheBit() {
        // The simulator's table of context-independent decode operators must not change any price.
        for (model, tp) in [(Fixtures.llama3_8b, 1), (Fixtures.llama3_70b, 4), (Fixtures.mixtral, 2)] {
            let d = Fixtures.deployment(model, tp: tp)
            let plain = InferenceCostModel(deployment: d)
            let tabled = InferenceCostModel(deployment: d, decodeBatchTable: 64)
            for b in [1, 3, 17, 64, 65, 200] {
                var s = StepWorkload()
                for i in 0 ..< b { s.addDecode(contextLength: 100 + 37 * i) }
                #expect(plain.cost(of: s) == tabled.cost(of: s), "\(model.name) batch \(b)")
                var mixed = s
                mixed.addPrefillChunk(tokens: 300, contextBefore: 20)
                #expect(plain.cost(of: mixed) == tabled.cost(of: mixed), "\(model.name) batch \(b) + prefill")
            }
        }
    }

    @Test func decodeRunGivesEachStepsPriceToTheBit() {
        // Decode fast-forward prices a run of steps at once; each must equal `cost(of:)` of its step.
        for (model, tp) in [(Fixtures.llama3_8b, 1), (Fixtures.llama3_70b, 4), (Fixtures.mixtral, 2)] {
            let d = Fixtures.deployment(model, tp: tp)
            for costModel in [InferenceCostModel(deployment: d), InferenceCostModel(deployment: d, decodeBatchTable: 64)] {
                for b in [1, 17, 64, 65] {
                    var s = StepWorkload()
                    for i in 0 ..< b { s.addDecode(contextLength: 100 + 37 * i) }
                    var mixed = s
                    mixed.addPrefillChunk(tokens: 300, contextBefore: 20)
                    for base in [s, mixed] {
                        var run: [StepCost] = []
                        costModel.costs(ofDecodeRun: base, contextGrowth: b, count: 40, into: &run)
                        #expect(run.count == 40)
                        for (i, cost) in run.enumerated() {
                            var step = base
                            step.decodeContextTokens += (i + 1) * b
                            #expect(cost == costModel.cost(of: step), "\(model.name) batch \(b) step \(i + 1)")
                        }
                    }
                }
            }
        }
    }
}

/// A device's measured attention kernel prices the attention operators (decode at its decode
/// rate, prefill at its prefill rate, each plus its overhead) and nothing else; without one,
/// attention is priced as before.
@Test func measuredAttentionKernelPricesAttentionOnly() throws {
    var device = Fixtures.calibratedH100
    device.attentionKernel = .init(decodeFLOPsPerSecond: 20e9, prefillFLOPsPerSecond: 50e9, overheadSeconds: 4e-6)
    let model = Fixtures.llama2_7b
    let measured = try Deployment(model: model, device: device, deviceClass: Fixtures.idealClass)
    let plain = Fixtures.deployment(model)
    var step = StepWorkload()
    step.addDecode(contextLength: 1000)
    step.addPrefillChunk(tokens: 64, contextBefore: 0)
    for op in Fixtures.operators(measured, step) {
        let a = measured.cost(of: op), b = plain.cost(of: op)
        switch op.kind {
        case .attentionDecode:
            #expect(a.compute.value.isClose(to: op.flops.value / 20e9))
            #expect(a.overhead.value == 4e-6)
        case .attentionPrefill:
            #expect(a.compute.value.isClose(to: op.flops.value / 50e9))
            #expect(a.overhead.value == 4e-6)
        default:
            #expect(a == b, "\(op.name)")
        }
    }
}

@Test func attentionKernelNeedsASourceAndPositiveRates() throws {
    let url = URL(fileURLWithPath: Fixtures.repoRoot + "/hardware-profiles/devices/nvidia-h100-sxm.json")
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 0]
    var data = try JSONSerialization.data(withJSONObject: object)
    #expect(throws: InputError.self) { try StrictJSON.decode(DeviceProfile.self, from: data, file: "x.json") }
    var sources = object["sources"] as! [String: Any]
    sources["attentionKernel"] = ["kind": "measured", "reference": "measured on a test host by infersim calibrate"]
    object["sources"] = sources
    data = try JSONSerialization.data(withJSONObject: object)
    let decoded = try StrictJSON.decode(DeviceProfile.self, from: data, file: "x.json")
    #expect(decoded.attentionKernel?.prefillFLOPsPerSecond == 2e9)
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 0, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 0]
    data = try JSONSerialization.data(withJSONObject: object)
    #expect(throws: InputError.self) { try StrictJSON.decode(DeviceProfile.self, from: data, file: "x.json") }
}

/// A device's exposed-memory fraction adds `fraction · weight bytes / peak bandwidth` to the
/// compute of weight GEMMs with more than one row, before the `max` with memory; one-row GEMMs,
/// attention and every other operator are priced as without it.
@Test func exposedMemoryFractionPricesMultiRowWeightGEMMsOnly() throws {
    var device = Fixtures.calibratedH100
    device.exposedMemoryFraction = 0.5
    let model = Fixtures.llama2_7b
    let exposed = try Deployment(model: model, device: device, deviceClass: Fixtures.idealClass)
    let plain = Fixtures.deployment(model)
    let bandwidth = device.mainMemory.bandwidthBytesPerSecond
    for batch in [1, 8, 512] {
        var step = StepWorkload()
        for _ in 0 ..< batch { step.addDecode(contextLength: 500) }
        for op in Fixtures.operators(exposed, step) {
            let a = exposed.cost(of: op), b = plain.cost(of: op)
            if op.kind.isWeightGEMM && op.rows > 1 {
                let extra = 0.5 * op.weightBytes.value / bandwidth
                #expect(a.exposedMemory.value.isClose(to: extra), "\(op.name) at batch \(batch)")
                #expect(a.total.value.isClose(to: max(b.compute.value + extra, b.memory.value) + b.overhead.value))
                #expect(a.total >= b.total)
            } else {
                #expect(a == b, "\(op.name) at batch \(batch)")
            }
        }
    }
}

@Test func exposedMemoryFractionNeedsASourceAndAFraction() throws {
    let url = URL(fileURLWithPath: Fixtures.repoRoot + "/hardware-profiles/devices/nvidia-h100-sxm.json")
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    object["exposedMemoryFraction"] = 0.4
    var data = try JSONSerialization.data(withJSONObject: object)
    #expect(throws: InputError.self) { try StrictJSON.decode(DeviceProfile.self, from: data, file: "x.json") }
    var sources = object["sources"] as! [String: Any]
    sources["exposedMemoryFraction"] = ["kind": "measured", "reference": "measured on a test host by infersim calibrate"]
    object["sources"] = sources
    data = try JSONSerialization.data(withJSONObject: object)
    #expect(try StrictJSON.decode(DeviceProfile.self, from: data, file: "x.json").exposedMemoryFraction == 0.4)
    object["exposedMemoryFraction"] = 1.5
    data = try JSONSerialization.data(withJSONObject: object)
    #expect(throws: InputError.self) { try StrictJSON.decode(DeviceProfile.self, from: data, file: "x.json") }
}
