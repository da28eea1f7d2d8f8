#if DEBUG
extension PagedBlocks {
    /// used + free == total; every used block has exactly one owner (Σ owned == used);
    /// each owner holds exactly `ceil(tokens / blockTokens)` blocks.
    /// The counters are checked after every mutation; the walk over holders after every
    /// mutation while there are fewer than 512 holders, and after every 256th beyond that.
    mutating func checkInvariants(_ table: RequestTable) {
        mutationsSinceFullCheck += 1
        if holders.count >= 512 && mutationsSinceFullCheck < 256 { return }
        mutationsSinceFullCheck = 0
        precondition(usedBlocks >= 0 && usedBlocks + freeBlocks == totalBlocks && freeBlocks >= 0,
                     "used \(usedBlocks) + free \(freeBlocks) != total \(totalBlocks)")
        var owned = 0
        var stored = 0
        for slot in holders {
            let blocksHeld = Int(table.kv[Int(slot)].blocks)
            let tokens = Int(table.kv[Int(slot)].tokens)
            precondition(blocksHeld == blocks(for: tokens), "slot \(slot) holds \(blocksHeld) blocks for \(tokens) tokens")
            owned += blocksHeld
            stored += tokens
        }
        precondition(owned == usedBlocks + usedHostBlocks, "blocks owned \(owned) != used \(usedBlocks) + offloaded \(usedHostBlocks): a block is owned twice or leaked")
        precondition(usedHostBlocks >= 0 && usedHostBlocks <= hostBlocks, "offloaded \(usedHostBlocks) outside 0...\(hostBlocks)")
        precondition(stored == storedTokens, "stored tokens \(stored) != \(storedTokens)")
    }
}
#endif
