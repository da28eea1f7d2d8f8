import CostModel
import Foundation
import HardwareModel
import Scenarios
import Testing

// The pricing seam (one `ExecutionPricer` per execution model) must not move a single GPU or
// CPU price. `legacyCost` and `legacyStep` below are the roofline as it was before the seam
// (`Deployment.cost(of:)` and `InferenceCostModel.cost(of:)` at commit 2e23f60), kept verbatim
// as the reference; every shipped roofline and measured-kernel device is priced both ways and
// compared to the bit. The one later change is energy on classes with a power model, which the
// reference prices by that model's documented formula.

private func legacyCost(_ d: Deployment, _ op: Operator) -> OperatorCost {
    let rates = d.rates
    let deviceClass = d.deviceClass
    let overhead = Seconds(rates.kernelOverheadSeconds)
    if op.kind.isCommunication {
        let n = Double(op.kind == .allReduce ? d.tensorParallel : 2)
        guard n > 1, let link = op.kind == .allReduce ? d.tensorLink : d.pipelineLink else {
            return OperatorCost(compute: .zero, memory: .zero, communication: .zero, overhead: .zero)
        }
        let time: Seconds
        if op.kind == .allReduce {
            let steps = 2 * (n - 1)
            time = Seconds(steps * link.latencySeconds
                + steps / n * op.communicationBytes.value / (link.bandwidthBytesPerSecondPerDirection * link.achievableFraction))
        } else {
            time = link.transferTime(op.communicationBytes)
        }
        return OperatorCost(compute: .zero, memory: .zero, communication: time, overhead: overhead)
    }
    let r: PricingRates.Compute
    var fixed = overhead
    switch op.kind {
    case .attentionDecode, .attentionPrefill:
        let attention = op.kind == .attentionDecode ? rates.attentionDecode : rates.attentionPrefill
        r = op.arithmetic == attention.arithmetic ? attention : d.computeRates(op.arithmetic)
        fixed = Seconds(rates.attentionOverheadSeconds + op.sequences * rates.attentionPerSequenceSeconds)
    default: r = d.computeRates(op.arithmetic)
    }
    let rows = max(op.rows, 1)
    let flops = op.flops.value
    let bytes = op.memoryBytes.value
    let activations = rates.activationElementsPerSecond > 0 ? op.activationElements : 0
    let streamed = r.weightStream != nil && op.kind.isWeightGEMM ? op.weightBytes.value : 0
    var compute = flops > 0 ? (flops - activations) * (rows + deviceClass.halfComputeRows) / (r.peakFLOPsPerSecond * r.fraction * rows) : 0
    if activations > 0 { compute += activations / rates.activationElementsPerSecond }
    var memory = bytes > 0 ? (bytes - streamed + deviceClass.halfBandwidthBytes) / (rates.memoryBandwidth * deviceClass.bandwidthFraction) : 0
    if streamed > 0, let stream = r.weightStream { memory += streamed / stream }
    let atPeak = max(flops / r.peakFLOPsPerSecond, bytes / rates.memoryBandwidth)
    var exposed = 0.0
    if rows > 1 && op.kind.isWeightGEMM { exposed = rates.exposedMemoryFraction * op.weightBytes.value / rates.memoryBandwidth }
    return OperatorCost(compute: Seconds(compute), memory: Seconds(memory), communication: .zero, overhead: fixed,
                        atPeak: Seconds(atPeak), exposedMemory: Seconds(exposed))
}

private func legacyStep(_ d: Deployment, _ step: StepWorkload) -> StepCost {
    var compute = 0.0, memory = 0.0, communication = 0.0, overhead = 0.0, busy = 0.0
    for part in [OperatorPart.contextIndependent, .contextDependent] {
        d.forEachOperator(in: step, part) { op in
            let c = legacyCost(d, op)
            let repeats = Double(op.repeats)
            let t = c.total.value * repeats
            switch c.boundBy {
            case .compute: compute += t
            case .memory: memory += t
            case .communication: communication += t
            case .overhead: overhead += t
            }
            if let p = d.deviceClass.power {
                // The power model (docs/notes/device-classes.md#power), added after the seam:
                // compute and memory weighted, capped at the operator's own time.
                let work = p.computeWeight * op.flops.value / d.computeRates(op.arithmetic).peakFLOPsPerSecond
                    + p.memoryWeight * op.memoryBytes.value / d.rates.memoryBandwidth
                busy += repeats * min(c.total.value - c.communication.value, work)
            } else {
                busy += repeats * min(max(c.compute.value, c.memory.value), c.atPeak.value)
            }
        }
    }
    overhead += d.rates.stepOverheadSeconds
    let duration = compute + memory + communication + overhead
    let power = d.device.power
    let heldIdle = power.idleWatts + (d.deviceClass.power?.heldIdleFraction ?? 0) * (power.peakWatts - power.idleWatts)
    let energy = heldIdle * duration * Double(d.deviceCount) + (power.peakWatts - power.idleWatts) * busy * Double(d.tensorParallel)
    let bound: Bound
    if compute >= max(memory, communication, overhead) { bound = .compute }
    else if memory >= max(communication, overhead) { bound = .memory }
    else if communication >= overhead { bound = .communication }
    else { bound = .overhead }
    return StepCost(duration: Seconds(duration), energy: Joules(energy), boundBy: bound)
}

private func steps() -> [StepWorkload] {
    var result: [StepWorkload] = []
    var s = StepWorkload(); s.addDecode(contextLength: 1); result.append(s)
    s = StepWorkload(); for i in 0..<32 { s.addDecode(contextLength: 200 + 37 * i) }; result.append(s)
    s = StepWorkload(); s.addPrefillChunk(tokens: 512, contextBefore: 0); result.append(s)
    s = StepWorkload(); s.addPrefillChunk(tokens: 256, contextBefore: 1024)
    for i in 0..<7 { s.addDecode(contextLength: 900 + i) }; result.append(s)
    return result
}

/// A calibrated CPU profile: every measured figure the measured-kernel pricer reads.
private func calibratedCPU(_ catalog: ProfileCatalog) throws -> DeviceProfile {
    var d = try catalog.device("host-cpu-zen5-2vcpu")
    d.attentionKernel = .init(decodeFLOPsPerSecond: 20e9, prefillFLOPsPerSecond: 50e9, overheadSeconds: 4e-6, perSequenceSeconds: 1e-6)
    d.weightStreamBytesPerSecond = ["q4_1": 21e9, "q8_0": 28e9]
    d.activationElementsPerSecond = 2.3e8
    d.exposedMemoryFraction = 0.4
    d.fixedCosts = .init(kernelOverheadSeconds: 3e-6, stepOverheadSeconds: 1e-4)
    return d
}

@Test func everyGPUAndCPUPriceIsUnchangedToTheBitByThePricingSeam() throws {
    let catalog = ProfileCatalog(root: Examples.repoRoot)
    var devices: [DeviceProfile] = []
    for id in catalog.deviceIDs {
        let device = try catalog.device(id)
        let model = device.executionModel(in: try catalog.deviceClass(device.deviceClass))
        if model == .roofline || model == .measuredKernels { devices.append(device) }
    }
    devices.append(try calibratedCPU(catalog))
    #expect(devices.count >= 18)
    var compared = 0
    for device in devices {
        let cls = try catalog.deviceClass(device.deviceClass)
        let link = try device.interconnect.scaleUp.map(catalog.interconnect)
        let out = try device.interconnect.scaleOut.map(catalog.interconnect)
        for modelID in ["llama-2-7b", "llama-3-70b", "mixtral-8x7b", "deepseek-v3", "smollm2-135m"] {
            let model = try catalog.model(modelID)
            for precision in [Precision(), Precision(weights: .q4_1, activations: .q8_0, kvCache: .fp16, embeddings: .q8_0, attention: .fp32),
                              Precision(weights: .fp8, activations: .fp8, kvCache: .fp8)] {
                for (tp, pp) in [(1, 1), (2, 1), (8, 1), (2, 2)] {
                    guard let d = try? Deployment(model: model, device: device, deviceClass: cls, tensorParallel: tp, pipelineParallel: pp,
                                                  precision: precision, scaleUpLink: link, scaleOutLink: out) else { continue }
                    for step in steps() {
                        d.forEachOperator(in: step) { op in
                            let new = d.cost(of: op), old = legacyCost(d, op)
                            #expect(new == old, "\(device.name) \(modelID) tp \(tp) pp \(pp) \(op.name)")
                        }
                        for table in [0, 64] {
                            let new = InferenceCostModel(deployment: d, decodeBatchTable: table).cost(of: step)
                            let old = legacyStep(d, step)
                            #expect(new.duration.value.bitPattern == old.duration.value.bitPattern, "\(device.name) \(modelID) tp \(tp)")
                            #expect(new.energy.value.bitPattern == old.energy.value.bitPattern, "\(device.name) \(modelID) tp \(tp)")
                            #expect(new.boundBy == old.boundBy)
                            compared += 1
                        }
                    }
                }
            }
        }
    }
    #expect(compared > 1000)
}
