import DequeModule
import DiscreteEvent
import ServingMetrics

/// One model replica's serving state: its queues, its running batch and its KV cache.
///
/// Schedulers decide *what* runs; the helpers here do the bookkeeping every scheduler shares
/// (admission with KV reservation, growth with preemption, chunk accounting), so each scheduler
/// file reads as its policy only.
public struct ReplicaState<KV: KVCacheManager>: Sendable {
    public let index: Int
    public internal(set) var kv: KV
    public let limits: ServingLimits
    /// Draft tokens per round under speculative decoding (0: off), and the most decoding
    /// sequences a step may have for it to speculate (the cluster keeps the acceptance draws).
    let draftTokens: Int
    let treeWidth: Int
    let speculationMaxBatch: Int
    /// Waiting requests, one FIFO per priority class (class 0 first).
    var waiting: [Deque<Int32>]
    public private(set) var waitingCount = 0
    /// Admitted requests in admission order (the last one is the youngest).
    public internal(set) var running: [Int32] = []
    public internal(set) var plan = StepPlan()
    public internal(set) var busy = false
    var passScheduled = false
    /// Whether a running request may have sat out this replica's last step (it left one out),
    /// so that the next step must look for decodes closing a longer inter-token gap.
    var mayStall = false
    var admissions: Int64 = 0
    /// Requests the scheduler dropped in this pass (deadline-aware admission).
    var dropped: [Int32] = []
    /// Requests that arrived since the last scheduling pass, in arrival order: the pass admits
    /// what it can and turns away those of them left beyond `limits.maxWaitingQueue`.
    var arrivedSincePass: [Int32] = []
    /// Requests turned away in this pass because the waiting queue was full.
    var turnedAway: [Int32] = []
    /// Requests preempted in this pass, for the step runner (`StepRunner.released`).
    var preemptedReleases: [(requestID: Int, reason: KVReleaseReason)] = []
    /// `addPlainDecodes`' list of the decoding requests.
    var decodeScratch: [Int32] = []
    public internal(set) var statistics = ReplicaStatistics()

    init(index: Int, kv: KV, limits: ServingLimits, priorityClasses: Int, speculation: SpeculationConfiguration? = nil) {
        self.draftTokens = speculation?.draftTokens ?? 0
        self.treeWidth = speculation?.treeWidth ?? 1
        self.speculationMaxBatch = speculation?.maxBatchSize ?? 0
        self.index = index
        self.kv = kv
        self.limits = limits
        self.waiting = Array(repeating: Deque<Int32>(), count: max(1, priorityClasses))
    }

    /// Outstanding requests (waiting, swapped or running) for routing.
    public var outstanding: Int { waitingCount + running.count }

    // MARK: waiting queue

    func priorityClass(of slot: Int32, _ table: RequestTable) -> Int {
        min(max(0, Int(table.priority[Int(slot)])), waiting.count - 1)
    }

    mutating func enqueue(_ slot: Int32, table: RequestTable) {
        waiting[priorityClass(of: slot, table)].append(slot)
        waitingCount += 1
    }

    /// Puts a preempted request back at the head of its class, ahead of newer arrivals.
    mutating func requeueAtFront(_ slot: Int32, table: RequestTable) {
        waiting[priorityClass(of: slot, table)].prepend(slot)
        waitingCount += 1
    }

    /// The next request to admit: the oldest of the most urgent non-empty class.
    var headOfWaiting: Int32? {
        if waitingCount == 0 { return nil }
        for queue in waiting where !queue.isEmpty { return queue.first }
        return nil
    }

    mutating func popHead() {
        for c in waiting.indices where !waiting[c].isEmpty {
            waiting[c].removeFirst()
            waitingCount -= 1
            return
        }
    }

    /// Drops waiting requests that never started and have waited longer than `deadline`.
    mutating func dropExpired(now: SimInstant, deadline: SimDuration, table: RequestTable) {
        for c in waiting.indices {
            while let slot = waiting[c].first, table.phase[Int(slot)] == .waiting, table.preemptions[Int(slot)] == 0,
                  now.nanoseconds - table.arrival[Int(slot)] > deadline.nanoseconds {
                waiting[c].removeFirst()
                waitingCount -= 1
                dropped.append(slot)
            }
        }
    }

    /// Enforces `limits.maxWaitingQueue` after a scheduling pass: while more requests wait than
    /// the limit, the newest arrivals of this pass that are still waiting (never admitted) are
    /// moved to `turnedAway`. Requests that waited across an earlier pass were within the limit
    /// then and keep their place; so a request admitted by the first pass after its arrival
    /// never needs a queue slot, and `maxWaitingQueue: 0` means "no waiting".
    mutating func turnAwayBeyondQueueLimit(table: RequestTable) {
        defer { arrivedSincePass.removeAll(keepingCapacity: true) }
        guard waitingCount > limits.maxWaitingQueue else { return }
        for slot in arrivedSincePass.reversed() where waitingCount > limits.maxWaitingQueue {
            let s = Int(slot)
            guard table.phase[s] == .waiting, table.firstScheduledAt[s] < 0 else { continue }
            let c = priorityClass(of: slot, table)
            guard let i = waiting[c].lastIndex(of: slot) else { continue }
            waiting[c].remove(at: i)
            waitingCount -= 1
            turnedAway.append(slot)
        }
    }

    // MARK: admission

    /// Admits the head of the waiting queue if the batch has room and the KV cache accepts it.
    /// A swapped request comes back in (its swap-in is charged to this step).
    /// - Returns: the admitted slot, or nil.
    mutating func admitHead(table: inout RequestTable, now: SimInstant) -> Int32? {
        guard running.count < limits.maxBatchSize, let slot = headOfWaiting else { return nil }
        let phase = table.phase[Int(slot)]
        // A swapped request comes back with its KV; so does one whose KV arrived from a prefill replica.
        guard kv.admit(slot, resuming: phase == .swapped || phase == .transferred, table: &table) else { return nil }
        popHead()
        if phase == .swapped {
            plan.swapSeconds += Double(table.residentTokens(slot)) * kv.configuration.bytesPerToken
                / kv.configuration.hostLinkBytesPerSecond
        }
        admissions += 1
        table.admit(slot, replica: index, at: now, order: admissions)
        running.append(slot)
        return slot
    }

    /// Tokens still to prefill for `slot` before it decodes.
    func remainingPrefill(_ slot: Int32, _ table: RequestTable) -> Int {
        Int(table.prefillTarget[Int(slot)]) - Int(table.prefilled[Int(slot)])
    }

    /// Adds a prefill chunk of up to `budget` tokens for `slot`; returns the chunk length.
    mutating func addPrefillChunk(_ slot: Int32, budget: Int, table: RequestTable) -> Int {
        let chunk = min(remainingPrefill(slot, table), budget)
        if chunk > 0 {
            plan.addPrefill(slot, tokens: chunk, contextBefore: kv.configuration.budget.retained(Int(table.prefilled[Int(slot)])))
            if let offload = kv.configuration.offload {
                plan.swapSeconds += Double(kv.offloadedTokens(slot, table: table)) * kv.configuration.bytesPerToken / offload.linkBytesPerSecond
            }
        }
        return chunk
    }

    // MARK: decoding and preemption

    /// Adds one decode token for every running request that has finished its prefill, in
    /// admission order, growing its KV first. When the cache is full, the youngest running
    /// request is preempted (vLLM's policy) until the growth fits; it may be the grower itself.
    ///
    /// Under speculative decoding (when no more sequences decode than its `maxBatchSize`) each
    /// entry verifies the last token and up to `draftTokens` drafts, never more than the request
    /// still has to produce, and its KV grows by the drafts first (`Cluster.finishStep` rolls the
    /// rejected ones back). With `n` samples per request each sequence decodes `n` tokens; with
    /// a KV budget a step reads only the kept context; with an offload tier it fetches the
    /// offloaded tokens over the tier's link.
    /// - Returns: decode tokens added.
    @discardableResult
    mutating func addDecodes(table: inout RequestTable) -> Int {
        let c = kv.configuration
        if draftTokens == 0 && c.samples == 1 && c.offload == nil && c.budget.isFull { return addPlainDecodes(table: &table) }
        var added = 0
        var drafts = 0
        let samples = c.samples
        if draftTokens > 0, samples == 1 {
            var decoding = 0
            for slot in running where table.phase[Int(slot)] == .running && table.prefilled[Int(slot)] >= table.prefillTarget[Int(slot)] {
                decoding += 1
            }
            if decoding <= speculationMaxBatch { drafts = draftTokens }
        }
        let budget = c.budget
        let budgeted = !budget.isFull
        // Offloaded KV is fetched over the tier's link for every step that reads it.
        let fetchSecondsPerToken = c.offload.map { c.bytesPerToken / $0.linkBytesPerSecond } ?? 0
        var i = 0
        while i < running.count {
            let slot = running[i]
            let s = Int(slot)
            if table.phase[s] != .running || table.prefilled[s] < table.prefillTarget[s] { i += 1; continue }
            let context = Int(table.promptTokens[s]) + Int(table.generated[s])
            let chain = drafts == 0 ? 0 : min(drafts, Int(table.outputTokens[s]) - Int(table.generated[s]) - 1)
            // A tree verifies every chain's drafts, but only one chain can be kept: the cache grows
            // by one chain (rolled back to the accepted drafts in `Cluster.finishStep`); the other
            // chains' keys and values are the pass's transient workspace.
            let tokens = 1 + treeWidth * chain
            // n samples share the prompt's KV and each hold their own generated tokens.
            let need = samples == 1 ? context &+ chain : Int(table.promptTokens[s]) + samples * Int(table.generated[s])
            var fits = kv.grow(slot, toTokens: need, table: &table)
            while !fits {
                let victim = youngestPreemptible(atOrAfter: i, table)
                preempt(victim, table: &table)
                if victim == slot { break }
                fits = kv.grow(slot, toTokens: need, table: &table)
            }
            if fits {
                // The step reads what the cache keeps of the context (all of it without a budget).
                let kept = budgeted ? budget.retained(context) : context
                if fetchSecondsPerToken > 0 { plan.swapSeconds += Double(kv.offloadedTokens(slot, table: table)) * fetchSecondsPerToken }
                if samples > 1 { plan.addDecode(slot, context: kept, samples: samples) }
                else if tokens == 1 { plan.addDecode(slot, context: kept) } else { plan.addVerification(slot, tokens: tokens, context: kept, width: treeWidth) }
                added += samples > 1 ? samples : tokens
                i += 1
            }
            // else: `slot` itself was preempted and removed; `running[i]` is the next one.
        }
        return added
    }

    /// `addDecodes` without speculation, samples, budget or offload: one token per sequence at
    /// its full context (the loop every plain simulation runs millions of times).
    mutating func addPlainDecodes(table: inout RequestTable) -> Int {
        // The decoding requests, grown in one pass while their KV fits (the common case).
        decodeScratch.removeAll(keepingCapacity: true)
        for slot in running {
            let s = Int(slot)
            if table.phase[s] == .running && table.prefilled[s] >= table.prefillTarget[s] { decodeScratch.append(slot) }
        }
        let grown = kv.growDecodes(decodeScratch, addingTokens: 0, table: &table)
        for j in 0..<grown {
            let slot = decodeScratch[j]
            plan.addDecode(slot, context: Int(table.promptTokens[Int(slot)]) + Int(table.generated[Int(slot)]))
        }
        if grown == decodeScratch.count { return grown }
        // The first that did not fit, and those after it, one at a time with preemption.
        var added = grown
        var i = running.firstIndex(of: decodeScratch[grown])!
        while i < running.count {
            let slot = running[i]
            let s = Int(slot)
            if table.phase[s] != .running || table.prefilled[s] < table.prefillTarget[s] { i += 1; continue }
            let context = Int(table.promptTokens[s]) + Int(table.generated[s])
            var fits = kv.grow(slot, toTokens: context, table: &table)
            while !fits {
                let victim = youngestPreemptible(atOrAfter: i, table)
                preempt(victim, table: &table)
                if victim == slot { break }
                fits = kv.grow(slot, toTokens: context, table: &table)
            }
            if fits {
                plan.addDecode(slot, context: context)
                added += 1
                i += 1
            }
            // else: `slot` itself was preempted and removed; `running[i]` is the next one.
        }
        return added
    }

    /// Whether nothing waits and the step just planned is one plain decode token (no swap
    /// traffic, no verification) for every running request: the batch a decode-only scheduler
    /// forms again, one token of context longer, until a request arrives or finishes.
    /// (`mutating` only so that `replicas[r]` is reached in place, not copied.)
    mutating func plansOnlyPlainDecodes(table: RequestTable) -> Bool {
        guard waitingCount == 0, plan.swapSeconds == 0 else { return false }
        let count = plan.count
        let w = plan.workload
        guard w.prefillTokens == 0 && w.verifiedExtraTokens == 0 && w.decodeTokens == count else { return false }
        // Every running request decodes in the plan (a static batch's finished members may
        // linger); the plan's decodes are running requests, so equal counts settle it.
        if running.count == count { return true }
        var decoding = 0
        for slot in running where table.phase[Int(slot)] == .running { decoding += 1 }
        return decoding == count
    }

    /// The youngest running, unfinished request at position `i` or later (those before `i` are
    /// already in this step's batch; finished ones only linger in static batches).
    func youngestPreemptible(atOrAfter i: Int, _ table: RequestTable) -> Int32 {
        var j = running.count - 1
        while j > i {
            if table.phase[Int(running[j])] == .running { return running[j] }
            j -= 1
        }
        return running[i]
    }

    /// Preempts `slot`: frees its KV and puts it back at the head of the waiting queue.
    /// Recompute: its prefill target becomes `prompt + generated`. Swap: its resident KV is
    /// copied to host (`bytes / hostLinkBandwidth`, charged to this step) and back later.
    mutating func preempt(_ slot: Int32, table: inout RequestTable) {
        let s = Int(slot)
        precondition(!plan.slots.contains(slot), "cannot preempt a request already in this step's batch")
        switch kv.configuration.preemption {
        case .recompute:
            kv.release(slot, table: &table)
            table.preemptForRecompute(slot)
            statistics.recomputePreemptions += 1
        case .swap:
            if table.prefilled[s] < table.prefillTarget[s] {
                // Mid-prefill: nothing worth swapping; restart the prefill.
                kv.release(slot, table: &table)
                table.preemptForRecompute(slot)
                statistics.recomputePreemptions += 1
            } else {
                plan.swapSeconds += Double(table.residentTokens(slot)) * kv.configuration.bytesPerToken
                    / kv.configuration.hostLinkBytesPerSecond
                kv.release(slot, table: &table)
                table.preemptBySwap(slot)
                statistics.swapPreemptions += 1
            }
        }
        preemptedReleases.append((table.id[s], table.phase[s] == .swapped ? .swappedOut : .preemptedForRecompute))
        running.remove(at: running.lastIndex(of: slot)!)
        requeueAtFront(slot, table: table)
    }
}

/// What one replica did over a run: its steps' totals and its preemptions.
public struct ReplicaStatistics: Hashable, Sendable {
    public var stepTotals = StepTotals()
    public var recomputePreemptions = 0
    public var swapPreemptions = 0
    /// Seconds of KV traffic over the host link (swaps, offload fetches) charged to its steps.
    public var swapSeconds = 0.0
    public init() {}
    public var preemptions: Int { recomputePreemptions + swapPreemptions }
    public var steps: Int { stepTotals.steps }
    public var prefillTokens: Int { stepTotals.prefillTokens }
    public var decodeTokens: Int { stepTotals.decodeTokens }
    public var peakBatchSize: Int { stepTotals.batchSizeMax }
}
