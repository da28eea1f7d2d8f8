#if DEBUG
extension ContiguousReservation {
    /// used + free == total, and the used slots are exactly the holders' reservations.
    /// The counters are checked after every mutation; the walk over holders after every
    /// mutation while there are fewer than 512 holders, and after every 256th beyond that.
    mutating func checkInvariants(_ table: RequestTable) {
        mutationsSinceFullCheck += 1
        if holders.count >= 512 && mutationsSinceFullCheck < 256 { return }
        mutationsSinceFullCheck = 0
        precondition(usedBlocks >= 0 && usedBlocks <= totalBlocks, "used \(usedBlocks) outside 0...\(totalBlocks)")
        var owned = 0
        var stored = 0
        for slot in holders {
            owned += Int(table.kv[Int(slot)].blocks)
            stored += Int(table.kv[Int(slot)].tokens)
        }
        precondition(owned == usedBlocks, "reservations \(owned) != used \(usedBlocks)")
        precondition(stored == storedTokens, "stored tokens \(stored) != \(storedTokens)")
    }
}
#endif
