import CostModel

/// The batch of one forward step: which sequences take part and with how many new tokens.
///
/// Kept in parallel arrays that are cleared, not reallocated, between steps, so forming and
/// finishing a step allocates nothing. `workload` is summed as entries are added, so pricing is
/// O(1) whatever the batch size.
public struct StepPlan: Sendable {
    /// Request slots in the batch.
    public private(set) var slots: [Int32] = []
    /// Per entry: the prefill chunk length (> 0); 0 for a plain decode; `−q` for a decode that
    /// verifies `q` tokens under speculative decoding (one array, so a plain step appends two
    /// values per entry).
    public private(set) var prefillTokens: [Int32] = []
    public private(set) var workload = StepWorkload()
    /// Seconds of host-link traffic (swap out / swap in) the step waits for.
    public var swapSeconds: Double = 0

    public init() {}

    public var count: Int { slots.count }
    public var isEmpty: Bool { slots.isEmpty }

    mutating func reset() {
        slots.removeAll(keepingCapacity: true)
        prefillTokens.removeAll(keepingCapacity: true)
        workload = StepWorkload()
        swapSeconds = 0
    }

    /// Adds a prefill chunk of `tokens` after `contextBefore` resident tokens.
    mutating func addPrefill(_ slot: Int32, tokens: Int, contextBefore: Int) {
        slots.append(slot)
        prefillTokens.append(Int32(tokens))
        workload.addPrefillChunk(tokens: tokens, contextBefore: contextBefore)
    }

    /// Adds one decode token attending over `context` positions (including itself).
    @inline(__always) mutating func addDecode(_ slot: Int32, context: Int) {
        slots.append(slot)
        prefillTokens.append(0)
        workload.addDecode(contextLength: context)
    }

    /// Adds one decode token for each of `samples` completions of one request, all at `context`
    /// positions (the prompt is shared, the outputs are their own).
    mutating func addDecode(_ slot: Int32, context: Int, samples: Int) {
        slots.append(slot)
        prefillTokens.append(0)
        for _ in 0..<samples { workload.addDecode(contextLength: context) }
    }

    /// Decode fast-forward's continuation: the same plain decodes `steps` steps later, each
    /// sequence's context `steps` tokens longer.
    mutating func advanceDecodes(by steps: Int) {
        workload.decodeContextTokens += steps * workload.decodeTokens
    }

    /// Adds a decode entry that verifies `tokens` tokens (the last generated one and
    /// `tokens − 1` drafts in `width` chains) after `context − 1` resident ones.
    mutating func addVerification(_ slot: Int32, tokens: Int, context: Int, width: Int = 1) {
        slots.append(slot)
        prefillTokens.append(-Int32(tokens))
        workload.addVerification(tokens: tokens, contextBefore: context - 1, width: width)
    }
}
