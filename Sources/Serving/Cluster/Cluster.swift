import Diagnostics
import CostModel
import DiscreteEvent
import HardwareModel
import ServingMetrics

/// The events of a serving simulation. Arrivals are fed one at a time from the source, so the
/// queue holds at most one arrival, one completion or pass per replica.
enum ClusterEvent: Sendable {
    case arrival
    /// A replica's step (or fast-forwarded run of decode steps) ended; the replica's window
    /// generation at scheduling (a cut window's stale event is ignored).
    case stepCompleted(Int32, UInt32)
    case schedulingPass(Int32)
    /// A request's KV has landed on the decode pool (disaggregated serving); the slot.
    case kvTransferLanded(Int32)
}

/// Replicas behind a router, driven by the event loop. Generic over the scheduler, KV policy and
/// step runner so the per-token loops are specialised (no existential calls inside a step); the
/// router, source and recorder are called once per request or per step.
struct Cluster<Scheduler: BatchScheduler, KV: KVCacheManager, Runner: StepRunner>: EventHandler {
    typealias Event = ClusterEvent
    var scheduler: Scheduler
    var replicas: [ReplicaState<KV>]
    var table = RequestTable()
    var router: any RequestRouter
    var loads: RouterLoads
    /// Prices or executes each step; its durations are the only time that passes besides arrivals.
    var runner: Runner
    var source: any RequestSource
    var recorder: any ServingRecorder
    var pending: RequestSpec?
    var lastArrival = SimInstant.zero
    /// The first failure (a bad workload row, or an error thrown by the runner); ends the run.
    var error: (any Error)?
    var arrived = 0
    var completed = 0
    var rejectedByReason: [RejectionReason: Int] = [:]
    var finishedScratch: [Int32] = []
    /// The step's entries, rebuilt each step only for a runner that `needsEntries`.
    var entryScratch: [StepEntry] = []
    /// Speculative decoding's acceptance draws (nil without speculation).
    let speculation: SpeculationConfiguration?
    /// Separate prefill and decode pools (nil when co-located).
    let disaggregation: DisaggregationConfiguration?
    /// Prefill replicas under disaggregation, 0 when co-located (read per step: no optional copy).
    let prefillPool: Int
    /// Whether arrivals are routed by KV load (a fast-forward window must then leave it unchanged).
    let kvBasedRouting: Bool
    /// Whether arrivals go to the replica with the fewest outstanding requests (`LeastOutstanding`):
    /// a window then knows whether the next arrival can be routed to it (`openWindow`).
    let leastOutstandingRouting: Bool
    /// Under disaggregation: when each prefill replica's link to the decode pool is next free,
    /// the requests whose prefill finished in the current step, and the transfer times.
    var linkFreeAt: [SimInstant] = []
    var handOffScratch: [Int32] = []
    /// Under `paired` routing: the prefill replica each request in transit left, by slot.
    var transferOrigin: [Int32: Int32] = [:]
    var transferTimes = LatencyHistogram()
    /// Pipeline micro-batching: when each stage is next free (nil without it).
    var pipeline: PipelineStages?
    /// Decode fast-forward (`ClusterConfiguration.fastForwardDecodes`, where the runner, the
    /// scheduler and the techniques in use allow it; see `canFastForward`): each replica's decode
    /// steps priced but not yet recorded, and the generation its pending completion carries.
    let fastForwardDecodes: Bool
    var windows: [[StepRecord]] = []
    var windowGeneration: [UInt32] = []
    /// Where a replica's window started: the end of the step formed normally.
    var windowStart: [SimInstant] = []
    /// `openWindow`'s new blocks per step, by the step's index modulo the tokens a block holds.
    var blocksByPhase: [Int] = []
    var costScratch: [StepCost] = []
    var sampleScratch: [StepSample] = []
    /// Most steps the next window of each replica prices: doubled after a window that ran out,
    /// cut back to half as much again as was kept after a cut (a cut window's dropped steps were
    /// priced for nothing).
    /// It changes only how much work is wasted, never the result.
    var windowLimit: [Int] = []
    /// Per replica: whether its KV policy grows one plain token per decode (one sample, no budget,
    /// no offload tier), as fast-forward needs.
    var kvAllowsFastForward: [Bool] = []

    init(configuration: ClusterConfiguration, scheduler: Scheduler, makeKV: (KVCacheConfiguration) -> KV,
         runner: Runner, source: any RequestSource, recorder: any ServingRecorder) {
        self.scheduler = scheduler
        speculation = configuration.speculation
        disaggregation = configuration.disaggregation
        prefillPool = configuration.disaggregation?.prefillReplicas ?? 0
        fastForwardDecodes = configuration.fastForwardDecodes && runner.allowsFastForward && scheduler.reformsDecodeBatches
            && configuration.speculation == nil && configuration.disaggregation == nil
            && (configuration.pipeline.map { $0.stages <= 1 } ?? true)
        table = RequestTable(tracksTailGaps: configuration.tracksTailGaps)
        windows = Array(repeating: [], count: configuration.replicas)
        windowGeneration = Array(repeating: 0, count: configuration.replicas)
        windowStart = Array(repeating: .zero, count: configuration.replicas)
        windowLimit = Array(repeating: 16, count: configuration.replicas)
        replicas = (0..<configuration.replicas).map {
            ReplicaState(index: $0, kv: makeKV(configuration.kvCache(ofReplica: $0)), limits: configuration.limits,
                         priorityClasses: scheduler.priorityClasses, speculation: configuration.speculation)
        }
        kvAllowsFastForward = replicas.map { let c = $0.kv.configuration; return c.samples == 1 && c.offload == nil && c.budget.isFull }
        router = configuration.router.makeRouter()
        kvBasedRouting = router is LeastKVLoad
        leastOutstandingRouting = router is LeastOutstanding
        // The router places arrivals; under disaggregation it sees the prefill pool only.
        loads = RouterLoads(replicas: configuration.disaggregation?.prefillReplicas ?? configuration.replicas)
        if let d = configuration.disaggregation {
            precondition(d.prefillReplicas < configuration.replicas, "a disaggregated cluster needs a decode replica")
            linkFreeAt = Array(repeating: .zero, count: d.prefillReplicas)
        }
        if let p = configuration.pipeline, p.stages > 1 {
            precondition(configuration.replicas % p.microBatches == 0, "replica slots come in whole micro-batch groups")
            pipeline = PipelineStages(p, physicalReplicas: configuration.replicas / p.microBatches)
        }
        self.runner = runner
        self.source = source
        self.recorder = recorder
    }

    /// Pulls the first arrival into the queue.
    mutating func start(_ simulation: inout Simulation<ClusterEvent>) {
        pullNextArrival(&simulation)
    }

    mutating func pullNextArrival(_ simulation: inout Simulation<ClusterEvent>) {
        let pulled: RequestSpec?
        do { pulled = try source.next() } catch let e as InputError { error = e; return } catch {
            self.error = InputError(origin: .workload(detail: nil), "\(error)")
            return
        }
        guard let next = pulled else { return }
        if next.arrival < lastArrival {
            error = InputError(origin: .workload(detail: "request \(next.id)"),
                               "arrivals must not decrease: expected >= \(lastArrival.seconds) s, found \(next.arrival.seconds) s")
            return
        }
        guard next.promptTokens > 0, next.outputTokens > 0 else {
            error = InputError(origin: .workload(detail: "request \(next.id)"),
                               "expected prompt and output tokens > 0, found \(next.promptTokens) and \(next.outputTokens)")
            return
        }
        lastArrival = next.arrival
        pending = next
        simulation.schedule(.arrival, at: next.arrival, phase: .arrival)
    }

    mutating func handle(_ event: ClusterEvent, at now: SimInstant, in simulation: inout Simulation<ClusterEvent>) {
        switch event {
        case .arrival:
            let request = pending!
            pending = nil
            pullNextArrival(&simulation)
            arrive(request, now: now, &simulation)
        case .stepCompleted(let r, let generation):
            guard generation == windowGeneration[Int(r)] else { return }
            if !windows[Int(r)].isEmpty && continueWindow(Int(r), now: now, &simulation) { return }
            finishStep(Int(r), now: now, &simulation)
            requestPass(Int(r), now: now, &simulation)
        case .schedulingPass(let r):
            replicas[Int(r)].passScheduled = false
            startStep(Int(r), now: now, &simulation)
        case .kvTransferLanded(let slot):
            landTransfer(slot, now: now, &simulation)
        }
    }

    mutating func arrive(_ request: RequestSpec, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        arrived += 1
        recorder.arrived(id: request.id, at: now)
        if let reason = replicas[0].kv.rejection(promptTokens: request.promptTokens, outputTokens: request.outputTokens)
            ?? (disaggregation == nil ? nil : replicas[replicas.count - 1].kv.rejection(promptTokens: request.promptTokens, outputTokens: request.outputTokens)) {
            reject(request.id, arrival: request.arrival, prompt: request.promptTokens, output: request.outputTokens, reason: reason, now: now)
            return
        }
        let r = router.route(request, loads: loads)
        precondition(r >= 0 && r < replicas.count, "router returned replica \(r) of \(replicas.count)")
        // The queue limit is applied at the next scheduling pass (`turnAwayBeyondQueueLimit`),
        // after the scheduler has admitted what it can: a request that starts at once needs no slot.
        if !windows[r].isEmpty { cutWindow(r, before: now, &simulation) }
        let slot = table.insert(request, replica: r)
        replicas[r].enqueue(slot, table: table)
        replicas[r].arrivedSincePass.append(slot)
        loads.outstanding[r] += 1
        requestPass(r, now: now, &simulation)
    }

    mutating func reject(_ id: Int, arrival: SimInstant, prompt: Int, output: Int, reason: RejectionReason, now: SimInstant) {
        rejectedByReason[reason, default: 0] += 1
        recorder.rejected(RejectedRequest(id: id, arrival: arrival, at: now, promptTokens: prompt, outputTokens: output, reason: reason))
    }

    /// Rejects requests that were waiting on replica `r` (never admitted, holding no KV) and frees their slots.
    mutating func rejectWaiting(_ slots: [Int32], replica r: Int, reason: RejectionReason, now: SimInstant) {
        for slot in slots {
            let s = Int(slot)
            reject(table.id[s], arrival: SimInstant(nanoseconds: table.arrival[s]), prompt: Int(table.promptTokens[s]),
                   output: Int(table.outputTokens[s]), reason: reason, now: now)
            if r < loads.replicaCount { loads.outstanding[r] -= 1 }
            table.remove(slot)
        }
    }

    /// Schedules one scheduling pass for an idle replica at `now` (after this instant's arrivals and completions).
    mutating func requestPass(_ r: Int, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        if replicas[r].busy || replicas[r].passScheduled { return }
        replicas[r].passScheduled = true
        simulation.schedule(.schedulingPass(Int32(r)), at: now, phase: .schedulingPass)
    }

    mutating func startStep(_ r: Int, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        guard !replicas[r].busy else { return }
        replicas[r].plan.reset()
        scheduler.formBatch(&replicas[r], table: &table, now: now)
        if replicas[r].plan.isEmpty && !replicas[r].running.isEmpty
            && replicas[r].running.allSatisfy({ table.phase[Int($0)] == .finished }) {
            // A held batch whose last unfinished member was just preempted: release it and form anew.
            releaseFinished(r)
            scheduler.formBatch(&replicas[r], table: &table, now: now)
        }
        if replicas[r].plan.isEmpty && replicas[r].running.contains(where: { table.phase[Int($0)] == .running }) {
            // Only requests swapped back in this pass are running: they decode now rather than idle.
            replicas[r].addDecodes(table: &table)
        }
        replicas[r].turnAwayBeyondQueueLimit(table: table)
        if !replicas[r].turnedAway.isEmpty {
            rejectWaiting(replicas[r].turnedAway, replica: r, reason: .queueFull, now: now)
            replicas[r].turnedAway.removeAll(keepingCapacity: true)
        }
        if !replicas[r].dropped.isEmpty {
            rejectWaiting(replicas[r].dropped, replica: r, reason: .deadlineExceeded, now: now)
            replicas[r].dropped.removeAll(keepingCapacity: true)
        }
        if !replicas[r].preemptedReleases.isEmpty {
            for (id, reason) in replicas[r].preemptedReleases { runner.released(requestID: id, reason: reason) }
            replicas[r].preemptedReleases.removeAll(keepingCapacity: true)
        }
        if replicas[r].plan.isEmpty { return }
        let workload = replicas[r].plan.workload
        let cost: StepCost
        do {
            if runner.needsEntries {
                describeEntries(r)
                cost = try runner.run(ScheduledStep(replica: r, workload: workload, entries: entryScratch))
            } else {
                cost = try runner.run(ScheduledStep(replica: r, workload: workload, entries: []))
            }
        } catch {
            self.error = error
            return
        }
        let swap = replicas[r].plan.swapSeconds
        var duration = Self.duration(of: cost, waiting: swap)
        if pipeline != nil { duration = pipeline!.book(r, duration: duration, now: now) }
        // A decode closes a gap longer than this step only if it sat out the replica's last step
        // (which then left a running request out), was swapped back in (this step carries swap
        // traffic), or had its KV land from the prefill pool.
        let mayStall = replicas[r].mayStall || swap > 0 || prefillPool > 0 || pipeline != nil
        replicas[r].mayStall = replicas[r].plan.count < replicas[r].running.count
        let stalled = mayStall && workload.decodeTokens > 0 ? recordStalledGaps(r, start: now, duration: duration) : 0
        let communication = Self.communication(of: cost)
        let batchSize = replicas[r].plan.count, used = replicas[r].kv.usedBlocks, total = replicas[r].kv.totalBlocks
        let fragmentation = replicas[r].kv.fragmentation
        record(StepRecord(replica: r, start: now, duration: duration, prefillTokens: workload.prefillTokens,
                          decodeTokens: workload.decodeTokens, batchSize: batchSize, energyJoules: cost.energy.value,
                          kvBlocksUsed: used, kvBlocksTotal: total, kvFragmentation: fragmentation, stalledDecodes: stalled,
                          communication: communication))
        replicas[r].statistics.swapSeconds += swap
        replicas[r].busy = true
        var end = now + duration
        if fastForwardDecodes && canFastForward(r) { end = openWindow(r, from: end, after: duration) }
        // Same-instant completions run in replica order, however early each was scheduled.
        simulation.schedule(.stepCompleted(Int32(r), windowGeneration[r]), at: end, phase: .completion,
                            rank: UInt32(truncatingIfNeeded: r) &+ 1)
    }

    /// Inter-token latency is the gap between a request's consecutive tokens, not the step's
    /// duration: a decode whose request produced its previous token before this step started
    /// (it sat out a prefill-only step, waited for its KV to land or to be swapped back in, or was
    /// recomputed) closes a gap of `duration` plus that wait. Each such gap goes to the recorder;
    /// the others equal `duration` and ride on the step record.
    /// - Returns: how many of the step's decodes closed a longer gap.
    mutating func recordStalledGaps(_ r: Int, start: SimInstant, duration: SimDuration) -> Int {
        let startNanoseconds = start.nanoseconds
        // Local references to the plan's and the table's storage (no copy of the replica).
        let slots = replicas[r].plan.slots, chunks = replicas[r].plan.prefillTokens
        let last = table.lastTokenAt
        var stalled = 0
        // Decodes that sat out the same steps share their last token's instant: one sample each, reported in runs.
        var runStart: Int64 = -1, runLength = 0
        for i in 0..<slots.count where chunks[i] <= 0 {
            let t = last[Int(slots[i])]
            guard t >= 0 && t < startNanoseconds else { continue }
            stalled += 1
            if t == runStart { runLength += 1; continue }
            if runLength > 0 { recorder.interTokenGap(duration + SimDuration(nanoseconds: startNanoseconds - runStart), count: runLength) }
            runStart = t
            runLength = 1
        }
        if runLength > 0 { recorder.interTokenGap(duration + SimDuration(nanoseconds: startNanoseconds - runStart), count: runLength) }
        return stalled
    }

    /// A step's exposed communication on the simulated clock (zero without any).
    @inline(__always) static func communication(of cost: StepCost) -> SimDuration {
        cost.communication.value > 0 ? SimDuration(secondsRoundingUp: cost.communication.value) : .zero
    }

    /// A step's simulated duration: its price plus `waiting` seconds of host-link traffic,
    /// rounded up to the nanosecond, at least one.
    static func duration(of cost: StepCost, waiting: Double) -> SimDuration {
        let duration = SimDuration(secondsRoundingUp: cost.duration.value + waiting)
        return duration.nanoseconds < 1 ? SimDuration(nanoseconds: 1) : duration
    }

    /// `KVCacheManager.utilisation` from its two counts (read in place: the protocol extension's
    /// getter, called through `replicas[r]`, made the optimiser copy the whole replica state).
    @inline(__always) static func utilisation(_ used: Int, of total: Int) -> Double {
        total == 0 ? 0 : Double(used) / Double(total)
    }

    /// Adds a step to its replica's totals and hands it to the recorder.
    @inline(__always) mutating func record(_ step: StepRecord) {
        replicas[step.replica].statistics.stepTotals.add(duration: step.duration, batchSize: step.batchSize, prefillTokens: step.prefillTokens,
                                                         decodeTokens: step.decodeTokens, energyJoules: step.energyJoules,
                                                         kvUtilization: step.kvUtilisation, kvFragmentation: step.kvFragmentation,
                                                         communication: step.communication)
        recorder.stepped(step)
    }

    /// Whether replica `r`'s step just formed is a decode-only batch that its scheduler would form
    /// again, unchanged but for one more token of context each, until a request finishes or
    /// arrives: every running request decodes one plain token, nothing waits, and no technique
    /// (speculation, pools, pipeline, samples, budgets, offload, shared prefixes) applies.
    mutating func canFastForward(_ r: Int) -> Bool {
        // Runner, scheduler, speculation, pools and pipeline are checked once (`fastForwardDecodes`).
        // A mutating call reaches the replica in place; a non-mutating one made the optimiser
        // copy the whole replica state.
        kvAllowsFastForward[r] && replicas[r].plansOnlyPlainDecodes(table: table)
    }

    /// Decode fast-forward. Prices, one after another, the decode-only steps replica `r` would
    /// run after the step ending at `end`: the same batch with one more token of context per
    /// sequence and step. The window ends before any request's last token, before KV blocks run
    /// out (new blocks are counted step by step as the sequences cross block boundaries), and
    /// after `windowLimit[r]` steps (2 to 4,096). Its steps are committed (statistics, recorder, tokens, KV) when
    /// its one completion event fires; an arrival routed to `r` first cuts it to the steps that
    /// started before the arrival (`cutWindow`). Every number a run reports equals the
    /// step-by-step path's to the bit (tested): step totals and histograms are integer sums, which
    /// do not depend on the order in which the replicas' steps are recorded.
    /// - Returns: when the window's last step ends (`end` if it has none).
    mutating func openWindow(_ r: Int, from end: SimInstant, after baseDuration: SimDuration) -> SimInstant {
        // The plan's storage by reference (a copy of the plan would retain both its arrays), and
        // the KV manager copied (reading it in place made the optimiser copy the whole replica).
        let slots = replicas[r].plan.slots
        let base = replicas[r].plan.workload
        let batch = slots.count
        let kv = replicas[r].kv
        var steps = windowLimit[r]
        if leastOutstandingRouting, let next = pending?.arrival, r == loads.leastOutstanding() {
            // The next arrival goes to the replica with the fewest outstanding requests, lowest
            // index first; until it comes, the others' counts only fall. It will most likely cut
            // this window at its instant: price only the steps that start before it, at most one
            // per `baseDuration` (the steps of a growing context take no less). An arrival elsewhere
            // costs a continuation, not a wasted price; the result is the same either way.
            guard next > end else { return end }
            let gap = (next - end).nanoseconds, each = max(baseDuration.nanoseconds, 1)
            steps = min(steps, Int((gap + each - 1) / each))
        }
        // Routing by KV load reads each replica's utilisation as of its last finished step: the
        // window must then leave it unchanged, including this step's own growth.
        if kvBasedRouting, r < loads.replicaCount, loads.kvUtilisation[r] != Self.utilisation(kv.usedBlocks, of: kv.totalBlocks) { return end }
        // One pass over the batch. The steps whose end yields no completion: output − generated
        // − 1 (generated before this step). New blocks by step: a sequence at `t` tokens in `b`
        // blocks of `n` needs its next block at step `b·n − t + 1` (1 to n) of the window, then
        // every `n` steps; all blocks hold `n` tokens, so the steps ≡ i (mod n) take
        // `blocksByPhase[i mod n]` new blocks each.
        // The columns read by reference and the counts in a local array (a stored one is
        // checked for uniqueness at every write).
        let output = table.outputTokens, generated = table.generated, holdings = table.kv
        var blocksByPhase: [Int] = []
        swap(&blocksByPhase, &self.blocksByPhase)
        defer { swap(&blocksByPhase, &self.blocksByPhase) }
        var n = 0
        for slot in slots {
            let s = Int(slot)
            steps = min(steps, Int(output[s]) - Int(generated[s]) - 1)
            guard let layout = kv.growthLayout(of: holdings[s]), layout.tokensPerBlock > 0 else { return end }
            if n != layout.tokensPerBlock {
                guard n == 0 else { return end }
                n = layout.tokensPerBlock
                blocksByPhase.removeAll(keepingCapacity: true)
                blocksByPhase.append(contentsOf: repeatElement(0, count: n))
            }
            let first = layout.blocks * n - layout.tokens + 1
            if !layout.allocates || kvBasedRouting {
                // Growth that cannot allocate (or that routing would see) ends the window first.
                steps = min(steps, first - 1)
                continue
            }
            guard first >= 1 && first <= n else { return end }
            blocksByPhase[first == n ? 0 : first] += 1
        }
        guard steps > 0 else { return end }
        let storedBefore = kv.storedTokens
        let hostBlocks = kv.usedHostBlocks, unitTokens = kv.configuration.unitTokens
        let total = kv.totalBlocks
        // The steps whose new blocks fit.
        var used = kv.usedBlocks
        var phase = 0
        for i in 1...steps {
            phase = phase + 1 == n ? 0 : phase + 1
            let newBlocks = blocksByPhase[phase]
            if used + newBlocks > total { steps = i - 1; break }
            used += newBlocks
        }
        guard steps > 0 else { return end }
        costScratch.removeAll(keepingCapacity: true)
        do {
            try runner.run(decodeRun: ScheduledStep(replica: r, workload: base, entries: []), contextGrowth: batch, count: steps,
                           into: &costScratch)
        } catch {
            self.error = error
            return end
        }
        used = kv.usedBlocks
        phase = 0
        var stepEnd = end
        // The window built in a local array (appends to `windows[r]` check both arrays for uniqueness).
        var window: [StepRecord] = []
        swap(&window, &windows[r])
        window.reserveCapacity(window.count + steps)
        for i in 1...steps {
            phase = phase + 1 == n ? 0 : phase + 1
            used += blocksByPhase[phase]
            let cost = costScratch[i - 1]
            let duration = Self.duration(of: cost, waiting: 0)
            window.append(StepRecord(replica: r, start: stepEnd, duration: duration, prefillTokens: 0, decodeTokens: batch, batchSize: batch,
                                         energyJoules: cost.energy.value, kvBlocksUsed: used, kvBlocksTotal: total,
                                         kvFragmentation: KV.fragmentation(storedTokens: storedBefore + i * batch, allocatedTokens: (used + hostBlocks) * unitTokens),
                                         communication: Self.communication(of: cost)))
            stepEnd = stepEnd + duration
        }
        swap(&window, &windows[r])
        windowStart[r] = end
        return stepEnd
    }

    /// Replica `r`'s window ended at `now`: commits it and, when nothing waits (this instant's
    /// arrivals came first), prices the next window at once, from the same plan `count` steps on.
    /// The step-by-step path would finish the last step and form the same batch again at `now`;
    /// this skips that pass and the normal step's pricing. The last step's token is left to the
    /// next commit (or to `finishStep`, if the next window is cut to nothing), the tokens and KV of
    /// the window's steps being applied as if it had been formed normally at the window's start.
    /// - Returns: whether a window continues; if not, the window is committed and the caller
    ///   finishes the step.
    mutating func continueWindow(_ r: Int, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) -> Bool {
        let count = windows[r].count, last = windows[r][count - 1].duration
        commitWindow(r)
        guard replicas[r].waitingCount == 0 else { return false }
        if r < loads.replicaCount {
            loads.kvUtilisation[r] = Self.utilisation(replicas[r].kv.usedBlocks, of: replicas[r].kv.totalBlocks)
        }
        replicas[r].plan.advanceDecodes(by: count)
        let end = openWindow(r, from: now, after: last)
        guard !windows[r].isEmpty else {
            replicas[r].plan.advanceDecodes(by: -count)
            return false
        }
        simulation.schedule(.stepCompleted(Int32(r), windowGeneration[r]), at: end, phase: .completion,
                            rank: UInt32(truncatingIfNeeded: r) &+ 1)
        return true
    }

    /// A request arrives for replica `r` at `now` while it fast-forwards: the steps that start
    /// at or after `now` would have seen it, so they are dropped and the completion is moved to
    /// the end of the last step that started before it.
    mutating func cutWindow(_ r: Int, before now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        guard let last = windows[r].last, last.start >= now else { return }
        let kept = windows[r].firstIndex { $0.start >= now } ?? windows[r].count
        windowLimit[r] = max(2, kept + kept / 2 + 1)
        windows[r].removeSubrange(kept...)
        let end = windows[r].last.map { $0.start + $0.duration } ?? windowStart[r]
        windowGeneration[r] &+= 1
        simulation.schedule(.stepCompleted(Int32(r), windowGeneration[r]), at: end, phase: .completion,
                            rank: UInt32(truncatingIfNeeded: r) &+ 1)
    }

    /// Records replica `r`'s window steps in order and applies their tokens and KV growth: each
    /// sequence gains one token per step but the last (whose end `finishStep`, or the next
    /// window's commit, applies).
    mutating func commitWindow(_ r: Int) {
        // Each step rounded once, for the replica's totals and the recorder's timeline bins.
        sampleScratch.removeAll(keepingCapacity: true)
        var run = StepTotals()
        for step in windows[r] {
            let sample = StepSample(duration: step.duration, batchSize: step.batchSize, prefillTokens: step.prefillTokens,
                                    decodeTokens: step.decodeTokens, energyJoules: step.energyJoules, kvUtilization: step.kvUtilisation,
                                    kvFragmentation: step.kvFragmentation, communication: step.communication)
            run.add(sample)
            sampleScratch.append(sample)
        }
        replicas[r].statistics.stepTotals.merge(run)
        recorder.stepped(run: windows[r], samples: sampleScratch)
        let done = Int32(windows[r].count)
        if windows[r].count >= windowLimit[r] { windowLimit[r] = min(4096, 2 * windowLimit[r]) }
        if table.tracksTailGaps {
            // One token at a time, at the end of the step that made it, as the step-by-step path
            // sees them: the normal step's (ending where the window starts), then every window
            // step's but the last.
            var end = windowStart[r]
            for i in 0..<windows[r].count {
                for slot in replicas[r].plan.slots { _ = table.recordTokens(slot, count: 1, at: end) }
                end = windows[r][i].start + windows[r][i].duration
            }
        }
        windows[r].removeAll(keepingCapacity: true)
        let slots = replicas[r].plan.slots
        let grown = replicas[r].kv.growDecodes(slots, addingTokens: table.tracksTailGaps ? 0 : done, table: &table)
        precondition(grown == slots.count, "a fast-forwarded decode found no KV block")
    }

    /// Applies the finished step: prefill progress, one new token per finished prefill or
    /// decode, completions (releasing KV unless the scheduler holds it to the batch's end).
    mutating func finishStep(_ r: Int, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        replicas[r].busy = false
        // The plan is not changed by this loop: read it through local references to its storage.
        let slots = replicas[r].plan.slots, chunks = replicas[r].plan.prefillTokens
        var anyFinished = false
        if speculation == nil && !table.tracksTailGaps && replicas[r].plan.workload.prefillTokens == 0 {
            // Plain decodes only: one token each, in one pass over the table.
            finishedScratch.removeAll(keepingCapacity: true)
            table.recordDecodeTokens(slots, at: now, finished: &finishedScratch)
            for slot in finishedScratch { complete(slot, replica: r, now: now) }
            anyFinished = !finishedScratch.isEmpty
        } else {
        for i in 0..<slots.count {
            let slot = slots[i]
            let s = Int(slot)
            let chunk = chunks[i]
            if chunk > 0 {
                guard table.recordPrefill(slot, tokens: chunk, at: now) else { continue }
                if table.generated[s] > 0, table.lastTokenAt[s] >= 0 {
                    // Recomputed after a preemption: this prefill's token closes the gap since the last one.
                    recorder.interTokenGap(now - SimInstant(nanoseconds: table.lastTokenAt[s]), count: 1)
                }
                replicas[r].kv.prefillCompleted(slot, table: &table)
                if r < prefillPool {
                    // The prefill pool makes the first token and hands the rest to the decode pool.
                    if table.recordTokens(slot, count: 1, at: now) {
                        complete(slot, replica: r, now: now)
                        anyFinished = true
                    } else {
                        handOffScratch.append(slot)
                    }
                    continue
                }
            }
            if chunk < 0, let speculation {
                // A verification of −chunk tokens: the accepted drafts and one token of the
                // target's own; the rejected drafts' KV (every other chain of a tree too) is
                // given back (it holds `prompt + generated − 1` tokens while decoding).
                let drafts = (Int(-chunk) - 1) / speculation.treeWidth
                let rate = table.acceptance[s] >= 0 ? table.acceptance[s] : speculation.rate(request: table.id[s])
                let accepted = speculation.accepted(request: table.id[s], rate: rate, generated: Int(table.generated[s]), drafts: drafts)
                _ = table.recordTokens(slot, count: Int32(accepted), at: now)
                replicas[r].kv.truncate(slot, toTokens: Int(table.promptTokens[s]) + Int(table.generated[s]), table: &table)
            }
            if table.recordTokens(slot, count: 1, at: now) {
                complete(slot, replica: r, now: now)
                anyFinished = true
            }
        }
        }
        if !handOffScratch.isEmpty { handOff(r, now: now, &simulation) }
        if anyFinished {
            if scheduler.releasesOnCompletion {
                releaseFinished(r)
            } else if replicas[r].running.allSatisfy({ table.phase[Int($0)] == .finished }) {
                releaseFinished(r)
            }
        }
        if r < loads.replicaCount {
            loads.kvUtilisation[r] = Self.utilisation(replicas[r].kv.usedBlocks, of: replicas[r].kv.totalBlocks)
        }
    }

    /// Disaggregated serving: the requests in `handOffScratch` finished their prefill on
    /// prefill replica `r`. Each frees its KV there and ships it over `r`'s link, one transfer
    /// after another; it lands on the decode pool `bytes / bandwidth + latency` after its turn.
    mutating func handOff(_ r: Int, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        let d = disaggregation!
        for slot in handOffScratch {
            let bytes = Double(table.residentTokens(slot)) * d.kvBytesPerToken
            replicas[r].kv.release(slot, table: &table)
            runner.released(requestID: table.id[Int(slot)], reason: .transferred)
            replicas[r].running.remove(at: replicas[r].running.firstIndex(of: slot)!)
            loads.outstanding[r] -= 1
            table.handOff(slot)
            let start = max(now, linkFreeAt[r])
            let onLink = SimDuration(secondsRoundingUp: bytes / d.linkBytesPerSecond)
            linkFreeAt[r] = start + onLink
            let landing = start + onLink + d.linkLatency
            transferTimes.add(landing - now, weight: 1)
            if d.routing == .paired { transferOrigin[slot] = Int32(r) }
            simulation.schedule(.kvTransferLanded(slot), at: landing, phase: .completion)
        }
        handOffScratch.removeAll(keepingCapacity: true)
    }

    /// A request's KV landed on the decode pool: it joins the decode replica its routing picks
    /// (fewest outstanding requests by default; lowest index on ties).
    mutating func landTransfer(_ slot: Int32, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        let d = disaggregation!
        var best = d.prefillReplicas
        switch d.routing {
        case .leastOutstanding:
            for r in (best + 1)..<max(best + 1, replicas.count) where replicas[r].outstanding < replicas[best].outstanding { best = r }
        case .mostFreeKV:
            func free(_ r: Int) -> Int { replicas[r].kv.totalBlocks - replicas[r].kv.usedBlocks }
            for r in (best + 1)..<max(best + 1, replicas.count) where free(r) > free(best) { best = r }
        case .paired:
            let origin = Int(transferOrigin.removeValue(forKey: slot) ?? 0)
            best = d.prefillReplicas + origin % (replicas.count - d.prefillReplicas)
        }
        table.assign(slot, toReplica: best)
        replicas[best].enqueue(slot, table: table)
        requestPass(best, now: now, &simulation)
    }

    mutating func complete(_ slot: Int32, replica r: Int, now: SimInstant) {
        completed += 1
        if r < loads.replicaCount { loads.outstanding[r] -= 1 }
        recorder.completed(table.timeline(slot, completedAt: now))
    }

    /// The step's batch as `StepEntry`s (into `entryScratch`), read before `finishStep` applies it.
    mutating func describeEntries(_ r: Int) {
        entryScratch.removeAll(keepingCapacity: true)
        let plan = replicas[r].plan
        for i in 0..<plan.count {
            let s = Int(plan.slots[i])
            let chunk = Int(plan.prefillTokens[i])
            let prompt = Int(table.promptTokens[s])
            if chunk > 0 {
                let before = Int(table.prefilled[s])
                entryScratch.append(StepEntry(requestID: table.id[s], newTokens: chunk, contextBefore: before, promptTokens: prompt,
                                              isDecode: false, producesToken: before + chunk >= Int(table.prefillTarget[s])))
            } else {
                // A decode attends over `prompt + generated` positions, the last of them new (see `RequestTable`).
                entryScratch.append(StepEntry(requestID: table.id[s], newTokens: max(1, -chunk), contextBefore: table.decodeContext(Int32(s)) - 1,
                                              promptTokens: prompt, isDecode: true, producesToken: true))
            }
        }
    }

    mutating func releaseFinished(_ r: Int) {
        finishedScratch.removeAll(keepingCapacity: true)
        for slot in replicas[r].running where table.phase[Int(slot)] == .finished { finishedScratch.append(slot) }
        for slot in finishedScratch {
            replicas[r].kv.release(slot, table: &table)
            runner.released(requestID: table.id[Int(slot)], reason: .completed)
            table.remove(slot)
        }
        // One column, not the whole table (a copy would retain and release every column).
        let phase = table.phase
        replicas[r].running.removeAll { phase[Int($0)] == .finished }
    }
}
