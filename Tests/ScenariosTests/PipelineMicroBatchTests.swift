import Diagnostics
import DiscreteEvent
import Foundation
import Scenarios
@testable import Serving
import Testing

/// Llama-3-70B over 4 A100 stages, 64 sequences a batch; `rate` requests a second of short
/// prompts and long outputs (decode-heavy), or `prompt`/`output` medians as given.
private func pipelineScenario(microBatches: Int, rate: Double, requests: Int, prompt: Int = 32, output: Int = 512,
                              scheduler: String = "chunkedPrefill") -> String {
    """
    {"name": "pp4-mb\(microBatches)", "hardware": "nvidia-a100-sxm-80gb", "model": "llama-3-70b",
     "parallelism": {"tp": 1, "pp": 4, "microBatches": \(microBatches)}, "replicas": 1,
     "scheduler": {"kind": "\(scheduler)", "maxBatchSize": 64, "maxTokensPerStep": 512},
     "kvCache": {"kind": "paged", "blockSize": 16},
     "workload": {"generator": {"arrivals": {"poisson": {"ratePerSecond": \(rate)}},
        "promptTokens": {"lognormal": {"median": \(prompt), "p90": \(prompt * 3 / 2), "max": \(prompt * 2)}},
        "outputTokens": {"lognormal": {"median": \(output), "p90": \(output * 6 / 5), "max": \(output * 2)}},
        "requests": \(requests)}},
     "seed": 7}
    """
}

@Test func aFullPipelineFinishesAMicroBatchEveryStageTime() {
    // Four micro-batches of equal steps d through 4 stages: the first leaves at d, the others
    // d/4 apart; from then on each micro-batch cycles in d (the pipeline is full, no bubble).
    var stages = PipelineStages(PipelineConfiguration(stages: 4, microBatches: 4), physicalReplicas: 1)
    let d = SimDuration(nanoseconds: 400)
    let first = (0..<4).map { stages.book($0, duration: d, now: .zero).nanoseconds }
    #expect(first == [400, 500, 600, 700])
    // Micro-batch 0 starts again when it finished (t = 400): stage 0 has been free since 400.
    #expect(stages.book(0, duration: d, now: SimInstant(nanoseconds: 400)).nanoseconds == 400)
    #expect(stages.book(1, duration: d, now: SimInstant(nanoseconds: 500)).nanoseconds == 400)
    // A lone micro-batch on an idle pipeline takes its full step: latency still sums the stages.
    var idle = PipelineStages(PipelineConfiguration(stages: 4, microBatches: 4), physicalReplicas: 2)
    #expect(idle.book(5, duration: d, now: SimInstant(nanoseconds: 1000)).nanoseconds == 400)
    // A long step ahead holds a short one behind it at every stage (no overtaking).
    var mixed = PipelineStages(PipelineConfiguration(stages: 2, microBatches: 2), physicalReplicas: 1)
    #expect(mixed.book(0, duration: SimDuration(nanoseconds: 1000), now: .zero).nanoseconds == 1000)
    #expect(mixed.book(1, duration: SimDuration(nanoseconds: 100), now: .zero).nanoseconds == 1050)
}

@Test func pipelineMicroBatchesMultiplyThroughputAtHighLoad() throws {
    // At high load with the batch limit binding, four micro-batches keep the four stages busy:
    // at least 3× the tokens of one batch crossing the stages at a time.
    let runner = SimulationRunner()
    func run(_ m: Int, rate: Double, requests: Int) throws -> SimulationReport {
        try runner.run(file: try writeTemporary(pipelineScenario(microBatches: m, rate: rate, requests: requests)))
    }
    let one = try run(1, rate: 40, requests: 1000), four = try run(4, rate: 40, requests: 1000)
    let gain = four.summary.outputTokensPerSecond / one.summary.outputTokensPerSecond
    #expect(gain >= 3 && gain <= 4, "gain \(gain)")
    // Each slot has a quarter of the KV blocks and its own batch.
    let slots = four.outcome.replicas
    #expect(slots.count == 4 && slots.map { $0.microBatch?.microBatch } == [0, 1, 2, 3])
    #expect(slots[0].kvCache.totalBlocks == one.outcome.replicas[0].kvCache.totalBlocks / 4)
    #expect(slots.allSatisfy { $0.meanBatchSize > 32 })
    // At a light load (a request at a time) micro-batching changes nothing a request sees.
    let lone1 = try run(1, rate: 0.02, requests: 6), lone4 = try run(4, rate: 0.02, requests: 6)
    let tpot1 = lone1.summary.timePerOutputToken.mean.seconds, tpot4 = lone4.summary.timePerOutputToken.mean.seconds
    #expect(abs(tpot4 / tpot1 - 1) < 0.01, "\(tpot1) vs \(tpot4)")
}

@Test func microBatchesAreCheckedWhereTheyAreDecoded() throws {
    for (text, expected) in [("\"pp\": 4, \"microBatches\": 4", nil as String?),
                             ("\"pp\": 1, \"microBatches\": 2", "need pipeline stages"),
                             ("\"pp\": 4, \"microBatches\": 65", "at most 64"),
                             ("\"pp\": 4, \"microBatches\": 0", nil)] {
        let json = pipelineScenario(microBatches: 1, rate: 1, requests: 1)
            .replacingOccurrences(of: "\"pp\": 4, \"microBatches\": 1", with: text)
        let path = try writeTemporary(json)
        do {
            _ = try Scenario.load(path: path)
            #expect(expected == nil && !text.hasSuffix(" 0"), "\(text) accepted")
        } catch let e as InputError {
            #expect(e.location == "$.parallelism.microBatches", "\(e)")
            if let expected { #expect(e.message.contains(expected), "\(e)") }
        }
    }
    // Stages must split the layers evenly: 80 layers over 3 stages do not.
    let uneven = try writeTemporary(pipelineScenario(microBatches: 1, rate: 1, requests: 1).replacingOccurrences(of: "\"pp\": 4", with: "\"pp\": 3"))
    do { _ = try SimulationRunner().run(file: uneven); Issue.record("pp 3 of 80 layers accepted") } catch let e as InputError {
        #expect(e.location == "$.parallelism" && e.message.contains("does not divide the 80 layers"), "\(e)")
    }
}
