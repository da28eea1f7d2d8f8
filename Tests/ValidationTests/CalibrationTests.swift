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
    let c = try calibrator.run()
    #expect(c.attentionFLOPsPerSecond.isFinite && c.attentionFLOPsPerSecond > 0)
    #expect(c.kernels.map(\.weightType) == ["Q4_1", "Q8_0", "F32"])
    for k in c.kernels {
        #expect(k.computeFLOPsPerSecond.isFinite && k.computeFLOPsPerSecond > 0)
        #expect(k.smallRowsFLOPsPerSecond.isFinite && k.smallRowsFLOPsPerSecond > 0)
        #expect(k.gemvBytesPerSecond.isFinite && k.gemvBytesPerSecond > 0)
    }
    #expect(c.kernelOverheadSeconds >= 0 && c.kernelOverheadSeconds < 0.01)
    #expect(c.stepOverheadSeconds >= 0 && c.tinyLayerSeconds >= 0)
    // Bandwidth left unmeasured still yields a decodable profile, with a figure per kernel format
    // and the measured fixed costs.
    let profile = try HostProfileWriter.decode(HostProfileWriter.json(c))
    for key in ["q4_1", "q8_0", "int8", "fp32", "fp16"] { #expect(profile.peakFLOPsPerSecond[key] != nil, "\(key)") }
    #expect(profile.fixedCosts?.kernelOverheadSeconds == Double(String(format: "%.6g", max(c.tinyLayerSeconds / 7, c.kernelOverheadSeconds))))
    // Without a bandwidth there is no exposed-memory fit, and the profile leaves the class's estimate in force.
    #expect(c.exposedMemorySamples.isEmpty && profile.exposedMemoryFraction == nil)
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
