import Foundation
import HardwareModel
import Serving

/// The simulator's throughput benchmark: the Azure 2023 conversation trace (19,366 requests)
/// replayed back to back until `requests` requests, its arrival rate multiplied by
/// `rateMultiplier`, on `replicas` replicas of Llama-3-8B on one H100 SXM each, with
/// continuous batching and paged KV. Only the scenario lives here; timing is the caller's.
public enum ServingBenchmark {
    public static let tracePath = "data/traces/azure2023_AzureLLMInferenceTrace_conv.csv"
    public static let traceRows = 19_366

    public static func scenario(requests: Int, replicas: Int, rateMultiplier: Double, tracePath: String = tracePath) -> Scenario {
        let trace = TraceWorkloadSpec(format: .azure2023, path: tracePath, rateMultiplier: rateMultiplier,
                                      repeatCount: (requests + traceRows - 1) / traceRows, limit: requests)
        let json = """
        {"name": "bench", "hardware": "nvidia-h100-sxm", "model": "llama-3-8b", "replicas": \(replicas),
         "scheduler": {"kind": "continuousBatching", "maxBatchSize": 256, "maxTokensPerStep": 8192},
         "kvCache": {"kind": "paged", "blockSize": 16}, "router": "leastOutstanding",
         "workload": {"trace": {"format": "azure2023", "path": "x"}}, "seed": 1}
        """
        var scenario = try! JSONDecoder().decode(Scenario.self, from: Data(json.utf8))
        scenario.workload = .trace(trace)
        return scenario
    }
}
