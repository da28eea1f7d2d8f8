import DiscreteEvent
import Foundation
import Serving
import ServingMetrics

/// Iteration-level (continuous) batching with chunked prefill, first come first served, as one
/// loop over a `ServingBackend` (Orca's iteration scheduling with Sarathi-Serve's token budget).
///
/// Each iteration:
/// 1. requests whose arrival is due join the waiting queue; waiting requests take free sequence
///    slots in arrival order (at most `slots` in flight);
/// 2. every running request that has finished its prompt decodes one token, in one batched pass;
/// 3. what is left of `tokenBudget` goes to prompt chunks of prefilling requests in admission
///    order, one forward pass per chunk; a request's first token comes with its last chunk;
/// 4. requests with all their output tokens complete and free their slot.
/// When nothing is running the loop waits for the next arrival.
///
/// This is a faithful FCFS continuous-batching loop written for the executor: the simulator's
/// `BatchScheduler` conformers (branch `sim`) work on `ReplicaState`/`RequestTable` and price a
/// mixed step as one fused pass, which the executor does not run.
public struct TraceReplay {
    public struct Policy: Sendable, Equatable {
        /// Sequences in flight at once (KV-cache slots).
        public var slots: Int
        /// New tokens per iteration (decodes + prompt chunks).
        public var tokenBudget: Int
        public init(slots: Int = 8, tokenBudget: Int = 128) {
            precondition(slots >= 1 && tokenBudget >= slots, "need slots >= 1 and tokenBudget >= slots")
            self.slots = slots
            self.tokenBudget = tokenBudget
        }
    }

    public struct Result: Sendable {
        public var timelines: [RequestTimeline]
        /// Forward passes run (decode batches + prompt chunks).
        public var forwardPasses: Int
        public var generatedTokens: Int
        /// Seconds from the start to the last completion.
        public var makespan: Double

        public var timeToFirstToken: DurationStatistics { DurationStatistics(nanoseconds: timelines.map(\.timeToFirstToken.nanoseconds)) }
        public var timePerOutputToken: DurationStatistics {
            DurationStatistics(nanoseconds: timelines.compactMap { $0.timePerOutputToken?.nanoseconds })
        }
        public var endToEnd: DurationStatistics { DurationStatistics(nanoseconds: timelines.map(\.endToEnd.nanoseconds)) }
    }

    public let policy: Policy
    public init(policy: Policy) { self.policy = policy }

    private struct Running {
        var index: Int
        var slot: Int
        var prefilled = 0
        var generated = 0
        var scheduled: Double
        var firstToken: Double = 0
    }

    /// The context a backend must hold for `requests`: the longest prompt + output.
    public static func contextLength(for requests: [RequestSpec]) -> Int {
        requests.map { $0.promptTokens + $0.outputTokens }.max() ?? 1
    }

    /// Replays `requests` (sorted by arrival) through `backend`.
    /// - Throws: what the backend throws (executor errors name the sequence and positions).
    public func run<B: ServingBackend>(_ requests: [RequestSpec], on backend: inout B) throws -> Result {
        let order = requests.indices.sorted { (requests[$0].arrival, $0) < (requests[$1].arrival, $1) }
        var next = 0
        var waiting: [Int] = []
        var running: [Running] = []
        var freeSlots = Array((0 ..< policy.slots).reversed())
        var timelines: [RequestTimeline] = []
        var passes = 0, generated = 0
        func arrival(_ i: Int) -> Double { requests[i].arrival.seconds }
        func instant(_ s: Double) -> SimInstant { SimInstant(nanoseconds: Int64((s * 1e9).rounded())) }

        while timelines.count < requests.count {
            while next < order.count && arrival(order[next]) <= backend.now {
                waiting.append(order[next]); next += 1
            }
            if running.isEmpty && waiting.isEmpty {
                backend.wait(until: arrival(order[next]))
                continue
            }
            while !waiting.isEmpty, let slot = freeSlots.popLast() {
                running.append(Running(index: waiting.removeFirst(), slot: slot, scheduled: max(backend.now, 0)))
            }
            // Decodes first: one batched pass.
            let decoders = running.indices.filter { running[$0].prefilled == requests[running[$0].index].promptTokens }
            if !decoders.isEmpty {
                try backend.decode(sequences: decoders.map { running[$0].slot },
                                   contexts: decoders.map { requests[running[$0].index].promptTokens + running[$0].generated })
                passes += 1
                for d in decoders { running[d].generated += 1 }
                generated += decoders.count
            }
            // Then prompt chunks in admission order.
            var budget = policy.tokenBudget - decoders.count
            for r in running.indices where budget > 0 {
                let prompt = requests[running[r].index].promptTokens
                guard running[r].prefilled < prompt else { continue }
                let chunk = min(budget, prompt - running[r].prefilled)
                try backend.prefill(sequence: running[r].slot, tokens: chunk, contextBefore: running[r].prefilled)
                passes += 1
                running[r].prefilled += chunk
                budget -= chunk
                if running[r].prefilled == prompt {
                    running[r].generated = 1
                    running[r].firstToken = backend.now
                    generated += 1
                }
            }
            // Completions.
            let now = backend.now
            running.removeAll { r in
                let spec = requests[r.index]
                guard r.prefilled == spec.promptTokens && r.generated >= spec.outputTokens else { return false }
                let arrived = spec.arrival
                let scheduled = max(instant(r.scheduled), arrived)
                let first = max(instant(r.firstToken), scheduled)
                timelines.append(RequestTimeline(id: spec.id, arrival: arrived, scheduled: scheduled, firstToken: first,
                                                 completion: max(instant(now), first), promptTokens: spec.promptTokens,
                                                 outputTokens: spec.outputTokens))
                backend.release(sequence: r.slot)
                freeSlots.append(r.slot)
                return true
            }
        }
        timelines.sort { $0.id < $1.id }
        return Result(timelines: timelines, forwardPasses: passes, generatedTokens: generated,
                      makespan: timelines.map(\.completion.seconds).max() ?? 0)
    }
}
