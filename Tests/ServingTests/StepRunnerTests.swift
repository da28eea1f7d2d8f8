import CostModel
import DiscreteEvent
import HardwareModel
import Testing
@testable import Serving

/// Prices each step from its entries with the closed form of `testCost`, and checks that the
/// entries and release notifications describe what an executor would have to run: positions
/// continue each request's resident tokens, a recompute restarts from 0, a swap resumes where it
/// left, and every completed request is released exactly once and never runs again.
struct EntryPricedRunner: StepRunner {
    let cost: LinearStepCostModel
    /// Whether an admission may start a prefill past position 0 (a prefix-cache hit).
    let prefixCaching: Bool
    var resident: [Int: Int] = [:]
    var completedIDs: [Int] = []
    var problems: [String] = []
    var steps = 0

    var needsEntries: Bool { true }

    mutating func run(_ step: ScheduledStep) throws -> StepCost {
        steps += 1
        var tokens = 0, context = 0
        var rebuilt = StepWorkload()
        for e in step.entries {
            tokens += e.newTokens
            context += e.contextBefore + e.newTokens
            if e.isDecode { rebuilt.addDecode(contextLength: e.contextBefore + 1) } else {
                rebuilt.addPrefillChunk(tokens: e.newTokens, contextBefore: e.contextBefore)
            }
            if completedIDs.contains(e.requestID) { problems.append("request \(e.requestID) ran after completing") }
            if e.isDecode && (e.newTokens != 1 || !e.producesToken) { problems.append("bad decode entry \(e)") }
            if let r = resident[e.requestID] {
                if e.contextBefore != r { problems.append("request \(e.requestID): expected position \(r), found \(e.contextBefore)") }
            } else if e.isDecode || (e.contextBefore != 0 && !prefixCaching) {
                problems.append("request \(e.requestID) starts at \(e.contextBefore) holding no KV")
            }
            resident[e.requestID] = e.contextBefore + e.newTokens
        }
        if rebuilt != step.workload { problems.append("entries do not add up to the workload") }
        let seconds = cost.fixed.value + cost.perToken.value * Double(tokens) + cost.perContextToken.value * Double(context)
        return StepCost(duration: Seconds(seconds), energy: cost.power * Seconds(seconds), boundBy: .compute)
    }

    mutating func released(requestID: Int, reason: KVReleaseReason) {
        switch reason {
        case .completed:
            if completedIDs.contains(requestID) { problems.append("request \(requestID) released twice") }
            completedIDs.append(requestID)
            resident[requestID] = nil
        case .preemptedForRecompute, .transferred: resident[requestID] = nil
        case .swappedOut: break  // its KV comes back with it
        }
    }
}

@Test func aRunnerPricingEachEntryGivesTheSameRunAsTheCostModel() throws {
    var preemptions = 0
    for seed in UInt64(0)..<60 {
        var (config, requests) = randomScenario(seed: seed)
        // Step by step on both sides (an entry-pricing runner never fast-forwards, and fast-forward
        // records steps in another global order and handles fewer events; FastForwardTests).
        config.fastForwardDecodes = false
        let (expected, expectedRun) = try simulate(config, requests)
        var runner = EntryPricedRunner(cost: testCost, prefixCaching: config.kvCache.kind == .prefixCaching)
        var recorder = RecordingRecorder()
        let outcome = try ServingSimulator.run(config, runner: &runner, requests: ArrayRequestSource(requests), recorder: &recorder)
        let context = "seed \(seed): \(config.scheduler.kind) \(config.kvCache.kind) \(config.kvCache.preemption)"
        #expect(outcome == expected, "\(context)")
        #expect(recorder.completions == expectedRun.completions, "\(context)")
        #expect(recorder.rejections == expectedRun.rejections, "\(context)")
        #expect(recorder.steps == expectedRun.steps, "\(context)")
        #expect(runner.problems.count == 0, "\(context): \(runner.problems.prefix(3))")
        #expect(runner.steps == recorder.steps.count, "\(context)")
        #expect(runner.completedIDs.sorted() == recorder.completions.map(\.id).sorted(), "\(context)")
        preemptions += outcome.totalPreemptions
    }
    #expect(preemptions > 10, "the sweep should preempt, found \(preemptions)")
}

@Test func theCostModelAdapterIsTheCostModelPath() throws {
    let (config, requests) = randomScenario(seed: 7)
    let (expected, expectedRun) = try simulate(config, requests)
    var runner = StepCostModelRunner(testCost)
    var recorder = RecordingRecorder()
    let outcome = try ServingSimulator.run(config, runner: &runner, requests: ArrayRequestSource(requests), recorder: &recorder)
    #expect(outcome == expected && recorder.steps == expectedRun.steps && recorder.completions == expectedRun.completions)
}

struct StepFailed: Error, Equatable { var step: Int }

/// Fails on its third step.
struct FailingRunner: StepRunner {
    var steps = 0
    var needsEntries: Bool { false }
    mutating func run(_ step: ScheduledStep) throws -> StepCost {
        steps += 1
        if steps == 3 { throw StepFailed(step: steps) }
        return testCost.cost(of: step.workload)
    }
}

@Test func anErrorThrownByTheRunnerEndsTheRun() throws {
    let requests = (0..<5).map { RequestSpec(id: $0, arrival: .zero, promptTokens: 20, outputTokens: 10) }
    var runner = FailingRunner()
    var recorder = RecordingRecorder()
    #expect(throws: StepFailed(step: 3)) {
        try ServingSimulator.run(configuration(.chunkedPrefill), runner: &runner, requests: ArrayRequestSource(requests), recorder: &recorder)
    }
    #expect(runner.steps == 3)
    #expect(recorder.steps.count == 2)
}

@Test func theMemoOfPromptStepsGivesThePricesOfTheCostModel() {
    // Prompt-only steps of many lengths and contexts, each twice in a row and again after the
    // others (hits, misses and entries replaced by colliding workloads), against a fresh price.
    var runner = StepCostModelRunner(testCost)
    var workloads: [StepWorkload] = []
    for tokens in stride(from: 1, through: 40_000, by: 7) {
        for context in [0, 16, 512] {
            var w = StepWorkload()
            w.addPrefillChunk(tokens: tokens, contextBefore: context)
            workloads.append(w)
        }
    }
    var mismatches = 0
    for pass in 0..<2 {
        for w in workloads {
            let step = ScheduledStep(replica: 0, workload: w, entries: [])
            let fresh = testCost.cost(of: w)
            if runner.run(step) != fresh { mismatches += 1 }
            if pass == 0, runner.run(step) != fresh { mismatches += 1 }
        }
    }
    #expect(mismatches == 0)
    #expect(workloads.count > PromptStepMemo.entries, "the test should overflow the memo")
}
