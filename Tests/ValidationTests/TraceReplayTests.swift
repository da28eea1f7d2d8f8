import CostModel
import CPUExecutor
import Foundation
import Serving
import Testing
@testable import Validation

/// A backend that takes a fixed time per pass and records what it was asked to run.
struct RecordingBackend: ServingBackend {
    var now: Double = 0
    var passes: [(decodes: Int, prefillTokens: Int)] = []
    var live: Set<Int> = []
    mutating func wait(until seconds: Double) { now = max(now, seconds) }
    mutating func prefill(sequence: Int, tokens: Int, contextBefore: Int) throws {
        live.insert(sequence)
        passes.append((0, tokens))
        now += 0.01
    }
    mutating func decode(sequences: [Int], contexts: [Int]) throws {
        precondition(Set(sequences).count == sequences.count)
        passes.append((sequences.count, 0))
        now += 0.005
    }
    mutating func release(sequence: Int) { live.remove(sequence) }
}

@Test func serveTraceOnTinyLlamaCompletesEveryRequestWithAllItsTokens() throws {
    let model = try tinyModel()
    let trace = [request(0, at: 0, prompt: 12, output: 5), request(1, at: 0, prompt: 40, output: 3),
                 request(2, at: 0.002, prompt: 7, output: 1), request(3, at: 0.004, prompt: 30, output: 8),
                 request(4, at: 0.006, prompt: 3, output: 6)]
    let policy = TraceReplay.Policy(slots: 3, tokenBudget: 16)
    var backend = ExecutorBackend(model: model, slots: 3, contextLength: TraceReplay.contextLength(for: trace),
                                  maxChunkTokens: 16, threads: 1)
    let result = try TraceReplay(policy: policy).run(trace, on: &backend)
    #expect(result.timelines.map(\.id) == [0, 1, 2, 3, 4])
    #expect(result.generatedTokens == trace.map(\.outputTokens).reduce(0, +))
    for (t, spec) in zip(result.timelines, trace) {
        #expect(t.outputTokens == spec.outputTokens && t.promptTokens == spec.promptTokens)
        #expect(t.arrival <= t.firstToken && t.firstToken <= t.completion)
    }
    #expect(result.timeToFirstToken.count == 5)
    #expect(result.timePerOutputToken.count == 4)  // the one-token request has no TPOT
}

@Test func replayDecodesFirstAndKeepsEachIterationWithinTheTokenBudget() throws {
    let trace = (0 ..< 6).map { request($0, at: Double($0) * 0.003, prompt: 10 + 7 * $0, output: 4 + $0) }
    var backend = RecordingBackend()
    let result = try TraceReplay(policy: .init(slots: 2, tokenBudget: 8)).run(trace, on: &backend)
    #expect(result.timelines.count == 6)
    #expect(backend.live.isEmpty)
    #expect(backend.passes.allSatisfy { $0.decodes <= 2 && $0.prefillTokens <= 8 })
    var executedTokens = 0
    for p in backend.passes { executedTokens += p.decodes + p.prefillTokens }
    var expectedTokens = 0
    for r in trace { expectedTokens += r.promptTokens + r.outputTokens - 1 }
    #expect(executedTokens == expectedTokens)
    #expect(result.forwardPasses == backend.passes.count)
}

@Test func costModelReplayIsDeterministicAndWaitsForArrivals() throws {
    let model = try tinyModel()
    let costModel = InferenceCostModel(deployment: try tinyDeployment(model))
    let trace = [request(0, at: 0, prompt: 20, output: 4), request(1, at: 5, prompt: 20, output: 4)]
    var a = CostModelBackend(costModel: costModel), b = CostModelBackend(costModel: costModel)
    let replay = TraceReplay(policy: .init(slots: 4, tokenBudget: 32))
    let ra = try replay.run(trace, on: &a), rb = try replay.run(trace, on: &b)
    #expect(ra.timelines == rb.timelines)
    // The second request arrives to an idle server: same TTFT as the first.
    #expect(ra.timelines[0].timeToFirstToken == ra.timelines[1].timeToFirstToken)
    #expect(ra.timelines[1].firstToken.seconds > 5)
}
