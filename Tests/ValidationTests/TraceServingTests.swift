import Diagnostics
import CostModel
import CPUExecutor
import DiscreteEvent
import Foundation
import HardwareModel
import Serving
import Testing
@testable import Validation

/// A clock that advances `tick` nanoseconds at every read: each executed step then lasts exactly `tick`.
final class TickingClock: ExecutorClock, @unchecked Sendable {
    let tick: UInt64
    private var now: UInt64 = 0
    init(tick: UInt64) { self.tick = tick }
    func nowNanoseconds() -> UInt64 { now += tick; return now }
}

let smallTrace = [request(0, at: 0, prompt: 12, output: 5), request(1, at: 0, prompt: 40, output: 3),
                  request(2, at: 0.002, prompt: 7, output: 1), request(3, at: 0.004, prompt: 30, output: 8),
                  request(4, at: 0.006, prompt: 3, output: 6), request(5, at: 0.5, prompt: 21, output: 4)]

@Test(arguments: SchedulerKind.allCases)
func theExecutorServesATraceToCompletionUnderTheSimulatorsScheduler(scheduler: SchedulerKind) throws {
    let model = try tinyModel()
    let configuration = TraceServingPolicy(scheduler: scheduler, maxBatchSize: 3, tokenBudget: 16)
        .configuration(model: model.config, contextLength: TraceServing.contextLength(for: smallTrace))
    var runner = try ExecutorStepRunner(model: model, configuration: configuration,
                                        contextLength: TraceServing.contextLength(for: smallTrace), threads: 1)
    let result = try TraceServing.serve(smallTrace, configuration: configuration, runner: &runner)
    #expect(result.timelines.map(\.id) == [0, 1, 2, 3, 4, 5])
    #expect(result.rejected == 0)
    #expect(result.generatedTokens == smallTrace.map(\.outputTokens).reduce(0, +))
    for (t, spec) in zip(result.timelines, smallTrace) {
        #expect(t.outputTokens == spec.outputTokens && t.promptTokens == spec.promptTokens)
        #expect(t.arrival == spec.arrival)
        #expect(t.arrival <= t.firstToken && t.firstToken <= t.completion)
        #expect(t.timeToFirstToken <= t.endToEnd && t.timeToFirstToken > .zero)
    }
    #expect(result.timePerOutputToken.count == 5)  // the one-token request has no TPOT
    #expect(runner.steps == result.steps && result.steps == result.outcome.replicas[0].statistics.steps)
    #expect(runner.sequencesInUse == 0, "every sequence slot is freed when its request completes")
    // The last request arrives to an idle server: the idle gap is skipped, not counted as busy time.
    #expect(result.timelines[5].firstToken.seconds > 0.5)
    #expect(result.outcome.replicas[0].busyFraction < 1)
}

@Test func measuredAndPredictedFollowTheSameScheduleStepForStep() throws {
    // With every executed step lasting exactly `tick`, the executor run must match a cost model
    // that prices every step at `tick`: same steps, same instants, request by request.
    let model = try tinyModel()
    let tick: UInt64 = 1_000_000
    let configuration = TraceServingPolicy(maxBatchSize: 2, tokenBudget: 8)
        .configuration(model: model.config, contextLength: TraceServing.contextLength(for: smallTrace))
    let measured = try TraceServing.measure(smallTrace, configuration: configuration, model: model, threads: 1,
                                            clock: TickingClock(tick: tick))
    let constant = LinearStepCostModel(fixed: Seconds(Double(tick) * 1e-9), perToken: Seconds(0), perContextToken: Seconds(0))
    let predicted = try TraceServing.predict(smallTrace, configuration: configuration, costModel: constant)
    #expect(measured.timelines == predicted.timelines)
    #expect(measured.steps == predicted.steps && measured.makespanSeconds == predicted.makespanSeconds)
    // The step log holds every executed step at its measured time; a prediction has none.
    #expect(measured.stepLog.count == measured.steps && predicted.stepLog.isEmpty)
    #expect(measured.stepLog.allSatisfy { $0.seconds == Double(tick) * 1e-9 })
}

@Test func preemptedRequestsAreRecomputedOnTheExecutor() throws {
    // A KV cache of 64 tokens for three sequences of up to 48: growing decodes must preempt.
    let model = try tinyModel()
    let trace = (0 ..< 4).map { request($0, at: 0, prompt: 20, output: 24) }
    var configuration = TraceServingPolicy(maxBatchSize: 3, tokenBudget: 32, blockTokens: 4)
        .configuration(model: model.config, contextLength: 48)
    configuration.kvCache.capacityBytes = 64 * configuration.kvCache.bytesPerToken
    var runner = try ExecutorStepRunner(model: model, configuration: configuration, contextLength: 48, threads: 1)
    let result = try TraceServing.serve(trace, configuration: configuration, runner: &runner)
    #expect(result.outcome.totalPreemptions > 0)
    #expect(result.timelines.count == 4 && result.generatedTokens == 4 * 24)
    #expect(runner.sequencesInUse == 0)
}

@Test func configurationsTheExecutorCannotServeAreOneLineErrors() throws {
    let model = try tinyModel()
    let base = TraceServingPolicy().configuration(model: model.config, contextLength: 64)
    var swap = base, prefix = base, replicas = base
    swap.kvCache.preemption = .swap
    prefix.kvCache.kind = .prefixCaching
    replicas.replicas = 2
    for (configuration, field) in [(swap, "kvCache.preemption"), (prefix, "kvCache.kind"), (replicas, "replicas")] {
        do {
            _ = try ExecutorStepRunner(model: model, configuration: configuration, contextLength: 64, threads: 1)
            Issue.record("expected an error for \(field)")
        } catch let error as InputError {
            #expect(error.location == "$." + field)
            #expect(!error.description.contains("\n"))
        }
    }
}
