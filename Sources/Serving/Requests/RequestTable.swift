import DiscreteEvent
import ServingMetrics

/// Where a request is in its life on a replica.
public enum RequestPhase: UInt8, Sendable {
    /// In a replica's waiting queue, holding no KV.
    case waiting
    /// Admitted: holds KV and takes part in steps (prefilling or decoding).
    case running
    /// Preempted by swapping its KV to host memory; waits to be swapped back in.
    case swapped
    /// All output tokens produced (static batching may still hold its KV until the batch ends).
    case finished
    /// Prefilled on a prefill replica, its KV on the way to (or waiting on) a decode replica
    /// (disaggregated serving): admitted there with its KV resident, without prefill or swap.
    case transferred
}

/// What a request's KV allocation holds: written only by the replica's KV-cache manager,
/// through `RequestTable.updateKV(_:_:)` (a whole batch through `RequestTable.withDecodeColumns`).
public struct KVHolding: Hashable, Sendable {
    /// KV blocks (or token slots for contiguous reservation) owned privately by the request.
    public var blocks: Int32 = 0
    /// Of `blocks`, those kept in the offload tier (host or CXL memory) rather than on the device.
    public var hostBlocks: Int32 = 0
    /// Tokens the private allocation covers (for fragmentation).
    public var tokens: Int32 = 0
    /// Prefix-cache entries the request references (its leading `prefixHashes`).
    public var sharedEntries: Int32 = 0
    public init() {}
}

/// `RequestTable.withDecodeColumns`: the prompt, generated-token and KV columns, by slot.
struct DecodeColumns {
    let promptTokens: UnsafeBufferPointer<Int32>
    let generated: UnsafeMutableBufferPointer<Int32>
    let kv: UnsafeMutableBufferPointer<KVHolding>
}

/// Every in-flight request's state, stored column by column (struct-of-arrays) so that the
/// per-step loops touch a few dense arrays and allocate nothing.
///
/// The table is the one owner of request state. Every column is readable and none is writable
/// from outside: components change a request through the operations below, each named after the
/// event it records (arrival, admission, prefill progress, tokens, preemption, KV allocation), so
/// the transitions a request can take are listed in this file and nowhere else.
///
/// Rows are *slots*: a slot is taken when a request arrives and returned when it completes or
/// is rejected, so memory is bounded by the number of requests in flight, not by the trace.
///
/// Token bookkeeping of one request (the vLLM convention):
/// - `prefillTarget` tokens must be in the KV cache before decoding starts: the prompt, or, after a
///   recompute preemption, the prompt plus every token generated so far.
/// - The step that finishes the prefill also produces one output token.
/// - While decoding, the KV cache holds `promptTokens + generated - 1` tokens and a decode step
///   attends over `promptTokens + generated` positions (it appends the last generated token).
public struct RequestTable: Sendable {
    public private(set) var id: [Int] = []
    public private(set) var arrival: [Int64] = []
    public private(set) var promptTokens: [Int32] = []
    public private(set) var outputTokens: [Int32] = []
    public private(set) var priority: [Int32] = []
    public private(set) var session: [Int] = []
    public private(set) var prefixHashes: [[UInt64]] = []
    public private(set) var prefixBlockTokens: [Int32] = []
    /// Tokens of `prefillTarget` whose KV is computed (or reused from the prefix cache).
    public private(set) var prefilled: [Int32] = []
    public private(set) var prefillTarget: [Int32] = []
    /// Output tokens produced so far.
    public private(set) var generated: [Int32] = []
    public private(set) var firstTokenAt: [Int64] = []
    /// When the request's latest output token was produced (ns), or -1: the start of the gap the
    /// next token closes (its inter-token latency, stalls included).
    public private(set) var lastTokenAt: [Int64] = []
    /// First admission into a running batch, or -1.
    public private(set) var firstScheduledAt: [Int64] = []
    public private(set) var phase: [RequestPhase] = []
    public private(set) var replica: [Int32] = []
    /// The request's KV allocation (see `KVHolding`).
    public private(set) var kv: [KVHolding] = []
    /// Prompt tokens whose KV came from the prefix cache at first admission.
    public private(set) var cachedPromptTokens: [Int32] = []
    public private(set) var preemptions: [Int32] = []
    /// Admission order on the replica, used to pick the youngest request as the preemption victim.
    public private(set) var admittedOrder: [Int64] = []
    /// The request's draft-acceptance rate from its trace row, or -1 (the scenario's rate applies).
    public private(set) var acceptance: [Double] = []

    /// Whether each request keeps its longest inter-token gaps (`tailGap`): off unless a report
    /// needs Mooncake's time between tokens, since it costs a heap update per token.
    public let tracksTailGaps: Bool
    /// Per request, a min-heap of its longest `tailGapCount` gaps so far (ns), when tracked.
    private var worstGaps: [[Int64]] = []

    @usableFromInline var freeSlots: [Int32] = []
    public private(set) var liveCount = 0

    public init(tracksTailGaps: Bool = false) { self.tracksTailGaps = tracksTailGaps }

    /// Number of slots ever allocated (the table's high-water mark).
    public var capacity: Int { id.count }

    // MARK: arrival and departure

    /// Stores `request` in a free slot, routed to `replica`, waiting; returns the slot.
    /// - Complexity: amortised O(1).
    public mutating func insert(_ request: RequestSpec, replica r: Int = -1) -> Int32 {
        liveCount += 1
        if let slot = freeSlots.popLast() {
            let s = Int(slot)
            id[s] = request.id
            arrival[s] = request.arrival.nanoseconds
            promptTokens[s] = Int32(clamping: request.promptTokens)
            outputTokens[s] = Int32(clamping: request.outputTokens)
            priority[s] = Int32(clamping: request.priority)
            session[s] = request.session ?? -1
            prefixHashes[s] = request.prefixHashes
            prefixBlockTokens[s] = Int32(clamping: request.prefixBlockTokens)
            prefilled[s] = 0
            prefillTarget[s] = Int32(clamping: request.promptTokens)
            generated[s] = 0
            firstTokenAt[s] = -1
            lastTokenAt[s] = -1
            if tracksTailGaps { worstGaps[s].removeAll(keepingCapacity: true) }
            firstScheduledAt[s] = -1
            phase[s] = .waiting
            replica[s] = Int32(r)
            kv[s] = KVHolding()
            cachedPromptTokens[s] = 0
            preemptions[s] = 0
            admittedOrder[s] = 0
            acceptance[s] = request.acceptanceRate ?? -1
            return slot
        }
        id.append(request.id)
        arrival.append(request.arrival.nanoseconds)
        promptTokens.append(Int32(clamping: request.promptTokens))
        outputTokens.append(Int32(clamping: request.outputTokens))
        priority.append(Int32(clamping: request.priority))
        session.append(request.session ?? -1)
        prefixHashes.append(request.prefixHashes)
        prefixBlockTokens.append(Int32(clamping: request.prefixBlockTokens))
        prefilled.append(0)
        prefillTarget.append(Int32(clamping: request.promptTokens))
        generated.append(0)
        firstTokenAt.append(-1)
        lastTokenAt.append(-1)
        if tracksTailGaps { worstGaps.append([]) }
        firstScheduledAt.append(-1)
        phase.append(.waiting)
        replica.append(Int32(r))
        kv.append(KVHolding())
        cachedPromptTokens.append(0)
        preemptions.append(0)
        admittedOrder.append(0)
        acceptance.append(request.acceptanceRate ?? -1)
        return Int32(id.count - 1)
    }

    /// Returns `slot` to the free list; its columns are overwritten by the next `insert`.
    public mutating func remove(_ slot: Int32) {
        precondition(liveCount > 0)
        precondition(kv[Int(slot)] == KVHolding(), "a request leaves the table only after its KV is released")
        liveCount -= 1
        prefixHashes[Int(slot)] = []
        freeSlots.append(slot)
    }

    /// The completed request's life, for the metrics (`RequestTimeline`), finished at `now`.
    public func timeline(_ slot: Int32, completedAt now: SimInstant) -> RequestTimeline {
        let s = Int(slot)
        return RequestTimeline(
            id: id[s], arrival: SimInstant(nanoseconds: arrival[s]), scheduled: SimInstant(nanoseconds: firstScheduledAt[s]),
            firstToken: SimInstant(nanoseconds: firstTokenAt[s]), completion: now,
            promptTokens: Int(promptTokens[s]), outputTokens: Int(outputTokens[s]), preemptions: Int(preemptions[s]),
            cachedPromptTokens: Int(cachedPromptTokens[s]), replica: Int(replica[s]), priority: Int(priority[s]),
            tailGap: tailGap(slot))
    }

    // MARK: admission and progress

    /// The request joins replica `r`'s running batch at `now` (its `order`-th admission there).
    /// A request keeps the instant of its first admission across preemptions.
    @inline(__always) mutating func admit(_ slot: Int32, replica r: Int, at now: SimInstant, order: Int64) {
        let s = Int(slot)
        phase[s] = .running
        replica[s] = Int32(r)
        if firstScheduledAt[s] < 0 { firstScheduledAt[s] = now.nanoseconds }
        admittedOrder[s] = order
    }

    /// At admission the prefix cache supplied the KV of the prompt's first `tokens` tokens;
    /// counted as cached prompt tokens when this is the request's first admission.
    mutating func reusePrefix(_ slot: Int32, tokens: Int, firstAdmission: Bool) {
        let s = Int(slot)
        if firstAdmission { cachedPromptTokens[s] = Int32(tokens) }
        prefilled[s] = Int32(tokens)
    }

    /// A step computed `tokens` more tokens of the prefill. Returns true when the prefill is
    /// complete; the first completed prefill sets the first-token instant to `now`.
    @inline(__always) mutating func recordPrefill(_ slot: Int32, tokens: Int32, at now: SimInstant) -> Bool {
        let s = Int(slot)
        prefilled[s] += tokens
        guard prefilled[s] >= prefillTarget[s] else { return false }
        if firstTokenAt[s] < 0 { firstTokenAt[s] = now.nanoseconds }
        return true
    }

    /// A step ending at `now` produced `count` output tokens for the request (1, or more after a
    /// verification that accepted drafts). Returns true, and marks the request finished, when it
    /// has all its output tokens.
    @inline(__always) mutating func recordTokens(_ slot: Int32, count: Int32, at now: SimInstant) -> Bool {
        let s = Int(slot)
        generated[s] += count
        if tracksTailGaps && lastTokenAt[s] >= 0 {
            // A verification's extra tokens arrive with the first: gaps of zero.
            noteGap(s, now.nanoseconds - lastTokenAt[s])
            for _ in 1..<max(1, Int(count)) { noteGap(s, 0) }
        }
        lastTokenAt[s] = now.nanoseconds
        guard generated[s] == outputTokens[s] else { return false }
        phase[s] = .finished
        return true
    }

    /// `recordTokens(_:count: 1, at:)` for every slot of a batch of plain decodes (the one loop
    /// of a decode step's end, with one exclusive access to each column): appends the slots that
    /// finished to `finished`. Without tail-gap tracking only.
    mutating func recordDecodeTokens(_ slots: [Int32], at now: SimInstant, finished: inout [Int32]) {
        precondition(!tracksTailGaps, "tail gaps are recorded one token at a time")
        let t = now.nanoseconds
        let n = generated.count
        outputTokens.withUnsafeBufferPointer { output in
            generated.withUnsafeMutableBufferPointer { generated in
                lastTokenAt.withUnsafeMutableBufferPointer { last in
                    for slot in slots {
                        let s = Int(slot)
                        precondition(s >= 0 && s < n, "slot \(s) outside the table")
                        let g = generated[s] &+ 1
                        generated[s] = g
                        last[s] = t
                        if g == output[s] { finished.append(slot) }
                    }
                }
            }
        }
        for slot in finished { phase[Int(slot)] = .finished }
    }

    /// Runs `body` over the columns a decode's KV growth reads and writes, each reached once
    /// for a whole batch (one exclusive access per column rather than one per request).
    @inline(__always) mutating func withDecodeColumns<R>(_ body: (inout DecodeColumns) -> R) -> R {
        promptTokens.withUnsafeBufferPointer { prompt in
            generated.withUnsafeMutableBufferPointer { generated in
                kv.withUnsafeMutableBufferPointer { kv in
                    var columns = DecodeColumns(promptTokens: prompt, generated: generated, kv: kv)
                    return body(&columns)
                }
            }
        }
    }

    /// A fast-forwarded window's tokens but its last, whose step end (`recordTokens`) follows
    /// at once and sets the last-token instant: the window's own gaps equal its steps.
    @inline(__always) mutating func recordWindowTokens(_ slot: Int32, count: Int32) {
        generated[Int(slot)] += count
    }

    // MARK: time between tokens

    /// How many of its longest gaps a request with `outputTokens` tokens averages for its tail
    /// time between tokens: the top 10% of its `outputTokens − 1` gaps, at least one.
    @inlinable public static func tailGapCount(outputTokens: Int) -> Int { max(1, (outputTokens - 1 + 9) / 10) }

    /// Keeps `gap` if it is among the request's longest `tailGapCount` so far (a bounded min-heap).
    mutating func noteGap(_ s: Int, _ gap: Int64) {
        let k = Self.tailGapCount(outputTokens: Int(outputTokens[s]))
        worstGaps[s].insertBoundedMinHeap(gap, capacity: k)
    }

    /// The mean of the request's longest 10% of inter-token gaps (Mooncake's per-request time
    /// between tokens), rounded to the nanosecond; nil when not tracked or with no gap.
    public func tailGap(_ slot: Int32) -> SimDuration? {
        guard tracksTailGaps else { return nil }
        let heap = worstGaps[Int(slot)]
        guard !heap.isEmpty else { return nil }
        let n = Int64(heap.count)
        return SimDuration(nanoseconds: (heap.reduce(0, +) + n / 2) / n)
    }

    // MARK: disaggregated serving

    /// The prefill pool is done with the request (its KV freed there and sent on).
    mutating func handOff(_ slot: Int32) {
        phase[Int(slot)] = .transferred
        replica[Int(slot)] = -1
    }

    /// The request now belongs to replica `r` (its decode replica, once its KV has landed).
    mutating func assign(_ slot: Int32, toReplica r: Int) {
        replica[Int(slot)] = Int32(r)
    }

    // MARK: preemption

    /// Preempted with its KV freed: it waits again and must recompute `prompt + generated`
    /// tokens (or, still prefilling, restart its prefill).
    mutating func preemptForRecompute(_ slot: Int32) {
        let s = Int(slot)
        prefillTarget[s] = promptTokens[s] + generated[s]
        prefilled[s] = 0
        phase[s] = .waiting
        preemptions[s] += 1
    }

    /// Preempted with its KV copied to host memory: it waits to be swapped back in.
    mutating func preemptBySwap(_ slot: Int32) {
        let s = Int(slot)
        phase[s] = .swapped
        preemptions[s] += 1
    }

    // MARK: KV allocation

    /// Changes the request's KV allocation; called only by the replica's KV-cache manager.
    @inline(__always) mutating func updateKV(_ slot: Int32, _ change: (inout KVHolding) -> Void) {
        change(&kv[Int(slot)])
    }

    // MARK: derived

    /// True while the request still has prompt (or recompute) tokens to prefill.
    public func isPrefilling(_ slot: Int32) -> Bool {
        prefilled[Int(slot)] < prefillTarget[Int(slot)]
    }

    /// Tokens whose KV must be resident for the next decode step: `prompt + generated`.
    public func decodeContext(_ slot: Int32) -> Int {
        Int(promptTokens[Int(slot)]) + Int(generated[Int(slot)])
    }

    /// Tokens whose KV is resident now.
    public func residentTokens(_ slot: Int32) -> Int {
        let s = Int(slot)
        if prefilled[s] < prefillTarget[s] { return Int(prefilled[s]) }
        return Int(promptTokens[s]) + Int(generated[s]) - 1
    }
}

extension Array where Element == Int64 {
    /// Min-heap insertion bounded at `capacity`: appends while there is room, otherwise replaces
    /// the smallest element when `value` is larger.
    mutating func insertBoundedMinHeap(_ value: Int64, capacity: Int) {
        if count < capacity {
            append(value)
            var i = count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard self[parent] > self[i] else { break }
                swapAt(parent, i)
                i = parent
            }
            return
        }
        guard value > self[0] else { return }
        self[0] = value
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < count && self[l] < self[m] { m = l }
            if r < count && self[r] < self[m] { m = r }
            if m == i { break }
            swapAt(i, m)
            i = m
        }
    }
}
