/// Paged blocks whose full prompt blocks are shared between requests by prefix hash, with
/// LRU eviction of blocks that no running request references (vLLM automatic prefix caching;
/// Zheng et al., *SGLang*, 2024; Qin et al., *Mooncake*, FAST 2025).
///
/// The cache unit is one *entry*: the KV of one prefix-hash block of `prefixBlockTokens`
/// tokens (512 in the Mooncake traces), stored as `prefixBlockTokens / blockTokens` KV blocks.
/// A request reuses as many *leading* entries as are cached (its first miss ends the match),
/// never the whole prompt: at least one token is always computed to produce logits.
/// When its prefill ends, its remaining full prompt blocks are published as new entries.
/// On release, entries are queued for eviction deepest-first, so chains shrink from the tail.
///
/// Block accounting: `used = Σ private blocks of holders + entries · blocksPerEntry`.
public struct PrefixCaching: KVCacheManager {
    public let configuration: KVCacheConfiguration
    public let totalBlocks: Int
    public private(set) var usedBlocks = 0
    public private(set) var statistics = KVCacheStatistics()
    let blockTokens: Int
    let watermarkBlocks: Int
    var privateTokens = 0

    // Entries (slot-indexed columns) and the LRU list of unreferenced ones (head = oldest).
    var entryHash: [UInt64] = []
    var entryRefs: [Int32] = []
    var entryBlocks: [Int32] = []
    var entryTokens: [Int32] = []
    var lruPrev: [Int32] = []
    var lruNext: [Int32] = []
    var inLRU: [Bool] = []
    var freeEntries: [Int32] = []
    var index: [UInt64: Int32] = [:]
    var lruHead: Int32 = -1
    var lruTail: Int32 = -1
    /// Blocks held by unreferenced (evictable) entries.
    var evictableBlocks = 0
    var cachedBlocks = 0
    var cachedTokens = 0
    #if DEBUG
    var holders = Set<Int32>()
    var mutationsSinceFullCheck = 0
    #endif

    public var pinnedBlocks: Int { usedBlocks - evictableBlocks }

    /// - Precondition: `configuration.budget` is `.full` (a budget that drops tokens would drop
    ///   shared prefix blocks too; the scenario decoder refuses the combination).
    public init(configuration: KVCacheConfiguration) {
        precondition(configuration.budget.isFull, "prefix caching keeps every token")
        precondition(configuration.offload == nil, "only paged blocks offload")
        self.configuration = configuration
        totalBlocks = configuration.totalUnits
        blockTokens = configuration.blockTokens
        watermarkBlocks = Int(configuration.watermark * Double(configuration.totalUnits))
        statistics.totalBlocks = totalBlocks
        statistics.blockTokens = blockTokens
    }

    public var storedTokens: Int { privateTokens + cachedTokens }

    func blocks(for tokens: Int) -> Int { (tokens + blockTokens - 1) / blockTokens }

    /// Tokens per shareable entry for `slot`, or 0 when its prefix blocks cannot be shared
    /// (no hashes, or a hash block that is not a whole number of KV blocks).
    func entryTokens(of slot: Int32, _ table: RequestTable) -> Int {
        let t = Int(table.prefixBlockTokens[Int(slot)])
        return t > 0 && t % blockTokens == 0 ? t : 0
    }

    public func rejection(promptTokens: Int, outputTokens: Int) -> RejectionReason? {
        if promptTokens + outputTokens > configuration.maxSequenceTokens { return .exceedsMaxSequenceLength }
        if blocks(for: promptTokens + configuration.samples * outputTokens) > totalBlocks - watermarkBlocks { return .exceedsKVCapacity }
        return nil
    }

    public mutating func admit(_ slot: Int32, resuming: Bool, table: inout RequestTable) -> Bool {
        let s = Int(slot)
        precondition(table.kv[s].blocks == 0 && table.kv[s].sharedEntries == 0)
        // Which leading entries are cached (only for a request that starts its prefill).
        var matched = 0
        var matchedEvictableBlocks = 0
        let perEntry = resuming ? 0 : entryTokens(of: slot, table)
        let target = Int(table.prefillTarget[s])
        if perEntry > 0 {
            let hashes = table.prefixHashes[s]
            let limit = min(hashes.count, (target - 1) / perEntry)
            while matched < limit, let e = index[hashes[matched]] {
                if inLRU[Int(e)] { matchedEvictableBlocks += Int(entryBlocks[Int(e)]) }
                matched += 1
            }
        }
        let tokens = resuming ? table.residentTokens(slot) : target
        let privateTokensNeeded = tokens - matched * perEntry
        let need = blocks(for: privateTokensNeeded)
        // Free blocks now, plus what eviction could free without touching the entries matched here.
        let obtainable = totalBlocks - usedBlocks + evictableBlocks - matchedEvictableBlocks
        guard obtainable - need >= watermarkBlocks else { return false }
        if perEntry > 0 {
            let hashes = table.prefixHashes[s]
            for i in 0..<matched { reference(index[hashes[i]]!) }
            let first = !resuming && table.preemptions[s] == 0
            if first {
                statistics.prefixLookupTokens += Int(table.promptTokens[s])
                statistics.prefixHitTokens += matched * perEntry
            }
            table.reusePrefix(slot, tokens: matched * perEntry, firstAdmission: first)
        } else if !resuming && table.preemptions[s] == 0 {
            statistics.prefixLookupTokens += Int(table.promptTokens[s])
        }
        let evicted = evict(toFree: need)
        precondition(evicted, "admission check promised \(need) blocks")
        usedBlocks += need
        if usedBlocks > statistics.peakUsedBlocks { statistics.peakUsedBlocks = usedBlocks }
        table.updateKV(slot) { $0.blocks = Int32(need); $0.sharedEntries = Int32(matched); $0.tokens = Int32(privateTokensNeeded) }
        privateTokens += privateTokensNeeded
        #if DEBUG
        holders.insert(slot)
        checkInvariants(table)
        #endif
        return true
    }

    public mutating func grow(_ slot: Int32, toTokens tokens: Int, table: inout RequestTable) -> Bool {
        let s = Int(slot)
        let sharedTokens = Int(table.kv[s].sharedEntries) * entryTokens(of: slot, table)
        let privateNeeded = tokens - sharedTokens
        let held = Int(table.kv[s].tokens)
        if privateNeeded <= held { return true }
        let need = blocks(for: privateNeeded) - Int(table.kv[s].blocks)
        if need > 0 {
            guard evict(toFree: need) else { return false }
            usedBlocks += need
            if usedBlocks > statistics.peakUsedBlocks { statistics.peakUsedBlocks = usedBlocks }
            table.updateKV(slot) { $0.blocks += Int32(need) }
        }
        privateTokens += privateNeeded - held
        table.updateKV(slot) { $0.tokens = Int32(privateNeeded) }
        #if DEBUG
        checkInvariants(table)
        #endif
        return true
    }

    public mutating func truncate(_ slot: Int32, toTokens tokens: Int, table: inout RequestTable) {
        let s = Int(slot)
        let sharedTokens = Int(table.kv[s].sharedEntries) * entryTokens(of: slot, table)
        let privateKept = max(0, tokens - sharedTokens)
        let held = Int(table.kv[s].tokens)
        guard privateKept < held else { return }
        let keep = blocks(for: privateKept)
        usedBlocks -= Int(table.kv[s].blocks) - keep
        table.updateKV(slot) { $0.blocks = Int32(keep) }
        privateTokens -= held - privateKept
        table.updateKV(slot) { $0.tokens = Int32(privateKept) }
        #if DEBUG
        checkInvariants(table)
        #endif
    }

    public mutating func release(_ slot: Int32, table: inout RequestTable) {
        let s = Int(slot)
        usedBlocks -= Int(table.kv[s].blocks)
        privateTokens -= Int(table.kv[s].tokens)
        let shared = Int(table.kv[s].sharedEntries)
        if shared > 0 {
            let hashes = table.prefixHashes[s]
            // Deepest first, so the LRU evicts chain tails before the prefixes others share.
            for i in stride(from: shared - 1, through: 0, by: -1) { dereference(index[hashes[i]]!) }
        }
        table.updateKV(slot) { $0 = KVHolding() }
        #if DEBUG
        holders.remove(slot)
        checkInvariants(table)
        #endif
    }

    /// Publishes the request's full prompt blocks as shared entries (or, when an equal entry
    /// appeared meanwhile, frees the duplicate and references the existing one).
    public mutating func prefillCompleted(_ slot: Int32, table: inout RequestTable) {
        let s = Int(slot)
        let perEntry = entryTokens(of: slot, table)
        guard perEntry > 0 else { return }
        let hashes = table.prefixHashes[s]
        let full = min(hashes.count, Int(table.promptTokens[s]) / perEntry)
        var shared = Int(table.kv[s].sharedEntries)
        guard shared < full else { return }
        let perEntryBlocks = perEntry / blockTokens
        while shared < full {
            table.updateKV(slot) { $0.blocks -= Int32(perEntryBlocks); $0.tokens -= Int32(perEntry) }
            privateTokens -= perEntry
            if let e = index[hashes[shared]] {
                reference(e)
                usedBlocks -= perEntryBlocks
            } else {
                let e = newEntry(hash: hashes[shared], blocks: perEntryBlocks, tokens: perEntry)
                index[hashes[shared]] = e
            }
            shared += 1
        }
        table.updateKV(slot) { $0.sharedEntries = Int32(shared) }
        #if DEBUG
        checkInvariants(table)
        #endif
    }

    // MARK: entries and LRU

    mutating func newEntry(hash: UInt64, blocks: Int, tokens: Int) -> Int32 {
        let e: Int32
        if let free = freeEntries.popLast() {
            e = free
            entryHash[Int(e)] = hash
            entryRefs[Int(e)] = 1
            entryBlocks[Int(e)] = Int32(blocks)
            entryTokens[Int(e)] = Int32(tokens)
            inLRU[Int(e)] = false
        } else {
            e = Int32(entryHash.count)
            entryHash.append(hash)
            entryRefs.append(1)
            entryBlocks.append(Int32(blocks))
            entryTokens.append(Int32(tokens))
            lruPrev.append(-1)
            lruNext.append(-1)
            inLRU.append(false)
        }
        cachedBlocks += blocks
        cachedTokens += tokens
        return e
    }

    mutating func reference(_ e: Int32) {
        if entryRefs[Int(e)] == 0 { unlinkFromLRU(e) }
        entryRefs[Int(e)] += 1
    }

    mutating func dereference(_ e: Int32) {
        precondition(entryRefs[Int(e)] > 0, "entry \(e) released more often than referenced")
        entryRefs[Int(e)] -= 1
        if entryRefs[Int(e)] == 0 { appendToLRU(e) }
    }

    mutating func appendToLRU(_ e: Int32) {
        let i = Int(e)
        lruPrev[i] = lruTail
        lruNext[i] = -1
        if lruTail >= 0 { lruNext[Int(lruTail)] = e } else { lruHead = e }
        lruTail = e
        inLRU[i] = true
        evictableBlocks += Int(entryBlocks[i])
    }

    mutating func unlinkFromLRU(_ e: Int32) {
        let i = Int(e)
        precondition(inLRU[i])
        let p = lruPrev[i], n = lruNext[i]
        if p >= 0 { lruNext[Int(p)] = n } else { lruHead = n }
        if n >= 0 { lruPrev[Int(n)] = p } else { lruTail = p }
        inLRU[i] = false
        evictableBlocks -= Int(entryBlocks[i])
    }

    /// Evicts least-recently-released entries until `blocks` blocks are free; false (evicting
    /// nothing) if even evicting every unreferenced entry would not be enough.
    mutating func evict(toFree blocks: Int) -> Bool {
        if totalBlocks - usedBlocks >= blocks { return true }
        guard totalBlocks - usedBlocks + evictableBlocks >= blocks else { return false }
        while totalBlocks - usedBlocks < blocks {
            let e = lruHead
            precondition(e >= 0)
            unlinkFromLRU(e)
            let i = Int(e)
            index.removeValue(forKey: entryHash[i])
            usedBlocks -= Int(entryBlocks[i])
            cachedBlocks -= Int(entryBlocks[i])
            cachedTokens -= Int(entryTokens[i])
            freeEntries.append(e)
            statistics.evictions += 1
        }
        return true
    }
}
