#if DEBUG
extension ContiguousReservation {
    /// used + free == total, and the used slots are exactly the holders' reservations.
    func checkInvariants(_ table: RequestTable) {
        precondition(usedBlocks >= 0 && usedBlocks <= totalBlocks, "used \(usedBlocks) outside 0...\(totalBlocks)")
        var owned = 0
        var stored = 0
        for slot in holders {
            owned += Int(table.kvBlocks[Int(slot)])
            stored += Int(table.kvTokens[Int(slot)])
        }
        precondition(owned == usedBlocks, "reservations \(owned) != used \(usedBlocks)")
        precondition(stored == storedTokens, "stored tokens \(stored) != \(storedTokens)")
    }
}
#endif
