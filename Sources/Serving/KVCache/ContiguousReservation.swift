/// Reserves `maxSequenceTokens` contiguous token slots per request at admission.
///
/// The reservation never grows, so no preemption is ever needed; the price is the unused
/// tail of every reservation (`maxSequenceTokens - (prompt + generated)` slots), which the
/// fragmentation statistic makes visible. Units are single token slots.
public struct ContiguousReservation: KVCacheManager {
    public let configuration: KVCacheConfiguration
    public let totalBlocks: Int
    public private(set) var usedBlocks = 0
    public private(set) var storedTokens = 0
    public private(set) var statistics = KVCacheStatistics()
    let watermarkUnits: Int
    #if DEBUG
    var holders = Set<Int32>()
    var mutationsSinceFullCheck = 0
    #endif

    public var pinnedBlocks: Int { usedBlocks }

    /// - Precondition: no offload tier (only paged blocks offload; the scenario decoder says so).
    public init(configuration: KVCacheConfiguration) {
        precondition(configuration.offload == nil, "only paged blocks offload")
        self.configuration = configuration
        totalBlocks = configuration.totalUnits
        watermarkUnits = Int(configuration.watermark * Double(configuration.totalUnits))
        statistics.totalBlocks = totalBlocks
        statistics.blockTokens = 1
    }

    public func rejection(promptTokens: Int, outputTokens: Int) -> RejectionReason? {
        if promptTokens + outputTokens > configuration.maxSequenceTokens { return .exceedsMaxSequenceLength }
        if reservation() > totalBlocks { return .exceedsKVCapacity }
        return nil
    }

    public mutating func admit(_ slot: Int32, resuming: Bool, table: inout RequestTable) -> Bool {
        let need = reservation()
        // The watermark only guards against growth, which never happens here; keep it for
        // parity with paged policies except when the cache is empty (so a request can start).
        let reserve = usedBlocks == 0 ? 0 : watermarkUnits
        guard totalBlocks - usedBlocks - need >= reserve else { return false }
        usedBlocks += need
        statistics.peakUsedBlocks = max(statistics.peakUsedBlocks, usedBlocks)
        let tokens = configuration.budget.retained(resuming ? table.residentTokens(slot) : Int(table.prefillTarget[Int(slot)]))
        table.updateKV(slot) { $0.blocks = Int32(need); $0.tokens = Int32(tokens) }
        storedTokens += tokens
        #if DEBUG
        holders.insert(slot)
        checkInvariants(table)
        #endif
        return true
    }

    public func growthLayout(of holding: KVHolding) -> KVGrowthLayout? {
        guard configuration.budget.isFull else { return nil }
        return KVGrowthLayout(tokens: Int(holding.tokens), blocks: Int(holding.blocks), tokensPerBlock: 1, allocates: false)
    }

    public mutating func grow(_ slot: Int32, toTokens context: Int, table: inout RequestTable) -> Bool {
        let s = Int(slot)
        let tokens = configuration.budget.retained(context)
        precondition(tokens <= Int(table.kv[s].blocks), "a contiguous reservation cannot grow past maxSequenceTokens")
        if tokens > Int(table.kv[s].tokens) {
            storedTokens += tokens - Int(table.kv[s].tokens)
            table.updateKV(slot) { $0.tokens = Int32(tokens) }
        }
        return true
    }

    /// Slots reserved per request: its longest sequence, plus room for the other samples'
    /// outputs (`samples − 1` more sequences beyond the shared prompt; bounded by the longest).
    func reservation() -> Int {
        configuration.budget.retained(configuration.maxSequenceTokens) * configuration.samples
    }

    /// The reservation stays (it covers `maxSequenceTokens` up front); only the tokens held shrink.
    public mutating func truncate(_ slot: Int32, toTokens context: Int, table: inout RequestTable) {
        let s = Int(slot)
        let tokens = configuration.budget.retained(context)
        guard tokens < Int(table.kv[s].tokens) else { return }
        storedTokens -= Int(table.kv[s].tokens) - tokens
        table.updateKV(slot) { $0.tokens = Int32(tokens) }
    }

    public mutating func release(_ slot: Int32, table: inout RequestTable) {
        let s = Int(slot)
        usedBlocks -= Int(table.kv[s].blocks)
        storedTokens -= Int(table.kv[s].tokens)
        table.updateKV(slot) { $0 = KVHolding() }
        #if DEBUG
        holders.remove(slot)
        checkInvariants(table)
        #endif
    }

    public mutating func prefillCompleted(_ slot: Int32, table: inout RequestTable) {}
}
