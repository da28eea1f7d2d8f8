import Diagnostics
import CPUExecutor
import Foundation
import HardwareModel
import Testing
@testable import Validation

/// A clock that advances by `step` on every read: every timed run takes `step`, whatever it
/// did, as on a host whose cores are taken by other work for whole time slices.
final class SteppingClock: ExecutorClock, @unchecked Sendable {
    let step: UInt64
    var now: UInt64 = 0
    init(step: UInt64) { self.step = step }
    func nowNanoseconds() -> UInt64 {
        now += step
        return now
    }
}

@Test func aCalibrationFromStalledTimingsIsRefusedAndNothingIsWritten() throws {
    var calibrator = smallCalibrator()
    calibrator.clock = SteppingClock(step: 500_000_000)  // every run "takes" 0.5 s
    let c = try calibrator.run()
    let problems = c.sanityProblems
    #expect(problems.contains { $0.hasPrefix("attention overhead per layer is 0.25 s") }, "\(problems)")
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/host.json"
    let error = try #require(throws: InputError.self) { try HostProfileWriter.write(c, to: path) }
    #expect(error.file == path)
    #expect(error.message.hasPrefix("calibration refused, nothing written: "))
    #expect(!error.description.contains("\n"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
}

@Test func negativeExposedMemoryAndAHugeAttentionOverheadAreRefused() throws {
    var c = sampleCalibration()
    #expect(c.sanityProblems.isEmpty, "\(c.sanityProblems)")
    c.exposedMemorySamples = [.init(weightType: "Q4_1", rows: 2, fraction: -56), .init(weightType: "Q8_0", rows: 4, fraction: 0.4)]
    c.attentionFLOPsPerLayer = 4 * 9 * 64 * 512        // 1.2 MFLOP: 29 us at 40 GFLOP/s
    c.attentionOverheadSeconds = 0.0017                 // 1.7 ms per layer, 58× the kernel: allowed
    #expect(c.sanityProblems.count == 1)
    #expect(c.sanityProblems.first?.contains("exposed-memory") == true)
    c.attentionOverheadSeconds = 0.004                  // 137× the kernel
    #expect(c.sanityProblems.contains { $0.hasPrefix("attention overhead") })
    c.kernels[0].gemvBytesPerSecond = .nan
    #expect(c.sanityProblems.contains { $0.contains("GEMV bandwidth is nan") })
}

@Test func spreadIsMaxMinusMinOverMedian() {
    #expect(HostNoise.spread([1]) == 0)
    #expect(HostNoise.spread([1, 2, 3]) == 1)
    #expect(abs(HostNoise.spread([10, 11, 12, 13]) - 3 / 11.5) < 1e-12)
    #expect(HostNoise.spreadLine([0.5, 0.6, 0.7], what: "x").hasPrefix("warning:"))
    #expect(!HostNoise.spreadLine([0.01, 0.02], what: "x").hasPrefix("warning:"))
}
