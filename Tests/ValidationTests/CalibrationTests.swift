import Diagnostics
import Foundation
import HardwareModel
import Testing
@testable import Validation

@Test func calibratedProfileRoundTripsThroughStrictJSONAndTheDeviceDecoder() throws {
    let c = sampleCalibration()
    let text = HostProfileWriter.json(c)
    let profile = try HostProfileWriter.decode(text)
    #expect(profile.name == "host-calibrated")
    #expect(profile.deviceClass == "cpu")
    #expect(profile.mainMemory.bandwidthBytesPerSecond == 30e9)
    #expect(profile.mainMemory.capacityBytes == 16e9)
    #expect(profile.peakFLOPsPerSecond["int8"] == 200e9)  // max(200, 100) GFLOP/s
    #expect(profile.peakFLOPsPerSecond["fp32"] == 100e9)
    #expect(profile.sources["memoryTiers"]?.kind == .measured)
    #expect(profile.sources["peakFLOPsPerSecond"]?.reference.hasPrefix("measured by infersim calibrate on Test CPU \"quoted\"") == true)
    // Re-encoding the decoded profile and decoding again gives the same value.
    let again = try StrictJSON.decode(DeviceProfile.self, from: JSONEncoder().encode(profile), file: "re-encoded")
    #expect(again == profile)
}

@Test func profileIsWrittenAtomicallyAndNamedAfterItsFile() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/my-host.json"
    let written = try HostProfileWriter.write(sampleCalibration(), to: path)
    #expect(written.name == "my-host")
    let read = try StrictJSON.decode(DeviceProfile.self, contentsOf: path)
    #expect(read == written)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir)
    #expect(leftovers == ["my-host.json"])
}

@Test func writingIntoAMissingDirectoryIsAnInputError() {
    #expect(throws: InputError.self) { try HostProfileWriter.write(sampleCalibration(), to: "/nonexistent-dir-xyz/h.json") }
}

@Test func smallCalibrationRunMeasuresPositiveFiniteFigures() throws {
    let calibrator = smallCalibrator()
    var rounds: [Int] = []
    let c = try calibrator.run(afterRound: { rounds.append($0) })
    #expect(rounds == [0])
    #expect(c.attentionFLOPsPerSecond.isFinite && c.attentionFLOPsPerSecond > 0)
    #expect(c.attentionPerSequenceSeconds.isFinite && c.attentionPerSequenceSeconds >= 0)
    #expect(c.activationElementsPerSecond.isFinite && c.activationElementsPerSecond > 0)
    #expect(c.kernels.map(\.weightType) == ["Q4_1", "Q8_0", "F32"])
    for k in c.kernels {
        #expect(k.computeFLOPsPerSecond.isFinite && k.computeFLOPsPerSecond > 0)
        #expect(k.smallRowsFLOPsPerSecond.isFinite && k.smallRowsFLOPsPerSecond > 0)
        #expect(k.gemvBytesPerSecond.isFinite && k.gemvBytesPerSecond > 0)
        #expect(k.streamBytesPerSecond.isFinite && k.streamBytesPerSecond > 0)
        #expect(k.stackFixedSeconds > 0 && k.stackFixedSeconds < 0.01)
    }
    #expect(c.kernelOverheadSeconds >= 0 && c.kernelOverheadSeconds < 0.01)
    #expect(c.stepOverheadSeconds >= 0 && c.tinyLayerSeconds >= 0)
    // Bandwidth left unmeasured still yields a decodable profile, with a figure per kernel format
    // and the measured fixed costs.
    let profile = try HostProfileWriter.decode(HostProfileWriter.json(c))
    for key in ["q4_1", "q8_0", "int8", "fp32", "fp16"] { #expect(profile.peakFLOPsPerSecond[key] != nil, "\(key)") }
    let perOperator = max((c.tinyLayerSeconds - c.attentionOverheadSeconds - c.attentionPerSequenceSeconds) / 6, c.kernelOverheadSeconds)
    #expect(profile.fixedCosts?.kernelOverheadSeconds == Double(String(format: "%.6g", perOperator)))
    #expect(profile.weightStreamBytesPerSecond?["q4_1"] == Double(String(format: "%.6g", c.kernel("Q4_1")!.streamBytesPerSecond)))
    #expect(profile.weightStreamBytesPerSecond?["q8_0"] == Double(String(format: "%.6g", c.kernel("Q8_0")!.streamBytesPerSecond)))
    #expect(profile.activationElementsPerSecond == Double(String(format: "%.6g", c.activationElementsPerSecond)))
    #expect(profile.attentionKernel?.perSequenceSeconds == Double(String(format: "%.6g", c.attentionPerSequenceSeconds)))
    // Without a bandwidth there is no exposed-memory fit, and the profile leaves the class's estimate in force.
    #expect(c.exposedMemorySamples.isEmpty && profile.exposedMemoryFraction == nil)
}

/// The measured-only figures a calibration adds are written with their sources and read back.
@Test func measuredStreamActivationAndPerSequenceFiguresAreWritten() throws {
    var c = sampleCalibration()
    c.kernels[0].streamBytesPerSecond = 22e9
    c.kernels[0].stackFixedSeconds = 3.5e-6
    c.kernels[1].streamBytesPerSecond = 38e9
    c.activationElementsPerSecond = 6e8
    c.attentionPerSequenceSeconds = 1.5e-6
    c.tinyLayerSeconds = 30e-6
    let profile = try HostProfileWriter.decode(HostProfileWriter.json(c))
    #expect(profile.weightStreamBytesPerSecond == ["q4_1": 22e9, "q8_0": 38e9])
    #expect(profile.activationElementsPerSecond == 6e8)
    #expect(profile.attentionKernel?.perSequenceSeconds == 1.5e-6)
    for key in ["weightStreamBytesPerSecond", "activationElementsPerSecond", "attentionKernel", "fixedCosts"] {
        #expect(profile.sources[key]?.kind == .measured, "\(key)")
    }
    #expect(profile.notes?.contains("3.5 us of fixed time per stack layer") == true)
    // Fixed cost per operator: the tiny layer less the attention's own fixed time, over 6 operators.
    #expect(profile.fixedCosts?.kernelOverheadSeconds == Double(String(format: "%.6g", (30e-6 - 4e-6 - 1.5e-6) / 6)))
}

@Test func exposedMemoryFractionIsWrittenWithItsSamplesAndASource() throws {
    var c = sampleCalibration()
    c.exposedMemorySamples = [.init(weightType: "Q4_1", rows: 2, fraction: 0.3), .init(weightType: "Q8_0", rows: 4, fraction: 0.5)]
    c.exposedMemoryFraction = 0.4
    let profile = try HostProfileWriter.decode(HostProfileWriter.json(c))
    #expect(profile.exposedMemoryFraction == 0.4)
    #expect(profile.sources["exposedMemoryFraction"]?.kind == .measured)
    #expect(profile.notes?.contains("Q4_1 2 rows 0.30, Q8_0 4 rows 0.50") == true)
}

@Test func syntheticMatricesHaveTheExecutorsByteCounts() throws {
    let q4 = try SyntheticGGUF.weightMatrix(rows: 32, columns: 64, type: .q4_1, seed: 1)
    let q8 = try SyntheticGGUF.weightMatrix(rows: 32, columns: 64, type: .q8_0, seed: 1)
    let f32 = try SyntheticGGUF.weightMatrix(rows: 32, columns: 64, type: .f32, seed: 1)
    #expect(q4.byteCount == 32 * 64 * 20 / 32)
    #expect(q8.byteCount == 32 * 64 * 34 / 32)
    #expect(f32.byteCount == 32 * 64 * 4)
    #expect(q4.dequantizedRow(3).allSatisfy { $0.isFinite && abs($0) < 0.1 })
}
