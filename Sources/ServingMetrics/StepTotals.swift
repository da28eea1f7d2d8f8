import DiscreteEvent

/// The sums of a run of batch steps: the one definition of per-step accounting.
///
/// A replica keeps one (`ReplicaStatistics.stepTotals`), each timeline bin keeps one for the
/// steps that started in it, and a run's summary merges the replicas'. Means are derived:
/// batch size per step, and KV utilisation and fragmentation weighted by step duration.
public struct StepTotals: Hashable, Sendable {
    public var steps = 0
    public var busyNanoseconds: Int64 = 0
    public var batchSizeSum = 0
    public var batchSizeMax = 0
    public var prefillTokens = 0
    public var decodeTokens = 0
    /// Energy of the steps in joules (`StepCost.energy` summed).
    public var energyJoules = 0.0
    /// `Σ (kvBlocksUsed / kvBlocksTotal) · stepDuration`, in nanoseconds.
    public var kvUtilizationTimeProduct = 0.0
    public var kvUtilizationMax = 0.0
    /// `Σ fragmentation · stepDuration`, in nanoseconds.
    public var kvFragmentationTimeProduct = 0.0

    public init() {}

    /// Adds one step of `duration` with `batchSize` sequences.
    /// - Complexity: O(1).
    @inlinable
    public mutating func add(duration: SimDuration, batchSize: Int, prefillTokens: Int, decodeTokens: Int,
                             energyJoules: Double, kvUtilization: Double, kvFragmentation: Double = 0) {
        let d = duration.nanoseconds
        steps += 1
        busyNanoseconds += d
        batchSizeSum += batchSize
        if batchSize > batchSizeMax { batchSizeMax = batchSize }
        self.prefillTokens += prefillTokens
        self.decodeTokens += decodeTokens
        self.energyJoules += energyJoules
        kvUtilizationTimeProduct += kvUtilization * Double(d)
        if kvUtilization > kvUtilizationMax { kvUtilizationMax = kvUtilization }
        kvFragmentationTimeProduct += kvFragmentation * Double(d)
    }

    /// Adds another run of steps (another replica's, or an adjacent time bin's).
    public mutating func merge(_ o: StepTotals) {
        steps += o.steps
        busyNanoseconds += o.busyNanoseconds
        batchSizeSum += o.batchSizeSum
        batchSizeMax = max(batchSizeMax, o.batchSizeMax)
        prefillTokens += o.prefillTokens
        decodeTokens += o.decodeTokens
        energyJoules += o.energyJoules
        kvUtilizationTimeProduct += o.kvUtilizationTimeProduct
        kvUtilizationMax = max(kvUtilizationMax, o.kvUtilizationMax)
        kvFragmentationTimeProduct += o.kvFragmentationTimeProduct
    }

    /// The sum of several runs of steps.
    public static func merged(_ parts: some Sequence<StepTotals>) -> StepTotals {
        var total = StepTotals()
        for p in parts { total.merge(p) }
        return total
    }

    /// Mean batch size over the steps (0 if none).
    public var batchSizeMean: Double { steps > 0 ? Double(batchSizeSum) / Double(steps) : 0 }
    /// Busy-time-weighted mean KV utilisation (0 if idle).
    public var kvUtilizationMean: Double { busyNanoseconds > 0 ? kvUtilizationTimeProduct / Double(busyNanoseconds) : 0 }
    /// Busy-time-weighted mean KV fragmentation (0 if idle).
    public var kvFragmentationMean: Double { busyNanoseconds > 0 ? kvFragmentationTimeProduct / Double(busyNanoseconds) : 0 }
}
