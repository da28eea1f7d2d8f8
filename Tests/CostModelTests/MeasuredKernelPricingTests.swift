import Diagnostics
import Foundation
import CostModel
import HardwareModel
import Testing

// Measured-kernel figures of a calibrated device profile that the roofline prices directly:
// the attention kernel's fixed time per sequence (`attentionKernel.perSequenceSeconds`) and the
// one-row weight-streaming rate per kernel format (`weightStreamBytesPerSecond`).

/// A device class with fall-offs and overheads, so that the stream-rate formulas are checked
/// with `halfBandwidthBytes` and `bandwidthFraction` in play (the ideal class zeroes them).
private let realisticClass = DeviceClassProfile(name: "test", computeFraction: 0.7, bandwidthFraction: 0.8,
                                                halfComputeRows: 4, halfBandwidthBytes: 1e6,
                                                kernelOverheadSeconds: 5e-6, stepOverheadSeconds: 20e-6, fittedOn: "test")

/// The H100 fixture's profile as a mutable JSON object.
private func h100Object() throws -> [String: Any] {
    let url = URL(fileURLWithPath: Fixtures.repoRoot + "/hardware-profiles/devices/nvidia-h100-sxm.json")
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

private func decodeDevice(_ object: [String: Any]) throws -> DeviceProfile {
    try StrictJSON.decode(DeviceProfile.self, from: JSONSerialization.data(withJSONObject: object), file: "x.json")
}

/// The `InputError` decoding `object` throws, or nil when it decodes.
private func decodingError(_ object: [String: Any]) -> InputError? {
    do { _ = try decodeDevice(object); return nil } catch let e as InputError { return e } catch { return nil }
}

private func withSource(_ object: [String: Any], for key: String) -> [String: Any] {
    var object = object
    var sources = object["sources"] as! [String: Any]
    sources[key] = ["kind": "measured", "reference": "measured on a test host by infersim calibrate"]
    object["sources"] = sources
    return object
}

// MARK: - attentionKernel.perSequenceSeconds

/// Each attention operator pays its kernel's fixed time once plus `perSequenceSeconds` per sequence
/// it serves: per decode token for decode attention, per prefill chunk for prefill attention.
/// Its compute and memory terms, and every other operator, are priced exactly as without it.
@Test func perSequenceAttentionTimeIsPaidPerDecodeTokenAndPerPrefillChunk() throws {
    let model = Fixtures.llama2_7b
    var device = Fixtures.calibratedH100
    device.attentionKernel = .init(decodeFLOPsPerSecond: 20e9, prefillFLOPsPerSecond: 50e9, overheadSeconds: 4e-6,
                                   perSequenceSeconds: 1e-6)
    let measured = try Deployment(model: model, device: device, deviceClass: Fixtures.idealClass)
    var noPerSequence = Fixtures.calibratedH100
    noPerSequence.attentionKernel = .init(decodeFLOPsPerSecond: 20e9, prefillFLOPsPerSecond: 50e9, overheadSeconds: 4e-6)
    let base = try Deployment(model: model, device: noPerSequence, deviceClass: Fixtures.idealClass)
    let plain = Fixtures.deployment(model)
    #expect(measured.rates.attentionPerSequenceSeconds == 1e-6)
    #expect(measured.rates.attentionOverheadSeconds == 4e-6)
    #expect(base.rates.attentionPerSequenceSeconds == 0)

    // 3 decodes and one 64-token prefill chunk; then 3 decodes and two chunks.
    for chunks in [1, 2] {
        var step = StepWorkload()
        for context in [1000, 500, 10] { step.addDecode(contextLength: context) }
        for _ in 0 ..< chunks { step.addPrefillChunk(tokens: 64, contextBefore: 0) }
        var seen: Set<OperatorKind> = []
        for op in Fixtures.operators(measured, step) {
            seen.insert(op.kind)
            let a = measured.cost(of: op), b = base.cost(of: op)
            switch op.kind {
            case .attentionDecode:
                #expect(op.sequences == 3)
                #expect(a.overhead.value == 4e-6 + 3 * 1e-6)
                #expect(a.compute == b.compute && a.memory == b.memory && a.exposedMemory == b.exposedMemory && a.atPeak == b.atPeak)
                #expect(a.compute.value.isClose(to: op.flops.value / 20e9))
                #expect(a.total.value.isClose(to: b.total.value + 3e-6))
            case .attentionPrefill:
                #expect(op.sequences == Double(chunks))
                #expect(a.overhead.value == 4e-6 + Double(chunks) * 1e-6)
                #expect(a.compute == b.compute && a.memory == b.memory && a.exposedMemory == b.exposedMemory && a.atPeak == b.atPeak)
                #expect(a.compute.value.isClose(to: op.flops.value / 50e9))
                #expect(a.total.value.isClose(to: b.total.value + Double(chunks) * 1e-6))
            default:
                #expect(op.sequences == 0, "\(op.name)")
                #expect(a == plain.cost(of: op), "\(op.name)")
                #expect(a == b, "\(op.name)")
            }
        }
        #expect(seen.contains(.attentionDecode) && seen.contains(.attentionPrefill))
        // Over the step: every layer's two attention operators pay 3 + chunks sequences more.
        let t = InferenceCostModel(deployment: measured).cost(of: step).duration.value
        let t0 = InferenceCostModel(deployment: base).cost(of: step).duration.value
        #expect((t - t0).isClose(to: Double(model.layers) * Double(3 + chunks) * 1e-6, relative: 1e-6))
    }
}

/// Without a per-sequence figure (a kernel from before it existed, or no measured kernel at all),
/// attention pays only its fixed time per operator, whatever the batch.
@Test func attentionWithoutPerSequenceTimePaysOnlyItsFixedTime() throws {
    var device = Fixtures.calibratedH100
    device.attentionKernel = .init(decodeFLOPsPerSecond: 20e9, prefillFLOPsPerSecond: 50e9, overheadSeconds: 4e-6)
    #expect(device.attentionKernel?.perSequenceSeconds == 0)
    let measured = try Deployment(model: Fixtures.llama2_7b, device: device, deviceClass: realisticClass)
    let plain = try Deployment(model: Fixtures.llama2_7b, device: Fixtures.calibratedH100, deviceClass: realisticClass)
    #expect(plain.rates.attentionPerSequenceSeconds == 0)
    var step = StepWorkload()
    for _ in 0 ..< 17 { step.addDecode(contextLength: 300) }
    step.addPrefillChunk(tokens: 100, contextBefore: 50)
    step.addPrefillChunk(tokens: 30, contextBefore: 0)
    var attention = 0
    for op in Fixtures.operators(measured, step) where op.kind == .attentionDecode || op.kind == .attentionPrefill {
        attention += 1
        #expect(op.sequences == (op.kind == .attentionDecode ? 17 : 2))
        #expect(measured.cost(of: op).overhead.value == 4e-6)
        #expect(plain.cost(of: op).overhead.value == realisticClass.kernelOverheadSeconds)
    }
    #expect(attention == 2)
}

/// The decode table (context-independent operators priced once per batch size) still gives the
/// same step prices to the bit with both measured figures present.
@Test func decodeTableGivesTheSamePricesWithPerSequenceAndStreamRates() throws {
    var device = Fixtures.calibratedH100
    device.attentionKernel = .init(decodeFLOPsPerSecond: 20e9, prefillFLOPsPerSecond: 50e9, overheadSeconds: 4e-6,
                                   perSequenceSeconds: 1e-6)
    device.weightStreamBytesPerSecond = ["fp16": 2e12]
    let d = try Deployment(model: Fixtures.llama3_8b, device: device, deviceClass: realisticClass)
    let plain = InferenceCostModel(deployment: d)
    let tabled = InferenceCostModel(deployment: d, decodeBatchTable: 64)
    for b in [1, 3, 17, 64, 65] {
        var s = StepWorkload()
        for i in 0 ..< b { s.addDecode(contextLength: 100 + 37 * i) }
        #expect(plain.cost(of: s) == tabled.cost(of: s), "batch \(b)")
        s.addPrefillChunk(tokens: 300, contextBefore: 20)
        #expect(plain.cost(of: s) == tabled.cost(of: s), "batch \(b) + prefill")
    }
}

@Test func perSequenceSecondsIsOptionalAndMustBeAFiniteNonNegativeNumber() throws {
    var object = withSource(try h100Object(), for: "attentionKernel")
    // Absent (profiles written before it existed): 0.
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 3e-6]
    let old = try decodeDevice(object)
    #expect(old.attentionKernel == .init(decodeFLOPsPerSecond: 1e9, prefillFLOPsPerSecond: 2e9, overheadSeconds: 3e-6,
                                         perSequenceSeconds: 0))
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 3e-6,
                                 "perSequenceSeconds": 8.5e-7]
    let decoded = try decodeDevice(object)
    #expect(decoded.attentionKernel?.perSequenceSeconds == 8.5e-7)
    #expect(decoded.attentionKernel?.overheadSeconds == 3e-6)
    // It survives an encode and a strict decode.
    let again = try StrictJSON.decode(DeviceProfile.self, from: JSONEncoder().encode(decoded), file: "again.json")
    #expect(again.attentionKernel == decoded.attentionKernel)
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 3e-6,
                                 "perSequenceSeconds": 0]
    #expect(try decodeDevice(object).attentionKernel?.perSequenceSeconds == 0)
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 3e-6,
                                 "perSequenceSeconds": -1e-6]
    let negative = decodingError(object)
    #expect(negative != nil)
    #expect(negative?.location == "$.attentionKernel.perSequenceSeconds", "\(String(describing: negative))")
    #expect(negative?.message.contains(">= 0") == true, "\(String(describing: negative))")
    // The overhead check still holds beside it.
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": -3e-6,
                                 "perSequenceSeconds": 1e-6]
    #expect(decodingError(object)?.location == "$.attentionKernel.overheadSeconds")
    // A misspelt key is still caught.
    object["attentionKernel"] = ["decodeFLOPsPerSecond": 1e9, "prefillFLOPsPerSecond": 2e9, "overheadSeconds": 3e-6,
                                 "perSequenceSecond": 1e-6]
    #expect(decodingError(object)?.location == "$.attentionKernel.perSequenceSecond")
}

// MARK: - weightStreamBytesPerSecond

/// The memory term of a weight GEMM on a device with a stream rate for its kernel format:
/// weight bytes at that rate, the rest (and the class's half-bandwidth length) at the tier's.
private func streamedMemory(_ op: Operator, rate: Double, _ d: Deployment) -> Double {
    let bandwidth = d.device.mainMemory.bandwidthBytesPerSecond * d.deviceClass.bandwidthFraction
    return op.weightBytes.value / rate + (op.activationBytes.value + op.kvBytes.value + d.deviceClass.halfBandwidthBytes) / bandwidth
}

/// With `weightStreamBytesPerSecond = ["fp16": X]` an FP16 deployment (GEMM kernel format fp16)
/// prices every weight GEMM's weight bytes at X; compute, overhead, exposed memory and every
/// operator that is not a weight GEMM are priced exactly as without it.
@Test func weightStreamRatePricesWeightGEMMsWeightBytesOnly() throws {
    let rate = 1.5e12
    for model in [Fixtures.llama2_7b, Fixtures.mixtral] {
        var device = Fixtures.calibratedH100
        device.weightStreamBytesPerSecond = ["fp16": rate]
        var exposedDevice = device
        exposedDevice.exposedMemoryFraction = 0.25
        var plainExposed = Fixtures.calibratedH100
        plainExposed.exposedMemoryFraction = 0.25
        for (streamDevice, plainDevice) in [(device, Fixtures.calibratedH100), (exposedDevice, plainExposed)] {
            let streamed = try Deployment(model: model, device: streamDevice, deviceClass: realisticClass)
            let plain = try Deployment(model: model, device: plainDevice, deviceClass: realisticClass)
            #expect(streamed.precision.gemmArithmetic(weightFormat: streamed.precision.weights) == .fp16)
            #expect(streamed.rates.layerGEMMs.weightStream == rate && streamed.rates.headGEMM.weightStream == rate)
            #expect(plain.rates.layerGEMMs.weightStream == nil)
            for batch in [1, 8, 512] {
                var step = StepWorkload()
                for _ in 0 ..< batch { step.addDecode(contextLength: 500) }
                step.addPrefillChunk(tokens: 64, contextBefore: 0)
                var gemms: Set<OperatorKind> = []
                for op in Fixtures.operators(streamed, step) {
                    let a = streamed.cost(of: op), b = plain.cost(of: op)
                    if op.kind.isWeightGEMM {
                        gemms.insert(op.kind)
                        #expect(op.arithmetic == .fp16)
                        #expect(a.memory.value.isClose(to: streamedMemory(op, rate: rate, streamed), relative: 1e-12),
                                "\(model.name) \(op.name) at batch \(batch)")
                        // The weights read slower than at 3.35 TB/s × 0.8.
                        #expect(a.memory > b.memory, "\(op.name)")
                        #expect(a.compute == b.compute && a.overhead == b.overhead && a.communication == b.communication)
                        #expect(a.exposedMemory == b.exposedMemory && a.atPeak == b.atPeak, "\(op.name)")
                        #expect(a.total.value.isClose(to: max(a.compute.value + a.exposedMemory.value, a.memory.value) + a.overhead.value))
                    } else {
                        #expect(a == b, "\(model.name) \(op.name) at batch \(batch)")
                    }
                }
                var expected: Set<OperatorKind> = [.qkvProjection, .outputProjection, .lmHead]
                expected.formUnion(model.moe == nil ? [.ffn] : [.moeRouter, .moeExperts])
                #expect(gemms == expected, "\(model.name)")
            }
        }
    }
}

/// The rate is keyed by the GEMM's kernel format: with Q4_1 layer weights and a Q8_0 LM head
/// under Q8 activations (the CPU executor's build), a `q4_1` rate prices the layers' GEMMs only,
/// a `q8_0` rate the LM head only, and a format no GEMM runs (`int8` for an FP16 deployment) changes
/// nothing at all.
@Test func weightStreamRateIsKeyedByKernelFormat() throws {
    let precision = Precision(weights: .q4_1, activations: .q8_0, kvCache: .fp16, embeddings: .q8_0)
    let model = Fixtures.llama3_8b
    func deployment(_ rates: [String: Double]?, precision: Precision) throws -> Deployment {
        var device = Fixtures.calibratedH100
        device.weightStreamBytesPerSecond = rates
        return try Deployment(model: model, device: device, deviceClass: realisticClass, precision: precision)
    }
    let plain = try deployment(nil, precision: precision)
    let q4 = try deployment(["q4_1": 20e9], precision: precision)
    let q8 = try deployment(["q8_0": 30e9], precision: precision)
    #expect(q4.rates.layerGEMMs.arithmetic == .q4_1 && q4.rates.layerGEMMs.weightStream == 20e9)
    #expect(q4.rates.headGEMM.arithmetic == .q8_0 && q4.rates.headGEMM.weightStream == nil)
    #expect(q8.rates.layerGEMMs.weightStream == nil && q8.rates.headGEMM.weightStream == 30e9)
    var step = StepWorkload()
    for _ in 0 ..< 4 { step.addDecode(contextLength: 200) }
    step.addPrefillChunk(tokens: 32, contextBefore: 0)
    var layerGEMMs = 0, heads = 0
    for op in Fixtures.operators(plain, step) {
        let b = plain.cost(of: op), a4 = q4.cost(of: op), a8 = q8.cost(of: op)
        switch op.kind {
        case .qkvProjection, .outputProjection, .ffn:
            layerGEMMs += 1
            #expect(op.arithmetic == .q4_1)
            #expect(a4.memory.value.isClose(to: streamedMemory(op, rate: 20e9, q4), relative: 1e-12), "\(op.name)")
            #expect(a4.compute == b.compute && a4.overhead == b.overhead && a4.exposedMemory == b.exposedMemory)
            #expect(a8 == b, "\(op.name)")
        case .lmHead:
            heads += 1
            #expect(op.arithmetic == .q8_0)
            #expect(a8.memory.value.isClose(to: streamedMemory(op, rate: 30e9, q8), relative: 1e-12))
            #expect(a8.compute == b.compute && a8.overhead == b.overhead)
            #expect(a4 == b)
        default:
            #expect(a4 == b && a8 == b, "\(op.name)")
        }
    }
    #expect(layerGEMMs == 3 && heads == 1)

    // An FP16 deployment runs fp16 GEMMs: an entry for another format changes no price.
    let fp16Plain = try deployment(nil, precision: Precision())
    let other = try deployment(["int8": 1e9, "q4_1": 1e9], precision: Precision())
    #expect(other.rates.layerGEMMs.weightStream == nil && other.rates.headGEMM.weightStream == nil)
    for op in Fixtures.operators(fp16Plain, step) {
        #expect(other.cost(of: op) == fp16Plain.cost(of: op), "\(op.name)")
    }
    #expect(InferenceCostModel(deployment: other).cost(of: step) == InferenceCostModel(deployment: fp16Plain).cost(of: step))
}

@Test func weightStreamRatesNeedASourceKnownFormatsAndPositiveRates() throws {
    var object = try h100Object()
    object["weightStreamBytesPerSecond"] = ["q4_1": 2.1e10, "q8_0": 3.7e10]
    // No source: rejected, naming the missing source.
    let unsourced = decodingError(object)
    #expect(unsourced != nil)
    #expect(unsourced?.message.contains("weightStreamBytesPerSecond") == true, "\(String(describing: unsourced))")
    object = withSource(object, for: "weightStreamBytesPerSecond")
    let decoded = try decodeDevice(object)
    #expect(decoded.weightStreamBytesPerSecond == ["q4_1": 2.1e10, "q8_0": 3.7e10])
    #expect(try decodeDevice(try h100Object()).weightStreamBytesPerSecond == nil)

    for (bad, what) in [(["q5_k": 2e10] as [String: Double], "unknown format"), (["fp16": 0], "> 0"), (["q4_1": -1e9], "> 0")] {
        object["weightStreamBytesPerSecond"] = bad
        let error = decodingError(object)
        #expect(error != nil, "\(bad)")
        #expect(error?.location == "$.weightStreamBytesPerSecond", "\(String(describing: error))")
        #expect(error?.message.contains(what) == true, "\(String(describing: error))")
    }
    // One bad entry among good ones is enough.
    object["weightStreamBytesPerSecond"] = ["q4_1": 2e10, "Q8_0": 3e10]
    #expect(decodingError(object) != nil)
    object["weightStreamBytesPerSecond"] = ["q4_1": 2e10, "q8_0": 0]
    #expect(decodingError(object) != nil)
}

// MARK: - activationElementsPerSecond

/// The FFN's elementwise operator prices its activation elements at the measured rate and the rest
/// of its FLOPs as before; every other operator, and every operator of a device without the
/// figure, is priced exactly as without it.
@Test func activationRatePricesTheFFNActivationElementsOnly() throws {
    let model = Fixtures.llama2_7b
    var device = Fixtures.calibratedH100
    device.activationElementsPerSecond = 5e8
    let measured = try Deployment(model: model, device: device, deviceClass: realisticClass)
    let plain = try Deployment(model: model, device: Fixtures.calibratedH100, deviceClass: realisticClass)
    #expect(measured.rates.activationElementsPerSecond == 5e8)
    #expect(plain.rates.activationElementsPerSecond == 0)
    var step = StepWorkload()
    for _ in 0 ..< 3 { step.addDecode(contextLength: 100) }
    step.addPrefillChunk(tokens: 61, contextBefore: 0)
    var seen = 0
    for op in Fixtures.operators(measured, step) {
        let a = measured.cost(of: op), b = plain.cost(of: op)
        guard op.activationElements > 0 else {
            #expect(a == b, "\(op.name)")
            continue
        }
        seen += 1
        #expect(op.kind == .elementwise)
        #expect(op.activationElements == 64 * Double(model.ffnSize))  // 3 decodes + 61 prompt tokens
        let r = plain.computeRates(op.arithmetic)
        let rest = (op.flops.value - op.activationElements) * (op.rows + realisticClass.halfComputeRows)
            / (r.peakFLOPsPerSecond * r.fraction * op.rows)
        #expect(a.compute.value.isClose(to: rest + op.activationElements / 5e8))
        #expect(a.compute.value > b.compute.value)
        #expect(a.memory == b.memory && a.overhead == b.overhead)
    }
    #expect(seen == 1)
}

@Test func activationRateMustBePositiveAndSourced() throws {
    var object = try h100Object()
    object["activationElementsPerSecond"] = 6e8
    #expect(decodingError(object)?.description.contains("activationElementsPerSecond") == true)
    object = withSource(object, for: "activationElementsPerSecond")
    #expect(try decodeDevice(object).activationElementsPerSecond == 6e8)
    for bad in [0.0, -1.0] {
        object["activationElementsPerSecond"] = bad
        #expect(decodingError(object) != nil, "\(bad)")
    }
    #expect(try decodeDevice(h100Object()).activationElementsPerSecond == nil)
}
