import Diagnostics
import CostModel
import DiscreteEvent
import HardwareModel
import ServingMetrics

/// The events of a serving simulation. Arrivals are fed one at a time from the source, so the
/// queue holds at most one arrival, one completion or pass per replica.
enum ClusterEvent: Sendable {
    case arrival
    case stepCompleted(Int32)
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
    /// Under disaggregation: when each prefill replica's link to the decode pool is next free,
    /// the requests whose prefill finished in the current step, and the transfer times.
    var linkFreeAt: [SimInstant] = []
    var handOffScratch: [Int32] = []
    /// Under `paired` routing: the prefill replica each request in transit left, by slot.
    var transferOrigin: [Int32: Int32] = [:]
    var transferTimes = LatencyHistogram()
    /// Pipeline micro-batching: when each stage is next free (nil without it).
    var pipeline: PipelineStages?

    init(configuration: ClusterConfiguration, scheduler: Scheduler, makeKV: (KVCacheConfiguration) -> KV,
         runner: Runner, source: any RequestSource, recorder: any ServingRecorder) {
        self.scheduler = scheduler
        speculation = configuration.speculation
        disaggregation = configuration.disaggregation
        replicas = (0..<configuration.replicas).map {
            ReplicaState(index: $0, kv: makeKV(configuration.kvCache(ofReplica: $0)), limits: configuration.limits,
                         priorityClasses: scheduler.priorityClasses, speculation: configuration.speculation)
        }
        router = configuration.router.makeRouter()
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
        case .stepCompleted(let r):
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
        var duration = SimDuration(secondsRoundingUp: cost.duration.value + swap)
        if duration.nanoseconds < 1 { duration = SimDuration(nanoseconds: 1) }
        if pipeline != nil { duration = pipeline!.book(r, duration: duration, now: now) }
        let batch = replicas[r].plan.count
        let step = StepRecord(replica: r, start: now, duration: duration, prefillTokens: workload.prefillTokens,
                              decodeTokens: workload.decodeTokens, batchSize: batch, energyJoules: cost.energy.value,
                              kvBlocksUsed: replicas[r].kv.usedBlocks, kvBlocksTotal: replicas[r].kv.totalBlocks,
                              kvFragmentation: replicas[r].kv.fragmentation)
        replicas[r].statistics.stepTotals.add(duration: duration, batchSize: batch, prefillTokens: step.prefillTokens,
                                              decodeTokens: step.decodeTokens, energyJoules: step.energyJoules,
                                              kvUtilization: step.kvUtilisation, kvFragmentation: step.kvFragmentation)
        replicas[r].statistics.swapSeconds += swap
        recorder.stepped(step)
        replicas[r].busy = true
        simulation.schedule(.stepCompleted(Int32(r)), at: now + duration, phase: .completion)
    }

    /// Applies the finished step: prefill progress, one new token per finished prefill or
    /// decode, completions (releasing KV unless the scheduler holds it to the batch's end).
    mutating func finishStep(_ r: Int, now: SimInstant, _ simulation: inout Simulation<ClusterEvent>) {
        replicas[r].busy = false
        // The plan is not changed by this loop: read it through local references to its storage.
        let slots = replicas[r].plan.slots, chunks = replicas[r].plan.prefillTokens
        var anyFinished = false
        for i in 0..<slots.count {
            let slot = slots[i]
            let s = Int(slot)
            let chunk = chunks[i]
            if chunk > 0 {
                guard table.recordPrefill(slot, tokens: chunk, at: now) else { continue }
                replicas[r].kv.prefillCompleted(slot, table: &table)
                if let d = disaggregation, r < d.prefillReplicas {
                    // The prefill pool makes the first token and hands the rest to the decode pool.
                    if table.recordTokens(slot, count: 1) {
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
                _ = table.recordTokens(slot, count: Int32(accepted))
                replicas[r].kv.truncate(slot, toTokens: Int(table.promptTokens[s]) + Int(table.generated[s]), table: &table)
            }
            if table.recordTokens(slot, count: 1) {
                complete(slot, replica: r, now: now)
                anyFinished = true
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
        if r < loads.replicaCount { loads.kvUtilisation[r] = replicas[r].kv.utilisation }
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
        let table = self.table
        replicas[r].running.removeAll { table.phase[Int($0)] == .finished }
    }
}
