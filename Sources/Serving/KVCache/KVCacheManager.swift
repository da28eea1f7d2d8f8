/// Which KV-cache policy a replica runs. One struct per case, built by `KVCacheConfiguration`.
public enum KVCacheKind: String, Codable, Sendable, CaseIterable {
    /// Each admitted request reserves `maxSequenceTokens` contiguous token slots up front
    /// (pre-vLLM servers, FasterTransformer): simple, but the unused tail is wasted.
    case contiguous
    /// Fixed-size blocks allocated on demand as the sequence grows (vLLM PagedAttention).
    case paged
    /// Paged blocks plus sharing of full prompt blocks by prefix hash, with LRU eviction of
    /// blocks no running request references (vLLM automatic prefix caching, SGLang RadixAttention).
    case prefixCaching
}

/// What happens to a running request when the cache has no block for its next token.
public enum PreemptionMode: String, Codable, Sendable, CaseIterable {
    /// Drop its KV; later prefill `prompt + generated` again (vLLM's default).
    case recompute
    /// Copy its KV to host memory and back: `bytes / hostLinkBandwidth` each way.
    case swap
}

/// The sizes a KV policy is built from.
public struct KVCacheConfiguration: Hashable, Sendable {
    public var kind: KVCacheKind
    /// Bytes of KV per token on this replica (all layers, K and V, after sharding).
    public var bytesPerToken: Double
    /// Bytes the replica can give to KV after weights and activations.
    public var capacityBytes: Double
    /// Tokens per block (paged and prefix caching).
    public var blockTokens: Int
    /// Fraction of blocks kept free at admission so running requests can grow (vLLM's watermark).
    public var watermark: Double
    /// Longest sequence (prompt + output) served; contiguous reserves this many slots per request.
    public var maxSequenceTokens: Int
    public var preemption: PreemptionMode
    /// Host link bandwidth used for swapping, bytes per second.
    public var hostLinkBytesPerSecond: Double
    /// How much of each sequence's context the cache keeps (`.full` unless a budget is set).
    public var budget: KVBudget = .full
    /// Completions per request (parallel sampling `n`, or beam width): they share the prompt's
    /// KV blocks (copy-on-write) and each holds its own output tokens.
    public var samples: Int = 1
    /// A second tier (host or CXL memory) that holds the blocks the device cannot (paged only).
    public var offload: OffloadTier?

    /// Memory beside the device that holds KV blocks it has no room for; each step that reads a
    /// sequence fetches its offloaded blocks over `linkBytesPerSecond` (priced on the step).
    public struct OffloadTier: Hashable, Sendable {
        public var capacityBytes: Double
        public var linkBytesPerSecond: Double
        public init(capacityBytes: Double, linkBytesPerSecond: Double) {
            precondition(capacityBytes > 0 && linkBytesPerSecond > 0)
            self.capacityBytes = capacityBytes
            self.linkBytesPerSecond = linkBytesPerSecond
        }
    }

    /// Blocks the offload tier holds: `floor(capacityBytes / (bytesPerToken · blockTokens))`.
    public var offloadUnits: Int {
        guard let offload else { return 0 }
        return Int(min(offload.capacityBytes / (bytesPerToken * Double(unitTokens)), 1e12).rounded(.down))
    }

    public init(kind: KVCacheKind, bytesPerToken: Double, capacityBytes: Double, blockTokens: Int = 16,
                watermark: Double = 0.01, maxSequenceTokens: Int = 8192, preemption: PreemptionMode = .recompute,
                hostLinkBytesPerSecond: Double = 64e9) {
        precondition(bytesPerToken > 0 && capacityBytes > 0 && blockTokens > 0 && maxSequenceTokens > 0)
        precondition(watermark >= 0 && watermark < 1 && hostLinkBytesPerSecond > 0)
        self.kind = kind
        self.bytesPerToken = bytesPerToken
        self.capacityBytes = capacityBytes
        self.blockTokens = blockTokens
        self.watermark = watermark
        self.maxSequenceTokens = maxSequenceTokens
        self.preemption = preemption
        self.hostLinkBytesPerSecond = hostLinkBytesPerSecond
    }

    /// Allocation unit in tokens: `blockTokens`, or 1 for contiguous reservation.
    public var unitTokens: Int { kind == .contiguous ? 1 : blockTokens }

    /// Units (blocks, or token slots) that fit: `floor(capacityBytes / (bytesPerToken · unitTokens))`.
    public var totalUnits: Int { Int((capacityBytes / (bytesPerToken * Double(unitTokens))).rounded(.down)) }
}

/// Counters a KV policy keeps over a run.
public struct KVCacheStatistics: Hashable, Sendable {
    public var totalBlocks = 0
    public var blockTokens = 1
    public var peakUsedBlocks = 0
    /// Prompt tokens looked up in the prefix cache at admission, and how many were found.
    public var prefixLookupTokens = 0
    public var prefixHitTokens = 0
    /// Cached prefix entries evicted to make room.
    public var evictions = 0
    public init() {}
    /// `prefixHitTokens / prefixLookupTokens`, 0 when nothing was looked up.
    public var prefixHitRate: Double { prefixLookupTokens == 0 ? 0 : Double(prefixHitTokens) / Double(prefixLookupTokens) }
}

/// Allocates a replica's KV memory to requests.
///
/// The replica asks for room before a request starts (`admit`) and before each token that
/// needs a new block (`grow`); a `false` answer is how preemption is triggered. All sizes
/// are in tokens; the policy turns them into its own units.
public protocol KVCacheManager: Sendable {
    var configuration: KVCacheConfiguration { get }
    var totalBlocks: Int { get }
    var usedBlocks: Int { get }
    /// Tokens actually held in allocated units (for fragmentation).
    var storedTokens: Int { get }
    var statistics: KVCacheStatistics { get }
    /// Blocks held on behalf of requests (used minus cached blocks that nothing references).
    var pinnedBlocks: Int { get }
    /// Blocks in use in the offload tier (0 without one).
    var usedHostBlocks: Int { get }

    /// Why a request of this size can never be served, or nil if it can. With `samples`
    /// completions sharing the prompt, the cache must hold `prompt + samples · output` tokens.
    func rejection(promptTokens: Int, outputTokens: Int) -> RejectionReason?
    /// Reserves room for `slot` to hold `table.prefillTarget` tokens (fresh or after a
    /// recompute; may reuse cached prefix blocks and advance `table.prefilled`) or, when
    /// `resuming` a swapped request, its resident tokens. Keeps the admission watermark.
    mutating func admit(_ slot: Int32, resuming: Bool, table: inout RequestTable) -> Bool
    /// Makes room for `slot` to hold `tokens` tokens; false if the cache is full.
    mutating func grow(_ slot: Int32, toTokens tokens: Int, table: inout RequestTable) -> Bool
    /// Gives back what `slot` holds beyond `tokens` tokens (speculative decoding's rejected
    /// drafts): whole blocks past the last one `tokens` needs return to the pool. No-op when it
    /// holds `tokens` or fewer.
    mutating func truncate(_ slot: Int32, toTokens tokens: Int, table: inout RequestTable)
    /// Tokens of `slot` whose KV sits in the offload tier (0 without one).
    func offloadedTokens(_ slot: Int32, table: RequestTable) -> Int
    /// Frees everything `slot` holds (completion or preemption).
    mutating func release(_ slot: Int32, table: inout RequestTable)
    /// Called when `slot`'s prefill finishes: a prefix cache publishes its full prompt blocks.
    mutating func prefillCompleted(_ slot: Int32, table: inout RequestTable)
    /// For decode fast-forward: the tokens and blocks of a sequence holding `holding`, and the tokens a block
    /// holds, when `grow` only ever takes whole blocks from the free pool (`allocates`) or
    /// cannot take any (`allocates == false`: growth stops at `blocks · tokensPerBlock`); nil
    /// when growing does anything else (tiers, budgets, shared prefixes).
    func growthLayout(of holding: KVHolding) -> KVGrowthLayout?
    /// A batch of decodes' growth in one pass: adds `tokens` generated tokens to each of `slots`
    /// in order (none if 0) and grows its KV to its prompt and generated tokens, as `grow` would;
    /// stops at the first that finds no room, leaving it as it was.
    /// - Returns: how many grew.
    mutating func growDecodes(_ slots: [Int32], addingTokens tokens: Int32, table: inout RequestTable) -> Int
}

/// How a sequence's KV grows one token at a time (`KVCacheManager.growthLayout`).
public struct KVGrowthLayout: Sendable {
    public var tokens: Int
    public var blocks: Int
    public var tokensPerBlock: Int
    public var allocates: Bool
    public init(tokens: Int, blocks: Int, tokensPerBlock: Int, allocates: Bool) {
        self.tokens = tokens
        self.blocks = blocks
        self.tokensPerBlock = tokensPerBlock
        self.allocates = allocates
    }
}

extension KVCacheManager {
    public func offloadedTokens(_ slot: Int32, table: RequestTable) -> Int { 0 }
    public func growthLayout(of holding: KVHolding) -> KVGrowthLayout? { nil }

    public mutating func growDecodes(_ slots: [Int32], addingTokens tokens: Int32, table: inout RequestTable) -> Int {
        growDecodesOneByOne(slots, addingTokens: tokens, table: &table)
    }

    /// `growDecodes` through `grow`, one slot at a time.
    mutating func growDecodesOneByOne(_ slots: [Int32], addingTokens tokens: Int32, table: inout RequestTable) -> Int {
        for (i, slot) in slots.enumerated() {
            let s = Int(slot)
            guard grow(slot, toTokens: Int(table.promptTokens[s]) + Int(table.generated[s]) + Int(tokens), table: &table) else { return i }
            if tokens > 0 { table.recordWindowTokens(slot, count: tokens) }
        }
        return slots.count
    }
    public var usedHostBlocks: Int { 0 }
    /// Used over total blocks.
    public var utilisation: Double { totalBlocks == 0 ? 0 : Double(usedBlocks) / Double(totalBlocks) }
    /// Internal fragmentation: `1 - storedTokens / ((usedBlocks + usedHostBlocks) · unitTokens)`,
    /// 0 when empty (stored tokens count those offloaded, so their blocks count too).
    public var fragmentation: Double { fragmentation(storedTokens: storedTokens, usedBlocks: usedBlocks) }
    /// `fragmentation` as it would be with `stored` tokens in `used` blocks (same host blocks).
    public func fragmentation(storedTokens stored: Int, usedBlocks used: Int) -> Double {
        Self.fragmentation(storedTokens: stored, allocatedTokens: (used + usedHostBlocks) * configuration.unitTokens)
    }
    /// `1 − stored / allocated`, 0 when nothing is allocated.
    @inline(__always) public static func fragmentation(storedTokens stored: Int, allocatedTokens allocated: Int) -> Double {
        allocated == 0 ? 0 : 1 - Double(stored) / Double(allocated)
    }
    public var freeBlocks: Int { totalBlocks - usedBlocks }
}
