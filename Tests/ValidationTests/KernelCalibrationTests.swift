import Diagnostics
import Foundation
import HardwareModel
import Testing
@testable import Validation

// `calibrate --from` on operator microbenchmarks: the shipped H200 fit is what the shipped file
// gives, the fit is tight, and a malformed file is refused with its file and field named.

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
private let microbench = root + "/data/measurements/h200-pytorch-microbench.json"

@Test func theShippedH200KernelsAreWhatTheMicrobenchmarksGive() throws {
    let fit = try KernelCalibration.fit([(microbench, KernelCalibration.read(microbench))])
    let engine = try StrictJSON.decode(EngineProfile.self, contentsOf: root + "/hardware-profiles/engines/pytorch-cudagraphs.json")
    let shipped = try #require(engine.kernels?["nvidia-h200"])
    func same(_ a: Double, _ b: Double, _ what: String) { #expect(abs(a / b - 1) < 1e-6, "\(what): refit \(a), shipped \(b)") }
    same(fit.gemm.fixedSeconds, shipped.gemm.fixedSeconds, "GEMM fixed")
    same(fit.gemm.bandwidthBytesPerSecond, shipped.gemm.bandwidthBytesPerSecond, "GEMM bandwidth")
    same(fit.gemm.overlapExponent, shipped.gemm.overlapExponent, "overlap exponent")
    same(fit.gemm.flopsPerSecond["bf16"]!, shipped.gemm.flopsPerSecond["bf16"]!, "bf16 rate")
    same(fit.decodeAttention.bandwidthBytesPerSecond, shipped.decodeAttention.bandwidthBytesPerSecond, "attention bandwidth")
    same(fit.decodeAttention.perBlockBytesPerSecond, shipped.decodeAttention.perBlockBytesPerSecond, "per-block rate")
    // 55 GEMM shapes in bf16 and fp8, the two 8192³ products and 6 attention points.
    #expect(fit.provenance.points == 118)
    #expect(fit.provenance.medianAbsError < 0.06)
    // Physical sanity: streaming below the 4.8 TB/s datasheet, bf16 below its 989.5 TFLOP/s.
    #expect(fit.gemm.bandwidthBytesPerSecond < 4.8e12 && fit.gemm.bandwidthBytesPerSecond > 3.5e12)
    #expect(fit.gemm.flopsPerSecond["bf16"]! < 989.5e12 && fit.gemm.flopsPerSecond["fp8"]! < 1979e12)
    // 112 GEMM points pin their five parameters; six attention points pin the bandwidth but
    // leave the small-batch figures (fixed time, per-block rate) loose, and the fit says so.
    for (name, p) in fit.provenance.parameters where p.how == .fitted {
        let se = try #require(p.relativeStandardError, "\(name) has no uncertainty")
        #expect(se < (name.hasPrefix("gemm") ? 0.2 : name.hasSuffix("bandwidthBytesPerSecond") ? 0.1 : 1), "\(name) ± \(se)")
    }
}

@Test func malformedMicrobenchmarksAreRefusedWithFileAndField() throws {
    let text = try String(contentsOfFile: microbench, encoding: .utf8)
    let dir = NSTemporaryDirectory() + "/infersim-micro-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    func message(_ body: String) -> String {
        let path = dir + "/m.json"
        try? body.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            let file = try KernelCalibration.read(path)
            _ = try KernelCalibration.fit([(path, file)])
            return ""
        } catch let e as InputError { return e.description } catch { return "\(error)" }
    }
    var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    func render(_ o: [String: Any]) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: o), as: UTF8.self) }

    var missing = object
    missing.removeValue(forKey: "sm_count")
    #expect(message(render(missing)).contains("sm_count"))

    var fewer = object
    fewer["decode_attention"] = Array((object["decode_attention"] as! [Any]).prefix(2))
    #expect(message(render(fewer)).contains("$.decode_attention"))
    #expect(message(render(fewer)).contains("found 2"))

    var negative = object
    var gemms = object["gemm"] as! [[String: Any]]
    gemms[3]["bf16_s"] = -1
    negative["gemm"] = gemms
    #expect(message(render(negative)).contains("$.gemm[3].bf16_s"))

    // NaN is not JSON: the syntax check names the line.
    let nan = text.replacingOccurrences(of: "\"bf16_s\": 2.7264000847935676e-05", with: "\"bf16_s\": NaN")
    #expect(nan != text)
    #expect(message(nan).contains("m.json"))

    object["gemm_extra"] = 1
    #expect(message(render(object)).contains("unknown key"))
}
