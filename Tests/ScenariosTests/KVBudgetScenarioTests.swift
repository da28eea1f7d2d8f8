import CostModel
import Foundation
import HardwareModel
import Scenarios
import Serving
import Testing

/// StreamingLLM at 4k on a 32k-context Llama-3-8B workload: a decode step's attention reads 8×
/// less KV (the arithmetic: `(B·32,768 + B) / (B·4,096 + B)`), the step gets cheaper, and the
/// replica's cache holds 8× the sequences.
@Test func aStreamingBudgetOnLlama3CutsTheDecodeStepAndRaisesTheBatch() throws {
    let catalog = ProfileCatalog(root: Examples.repoRoot)
    let d = try catalog.deployment(hardware: "nvidia-h100-sxm", model: "llama-3-8b")
    let model = InferenceCostModel(deployment: d)
    var full = StepWorkload(), kept = StepWorkload()
    for _ in 0..<16 { full.addDecode(contextLength: 32_768); kept.addDecode(contextLength: 4096) }
    var a: Operator?, b: Operator?
    d.forEachOperator(in: full) { if $0.kind == .attentionDecode { a = $0 } }
    d.forEachOperator(in: kept) { if $0.kind == .attentionDecode { b = $0 } }
    #expect(abs(a!.kvBytes.value / b!.kvBytes.value - Double(16 * 32_768 + 16) / Double(16 * 4096 + 16)) < 1e-12)
    #expect(model.cost(of: kept).duration.value < model.cost(of: full).duration.value * 0.6)

    // The scenario wires the budget into the replica's cache.
    let json = """
    {"hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "scheduler": {"kind": "chunkedPrefill", "maxBatchSize": 256, "maxTokensPerStep": 4096},
     "kvCache": {"kind": "paged", "maxSequenceTokens": 8192, "budget": {"streamingLLM": {"sinkTokens": 4, "windowTokens": 4092}}},
     "workload": {"generator": {"arrivals": {"poisson": {"ratePerSecond": 1}}, "promptTokens": {"fixed": {"tokens": 6000}}, "outputTokens": {"fixed": {"tokens": 100}}, "requests": 5}},
     "seed": 1}
    """
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("budget-\(UUID().uuidString).json").path
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let scenario = try Scenario.load(path: path)
    let replica = try ReplicaResolvers.catalog(root: Examples.repoRoot)(scenario, path)
    let config = try scenario.clusterConfiguration(replica: replica, file: path)
    #expect(config.kvCache.budget == .window(sinks: 4, window: 4092))
    // An 8,192-token sequence holds 4,096 tokens: twice as many fit the same cache.
    var kv = PagedBlocks(configuration: config.kvCache)
    var table = RequestTable()
    var admitted = 0
    while true {
        let slot = table.insert(RequestSpec(id: admitted, arrival: .zero, promptTokens: 8000, outputTokens: 192))
        guard kv.admit(slot, resuming: false, table: &table) else { break }
        admitted += 1
    }
    let watermark = Int(config.kvCache.watermark * Double(config.kvCache.totalUnits))
    #expect(admitted == (config.kvCache.totalUnits - watermark) / 256)
}
