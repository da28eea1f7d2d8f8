/// Fixed-size KV blocks allocated on demand (Kwon et al., *Efficient Memory Management for
/// Large Language Model Serving with PagedAttention*, SOSP 2023).
///
/// A sequence of `t` tokens holds `ceil(t / blockTokens)` blocks, so at most one partly filled
/// block per sequence is wasted. Admission allocates the whole prefill target and keeps
/// `watermark · totalBlocks` blocks free for running sequences to grow into; `grow` fails when
/// no block is left, and the replica then preempts a request.
public struct PagedBlocks: KVCacheManager {
    public let configuration: KVCacheConfiguration
    public let totalBlocks: Int
    public private(set) var usedBlocks = 0
    public private(set) var storedTokens = 0
    public private(set) var statistics = KVCacheStatistics()
    /// Blocks of the offload tier, and those in use.
    public let hostBlocks: Int
    public private(set) var usedHostBlocks = 0
    let blockTokens: Int
    let watermarkBlocks: Int
    /// `configuration.budget`, and whether it keeps less than everything (read on every grow).
    let budget: KVBudget
    let budgeted: Bool
    #if DEBUG
    var holders = Set<Int32>()
    var mutationsSinceFullCheck = 0
    #endif

    public var pinnedBlocks: Int { usedBlocks + usedHostBlocks }

    public init(configuration: KVCacheConfiguration) {
        self.configuration = configuration
        totalBlocks = configuration.totalUnits
        hostBlocks = configuration.offloadUnits
        budget = configuration.budget
        budgeted = !configuration.budget.isFull
        blockTokens = configuration.blockTokens
        watermarkBlocks = Int(configuration.watermark * Double(configuration.totalUnits))
        statistics.totalBlocks = totalBlocks
        statistics.blockTokens = blockTokens
    }

    /// Blocks for `tokens` tokens: `ceil(tokens / blockTokens)`.
    func blocks(for tokens: Int) -> Int { (tokens + blockTokens - 1) / blockTokens }

    public func rejection(promptTokens: Int, outputTokens: Int) -> RejectionReason? {
        if promptTokens + outputTokens > configuration.maxSequenceTokens { return .exceedsMaxSequenceLength }
        let tokens = configuration.budget.retained(promptTokens + outputTokens) + (configuration.samples - 1) * outputTokens
        if blocks(for: tokens) > totalBlocks - watermarkBlocks + hostBlocks { return .exceedsKVCapacity }
        return nil
    }

    public mutating func admit(_ slot: Int32, resuming: Bool, table: inout RequestTable) -> Bool {
        let tokens = configuration.budget.retained(resuming ? table.residentTokens(slot) : Int(table.prefillTarget[Int(slot)]))
        let need = blocks(for: tokens)
        let deviceFree = totalBlocks - usedBlocks - watermarkBlocks
        var onHost = 0
        if need > deviceFree {
            // What the device cannot hold goes to the offload tier, if there is one and room.
            onHost = need - max(0, deviceFree)
            guard hostBlocks > 0, usedHostBlocks + onHost <= hostBlocks else { return false }
        }
        usedBlocks += need - onHost
        usedHostBlocks += onHost
        statistics.peakUsedBlocks = max(statistics.peakUsedBlocks, usedBlocks)
        table.updateKV(slot) { $0.blocks = Int32(need); $0.hostBlocks = Int32(onHost); $0.tokens = Int32(tokens) }
        storedTokens += tokens
        #if DEBUG
        holders.insert(slot)
        checkInvariants(table)
        #endif
        return true
    }


    public func growthLayout(of holding: KVHolding) -> KVGrowthLayout? {
        if budgeted || hostBlocks > 0 { return nil }
        return KVGrowthLayout(tokens: Int(holding.tokens), blocks: Int(holding.blocks), tokensPerBlock: blockTokens, allocates: true)
    }

    public mutating func growDecodes(_ slots: [Int32], addingTokens tokens: Int32, table: inout RequestTable) -> Int {
        if budgeted || hostBlocks > 0 { return growDecodesOneByOne(slots, addingTokens: tokens, table: &table) }
        let blockTokens = self.blockTokens, totalBlocks = self.totalBlocks
        var used = usedBlocks, stored = storedTokens
        let grown = table.withDecodeColumns { c -> Int in
            let n = c.kv.count
            for (i, slot) in slots.enumerated() {
                let s = Int(slot)
                precondition(s >= 0 && s < n, "slot \(s) outside the table")
                let g = c.generated[s] + tokens
                let target = Int(c.promptTokens[s]) + Int(g)
                let held = Int(c.kv[s].tokens)
                if target > held {
                    let heldBlocks = Int(c.kv[s].blocks)
                    if target > heldBlocks * blockTokens {
                        let need = (target + blockTokens - 1) / blockTokens - heldBlocks
                        guard used + need <= totalBlocks else { return i }
                        used += need
                        c.kv[s].blocks += Int32(need)
                    }
                    stored += target - held
                    c.kv[s].tokens = Int32(target)
                }
                c.generated[s] = g
            }
            return slots.count
        }
        usedBlocks = used
        storedTokens = stored
        if used > statistics.peakUsedBlocks { statistics.peakUsedBlocks = used }
        #if DEBUG
        checkInvariants(table)
        #endif
        return grown
    }

    @inline(__always) public mutating func grow(_ slot: Int32, toTokens tokens: Int, table: inout RequestTable) -> Bool {
        if budgeted || hostBlocks > 0 { return growTiered(slot, toTokens: tokens, table: &table) }
        let s = Int(slot)
        let held = Int(table.kv[s].tokens)
        if tokens <= held { return true }
        let heldBlocks = Int(table.kv[s].blocks)
        if tokens <= heldBlocks * blockTokens {
            // Fast path (most decode tokens): the last block still has room.
            storedTokens += tokens - held
            table.updateKV(slot) { $0.tokens = Int32(truncatingIfNeeded: tokens) }
            #if DEBUG
            checkInvariants(table)
            #endif
            return true
        }
        let need = blocks(for: tokens) - heldBlocks
        if need > 0 {
            guard usedBlocks + need <= totalBlocks else { return false }
            usedBlocks += need
            if usedBlocks > statistics.peakUsedBlocks { statistics.peakUsedBlocks = usedBlocks }
            table.updateKV(slot) { $0.blocks += Int32(need) }
        }
        storedTokens += tokens - held
        table.updateKV(slot) { $0.tokens = Int32(tokens) }
        #if DEBUG
        checkInvariants(table)
        #endif
        return true
    }

    /// `grow` with a KV budget (the context kept) or an offload tier (blocks past the device).
    @inline(never) mutating func growTiered(_ slot: Int32, toTokens context: Int, table: inout RequestTable) -> Bool {
        let s = Int(slot)
        let tokens = budgeted ? budget.retained(context) : context
        let held = Int(table.kv[s].tokens)
        if tokens <= held { return true }
        let heldBlocks = Int(table.kv[s].blocks)
        let need = blocks(for: tokens) - heldBlocks
        if need > 0 {
            var onHost = 0
            if usedBlocks + need > totalBlocks {
                onHost = usedBlocks + need - totalBlocks
                guard hostBlocks > 0, usedHostBlocks + onHost <= hostBlocks else { return false }
                usedHostBlocks += onHost
                table.updateKV(slot) { $0.hostBlocks += Int32(onHost) }
            }
            usedBlocks += need - onHost
            if usedBlocks > statistics.peakUsedBlocks { statistics.peakUsedBlocks = usedBlocks }
            table.updateKV(slot) { $0.blocks += Int32(need) }
        }
        storedTokens += tokens - held
        table.updateKV(slot) { $0.tokens = Int32(tokens) }
        #if DEBUG
        checkInvariants(table)
        #endif
        return true
    }

    public mutating func truncate(_ slot: Int32, toTokens context: Int, table: inout RequestTable) {
        let s = Int(slot)
        let tokens = budgeted ? budget.retained(context) : context
        let held = Int(table.kv[s].tokens)
        guard tokens < held else { return }
        let keep = blocks(for: tokens)
        let freed = Int(table.kv[s].blocks) - keep
        let fromHost = min(freed, Int(table.kv[s].hostBlocks))
        usedHostBlocks -= fromHost
        table.updateKV(slot) { $0.hostBlocks -= Int32(fromHost) }
        usedBlocks -= freed - fromHost
        table.updateKV(slot) { $0.blocks = Int32(keep) }
        storedTokens -= held - tokens
        table.updateKV(slot) { $0.tokens = Int32(tokens) }
        #if DEBUG
        checkInvariants(table)
        #endif
    }

    public func offloadedTokens(_ slot: Int32, table: RequestTable) -> Int {
        let s = Int(slot)
        return min(Int(table.kv[s].hostBlocks) * blockTokens, Int(table.kv[s].tokens))
    }

    public mutating func release(_ slot: Int32, table: inout RequestTable) {
        let s = Int(slot)
        usedBlocks -= Int(table.kv[s].blocks) - Int(table.kv[s].hostBlocks)
        usedHostBlocks -= Int(table.kv[s].hostBlocks)
        storedTokens -= Int(table.kv[s].tokens)
        table.updateKV(slot) { $0 = KVHolding() }
        #if DEBUG
        holders.remove(slot)
        checkInvariants(table)
        #endif
    }

    public mutating func prefillCompleted(_ slot: Int32, table: inout RequestTable) {}
}
