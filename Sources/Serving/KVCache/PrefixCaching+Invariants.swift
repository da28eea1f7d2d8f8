#if DEBUG
extension PrefixCaching {
    /// used + free == total; used == Σ private blocks + cached entry blocks (no block counted
    /// twice); every entry's reference count equals the holders that reference it; the LRU list
    /// holds exactly the unreferenced entries.
    ///
    /// The counters are checked after every mutation; the full walk over holders and entries
    /// (O(holders + entries)) runs after every mutation while the cache holds fewer than 512
    /// entries and holders, and after every 256th mutation beyond that, so debug runs of
    /// trace-sized workloads stay fast.
    mutating func checkInvariants(_ table: RequestTable) {
        precondition(usedBlocks >= 0 && usedBlocks <= totalBlocks, "used \(usedBlocks) outside 0...\(totalBlocks)")
        precondition(evictableBlocks >= 0 && evictableBlocks <= cachedBlocks && cachedBlocks <= usedBlocks,
                     "evictable \(evictableBlocks) <= cached \(cachedBlocks) <= used \(usedBlocks) violated")
        mutationsSinceFullCheck += 1
        if holders.count + index.count >= 512 && mutationsSinceFullCheck < 256 { return }
        mutationsSinceFullCheck = 0
        var privateBlocks = 0
        var tokens = 0
        var refs: [Int32: Int32] = [:]
        for slot in holders {
            privateBlocks += Int(table.kv[Int(slot)].blocks)
            tokens += Int(table.kv[Int(slot)].tokens)
            let hashes = table.prefixHashes[Int(slot)]
            for i in 0..<Int(table.kv[Int(slot)].sharedEntries) {
                guard let e = index[hashes[i]] else { preconditionFailure("slot \(slot) references an evicted entry") }
                refs[e, default: 0] += 1
            }
        }
        precondition(privateBlocks + cachedBlocks == usedBlocks,
                     "private \(privateBlocks) + cached \(cachedBlocks) != used \(usedBlocks)")
        precondition(tokens == privateTokens, "private tokens \(tokens) != \(privateTokens)")
        var lruCount = 0
        var lruBlocks = 0
        var e = lruHead
        while e >= 0 {
            precondition(entryRefs[Int(e)] == 0 && inLRU[Int(e)], "LRU holds referenced entry \(e)")
            lruCount += 1
            lruBlocks += Int(entryBlocks[Int(e)])
            e = lruNext[Int(e)]
        }
        precondition(lruBlocks == evictableBlocks, "evictable \(evictableBlocks) != LRU blocks \(lruBlocks)")
        var cached = 0
        for (_, e) in index {
            precondition(entryRefs[Int(e)] == refs[e, default: 0], "entry \(e) refs \(entryRefs[Int(e)]) != holders \(refs[e, default: 0])")
            cached += Int(entryBlocks[Int(e)])
        }
        precondition(cached == cachedBlocks, "cached \(cachedBlocks) != Σ entries \(cached)")
        precondition(lruCount == index.values.filter { entryRefs[Int($0)] == 0 }.count)
    }
}
#endif
