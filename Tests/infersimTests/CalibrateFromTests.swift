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

@Test func validateStepsPricesAHeldOutLogAndMatchesItsSchema() throws {
    let dir = NSTemporaryDirectory() + "/infersim-vs-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/steps.csv"
    try "prefill_tokens,prefill_sequences,decode_tokens,context_sum,context_max,time_s\n0,0,8,32768,4096,0.01\n2048,1,0,0,0,0.05\n"
        .write(toFile: path, atomically: true, encoding: .utf8)
    let r = try CLI.run(["validate", "--steps", path, "--hardware", "nvidia-h200", "--model-id", "llama-3.1-8b", "--engine", "pytorch-cudagraphs", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    try CLISurfaceTests.expectMatches(r.stdout, schema: "validate-steps", "validate --steps")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(json["execution_model"] as? String == "shapedKernels")
    #expect((json["rows"] as? [Any])?.count == 2)
}

@Test func shippedEnginesMatchTheirSchema() throws {
    let validator = try CLISurfaceTests.schema("engine")
    let dir = CLI.repoRoot + "/hardware-profiles/engines"
    for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".json") {
        let value = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
        #expect(try validator.violation(value) == nil, "\(name): \(try validator.violation(value) ?? "")")
    }
    let micro = try CLISurfaceTests.schema("microbench")
    let value = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CLI.repoRoot + "/data/measurements/h200-pytorch-microbench.json")))
    #expect(try micro.violation(value) == nil)
}
