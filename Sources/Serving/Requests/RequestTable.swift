import DiscreteEvent

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
}

/// Every in-flight request's state, stored column by column (struct-of-arrays) so that the
/// per-step loops touch a few dense arrays and allocate nothing.
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
    public var id: [Int] = []
    public var arrival: [Int64] = []
    public var promptTokens: [Int32] = []
    public var outputTokens: [Int32] = []
    public var priority: [Int32] = []
    public var session: [Int] = []
    public var prefixHashes: [[UInt64]] = []
    public var prefixBlockTokens: [Int32] = []
    /// Tokens of `prefillTarget` whose KV is computed (or reused from the prefix cache).
    public var prefilled: [Int32] = []
    public var prefillTarget: [Int32] = []
    /// Output tokens produced so far.
    public var generated: [Int32] = []
    public var firstTokenAt: [Int64] = []
    /// First admission into a running batch, or -1.
    public var firstScheduledAt: [Int64] = []
    public var phase: [RequestPhase] = []
    public var replica: [Int32] = []
    /// KV blocks (or token slots for contiguous reservation) owned privately by the request.
    public var kvBlocks: [Int32] = []
    /// Prefix-cache entries the request references (its leading `prefixHashes`).
    public var kvSharedEntries: [Int32] = []
    /// Tokens the request's private KV allocation currently covers (for fragmentation).
    public var kvTokens: [Int32] = []
    /// Of `kvBlocks`, those kept in the offload tier (host or CXL memory) rather than on the device.
    public var kvHostBlocks: [Int32] = []
    /// Prompt tokens whose KV came from the prefix cache at first admission.
    public var cachedPromptTokens: [Int32] = []
    public var preemptions: [Int32] = []
    /// Admission order on the replica, used to pick the youngest request as the preemption victim.
    public var admittedOrder: [Int64] = []

    @usableFromInline var freeSlots: [Int32] = []
    public private(set) var liveCount = 0

    public init() {}

    /// Number of slots ever allocated (the table's high-water mark).
    public var capacity: Int { id.count }

    /// Stores `request` in a free slot and returns the slot.
    /// - Complexity: amortised O(1).
    public mutating func insert(_ request: RequestSpec) -> Int32 {
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
            firstScheduledAt[s] = -1
            phase[s] = .waiting
            replica[s] = -1
            kvBlocks[s] = 0
            kvSharedEntries[s] = 0
            kvTokens[s] = 0
            kvHostBlocks[s] = 0
            cachedPromptTokens[s] = 0
            preemptions[s] = 0
            admittedOrder[s] = 0
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
        firstScheduledAt.append(-1)
        phase.append(.waiting)
        replica.append(-1)
        kvBlocks.append(0)
        kvSharedEntries.append(0)
        kvTokens.append(0)
        kvHostBlocks.append(0)
        cachedPromptTokens.append(0)
        preemptions.append(0)
        admittedOrder.append(0)
        return Int32(id.count - 1)
    }

    /// Returns `slot` to the free list; its columns are overwritten by the next `insert`.
    public mutating func remove(_ slot: Int32) {
        precondition(liveCount > 0)
        liveCount -= 1
        prefixHashes[Int(slot)] = []
        freeSlots.append(slot)
    }

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
