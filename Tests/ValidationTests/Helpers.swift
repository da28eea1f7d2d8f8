import CostModel
import CPUExecutor
import DiscreteEvent
import Foundation
import GGUF
import HardwareModel
import Serving
import TestSupport
@testable import Validation

/// A calibration with round, plausible numbers (no measurement).
func sampleCalibration(threads: Int = 2) -> HostCalibration {
    HostCalibration(
        cpuModel: "Test CPU \"quoted\"", threads: threads, memoryCapacityBytes: 16e9,
        readBandwidthOneThread: 20e9, readBandwidthAllThreads: 30e9,
        kernels: [
            .init(weightType: "Q4_1", computeFLOPsPerSecond: 200e9, smallRowsFLOPsPerSecond: 100e9, gemvBytesPerSecond: 25e9),
            .init(weightType: "Q8_0", computeFLOPsPerSecond: 220e9, smallRowsFLOPsPerSecond: 110e9, gemvBytesPerSecond: 27e9),
            .init(weightType: "F32", computeFLOPsPerSecond: 100e9, smallRowsFLOPsPerSecond: 60e9, gemvBytesPerSecond: 28e9),
        ],
        attentionFLOPsPerSecond: 40e9, attentionPrefillFLOPsPerSecond: 60e9, attentionOverheadSeconds: 4e-6, attentionPrefillRows: 512, attentionPositions: 512,
        computeRows: 128, smallRows: 8, kernelOverheadSeconds: 2e-6, stepOverheadSeconds: 20e-6, tinyLayerSeconds: 15e-6)
}

/// A calibrator over tiny shapes, one round, no bandwidth run: seconds, not minutes.
func smallCalibrator() -> HostCalibrator {
    var calibrator = HostCalibrator(threads: 1, repetitions: 1)
    calibrator.measureBandwidth = false
    calibrator.gemvShape = (64, 256)
    calibrator.computeShape = (64, 128, 8, 2)
    calibrator.warmUpSeconds = 0
    calibrator.rounds = 1
    calibrator.attentionShape = (4, 2, 32, 64, 2)
    calibrator.evictionBytes = 1 << 16
    calibrator.layerShape = (64, 128, 2, 1, 32)
    calibrator.stackLayers = 2
    return calibrator
}

let cpuClass = DeviceClassProfile(name: "cpu", computeFraction: 1, bandwidthFraction: 0.9, halfComputeRows: 4,
                                  halfBandwidthBytes: 200_000, kernelOverheadSeconds: 2e-6, stepOverheadSeconds: 20e-6,
                                  fittedOn: "test values")

/// A TinyLlama with SmolLM2's encodings (Q4_1 layers, Q8_0 tied embedding).
func tinyModel(seed: UInt64 = 5) throws -> LlamaModel {
    let config = TinyLlamaConfig(blockCount: 2, embeddingLength: 64, headCount: 4, headCountKV: 2, feedForwardLength: 128,
                                 contextLength: 128, weightType: .q4_1, embeddingType: .q8_0)
    return try LlamaModel(file: GGUFFile(bytes: TinyLlama.make(seed: seed, config: config)))
}

func tinyDeployment(_ model: LlamaModel) throws -> Deployment {
    let device = try HostProfileWriter.decode(HostProfileWriter.json(sampleCalibration()))
    let profile = try ModelValidation.modelProfile(from: model.config, name: "tiny-llama")
    return try Deployment(model: profile, device: device, deviceClass: cpuClass, precision: ModelValidation.executorPrecision())
}

func request(_ id: Int, at seconds: Double, prompt: Int, output: Int) -> RequestSpec {
    RequestSpec(id: id, arrival: SimInstant(nanoseconds: Int64(seconds * 1e9)), promptTokens: prompt, outputTokens: output)
}

func temporaryDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "validation-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
