import Foundation
import Testing

// `infersim calibrate --from`: a fit writes an engine profile that prices by shape; bad input
// exits 2 with one line and writes nothing.

@Test func calibrateFromMicrobenchmarksWritesAnEngineThatPrices() throws {
    let dir = NSTemporaryDirectory() + "/infersim-cal-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/engine.json"
    let r = try CLI.run(["calibrate", "--from", "data/measurements/h200-pytorch-microbench.json", "--hardware", "nvidia-h200",
                         "--engine", "pytorch-cudagraphs", "--output", out])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("median |error|"))
    let e = try CLI.run(["explain", "--hardware", "nvidia-h200", "--model", "llama-3-8b", "--weights", "bf16", "--activations", "bf16",
                         "--kv", "bf16", "--engine", out, "--step", "prefill=512,decode=64@1024", "--json"])
    #expect(e.status == 0, "\(e.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
    #expect(json["engine"] as? String == "pytorch-cudagraphs")
    try CLISurfaceTests.expectMatches(e.stdout, schema: "explain-step", "explain --step --engine")
}

@Test func calibrateFromBadInputExitsTwoAndWritesNothing() throws {
    let dir = NSTemporaryDirectory() + "/infersim-cal-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/engine.json"
    let cases: [(String, String, String)] = [
        ("steps.csv", "prefill_tokens,prefill_sequences,decode_tokens,context_sum,context_max,time_s\n0,0,4,4096,1024,abc\n", "line 2, column 6"),
        ("micro.json", "{\"device\": \"x\", \"sm_count\": 132, \"copy_GBps_read_plus_write\": 4000, \"gemm\": [], \"decode_attention\": []}", "$.gemm"),
        ("result.json", "{\"input_lens\": [1, 2], \"output_lens\": [1], \"ttfts\": [1, 1], \"itls\": [[], []], \"request_rate\": 1}", "$.output_lens"),
        ("other.json", "{\"x\": 1}", "neither"),
    ]
    for (name, body, expected) in cases {
        let path = dir + "/" + name
        try body.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["calibrate", "--from", path, "--hardware", "nvidia-h200", "--engine", "pytorch-cudagraphs", "--model", "llama-3-8b",
                             "--output", out])
        #expect(r.status == 2, "\(name): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(expected) && r.stderr.contains(name), "\(name): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
