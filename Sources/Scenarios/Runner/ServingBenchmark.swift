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

    public enum Pricing: String, CaseIterable, Sendable {
        case roofline, closedForm
    }

    /// A fixed closed-form replica for timing the simulator alone: 5 ms + 60 µs a token +
    /// 0.06 µs a context token, 2M KV tokens. Round numbers of the order of an 8B model on one
    /// H100 (not fitted to anything); use `roofline` for predictions.
    public static let closedFormResolver: ReplicaResolver = { _, _ in
        ReplicaModel(costModel: LinearStepCostModel(fixed: Seconds(5e-3), perToken: Seconds(60e-6), perContextToken: Seconds(6e-8)),
                     kvBytesPerToken: 131_072, kvCapacityBytes: 131_072 * 2_000_000, idlePowerWatts: 100)
    }

    /// With `prefillReplicas`, that many of the replicas form a prefill pool and the rest a decode
    /// pool (disaggregated serving over the H100's InfiniBand link).
    public static func scenario(requests: Int, replicas: Int, rateMultiplier: Double, tracePath: String = tracePath,
                                prefillReplicas: Int? = nil) -> Scenario {
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
        if let p = prefillReplicas {
            precondition(p >= 1 && p < replicas, "a prefill pool needs 1...replicas-1 replicas")
            scenario.disaggregation = Scenario.DisaggregationSpec(prefillReplicas: p, decodeReplicas: replicas - p)
        }
        return scenario
    }
}
