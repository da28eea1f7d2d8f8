import DiscreteEvent

/// The sums of a run of batch steps: the one definition of per-step accounting.
///
/// A replica keeps one (`ReplicaStatistics.stepTotals`), each timeline bin keeps one for the
/// steps that started in it, and a run's summary merges the replicas'. Means are derived:
/// batch size per step, and KV utilisation and fragmentation weighted by step duration.
///
/// Every sum is an integer (energy in microjoules, utilisation and fragmentation times duration
/// in nanoseconds, each step's value rounded once), so totals do not depend on the order steps are
/// added in: the simulator's decode fast-forward records a replica's steps ahead of the others'.
public struct StepTotals: Hashable, Sendable {
    public var steps = 0
    public var busyNanoseconds: Int64 = 0
    public var batchSizeSum = 0
    public var batchSizeMax = 0
    public var prefillTokens = 0
    public var decodeTokens = 0
    /// `Σ round(StepCost.energy in µJ)`.
    public var energyMicrojoules: Int64 = 0
    /// `Σ round((kvBlocksUsed / kvBlocksTotal) · stepDuration in ns)`.
    public var kvUtilizationNanoseconds: Int64 = 0
    public var kvUtilizationMax = 0.0
    /// `Σ round(fragmentation · stepDuration in ns)`.
    public var kvFragmentationNanoseconds: Int64 = 0
    /// `Σ` exposed communication of the steps (`StepCost.communication`), ns.
    public var communicationNanoseconds: Int64 = 0

    public init() {}

    /// Energy of the steps in joules (`StepCost.energy` summed, to the microjoule).
    public var energyJoules: Double { Double(energyMicrojoules) / 1e6 }

    /// Adds one step of `duration` with `batchSize` sequences.
    /// - Complexity: O(1).
    @inlinable
    public mutating func add(duration: SimDuration, batchSize: Int, prefillTokens: Int, decodeTokens: Int,
                             energyJoules: Double, kvUtilization: Double, kvFragmentation: Double = 0,
                             communication: SimDuration = .zero) {
        add(StepSample(duration: duration, batchSize: batchSize, prefillTokens: prefillTokens, decodeTokens: decodeTokens,
                       energyJoules: energyJoules, kvUtilization: kvUtilization, kvFragmentation: kvFragmentation,
                       communication: communication))
    }

    /// Adds one step, already rounded.
    @inlinable
    public mutating func add(_ s: StepSample) {
        steps &+= 1
        busyNanoseconds &+= s.durationNanoseconds
        batchSizeSum &+= s.batchSize
        if s.batchSize > batchSizeMax { batchSizeMax = s.batchSize }
        prefillTokens &+= s.prefillTokens
        decodeTokens &+= s.decodeTokens
        energyMicrojoules &+= s.energyMicrojoules
        kvUtilizationNanoseconds &+= s.kvUtilizationNanoseconds
        if s.kvUtilization > kvUtilizationMax { kvUtilizationMax = s.kvUtilization }
        kvFragmentationNanoseconds &+= s.kvFragmentationNanoseconds
        communicationNanoseconds &+= s.communicationNanoseconds
    }

    /// `x` rounded to an integer, 0 if not finite, clamped to ±4.6·10¹⁸.
    @inlinable
    static func integer(_ x: Double) -> Int64 {
        guard x.isFinite else { return 0 }
        return Int64(min(max(x.rounded(), -4.6e18), 4.6e18))
    }

    /// Adds another run of steps (another replica's, or an adjacent time bin's).
    public mutating func merge(_ o: StepTotals) {
        steps &+= o.steps
        busyNanoseconds &+= o.busyNanoseconds
        batchSizeSum &+= o.batchSizeSum
        batchSizeMax = max(batchSizeMax, o.batchSizeMax)
        prefillTokens &+= o.prefillTokens
        decodeTokens &+= o.decodeTokens
        energyMicrojoules &+= o.energyMicrojoules
        kvUtilizationNanoseconds &+= o.kvUtilizationNanoseconds
        kvUtilizationMax = max(kvUtilizationMax, o.kvUtilizationMax)
        kvFragmentationNanoseconds &+= o.kvFragmentationNanoseconds
        communicationNanoseconds &+= o.communicationNanoseconds
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
    public var kvUtilizationMean: Double { busyNanoseconds > 0 ? Double(kvUtilizationNanoseconds) / Double(busyNanoseconds) : 0 }
    /// Busy-time-weighted mean KV fragmentation (0 if idle).
    public var kvFragmentationMean: Double { busyNanoseconds > 0 ? Double(kvFragmentationNanoseconds) / Double(busyNanoseconds) : 0 }
}

/// One step as `StepTotals` counts it: its floating-point parts rounded to integers once, so
/// that the step can be added to several totals (its replica's, its timeline bin's) for the price
/// of one rounding.
public struct StepSample: Hashable, Sendable {
    public var durationNanoseconds: Int64
    public var batchSize: Int
    public var prefillTokens: Int
    public var decodeTokens: Int
    /// `round(energy in µJ)`.
    public var energyMicrojoules: Int64
    public var kvUtilization: Double
    /// `round(kvUtilization · duration in ns)`.
    public var kvUtilizationNanoseconds: Int64
    /// `round(fragmentation · duration in ns)`.
    public var kvFragmentationNanoseconds: Int64
    public var communicationNanoseconds: Int64

    @inlinable
    public init(duration: SimDuration, batchSize: Int, prefillTokens: Int, decodeTokens: Int,
                energyJoules: Double, kvUtilization: Double, kvFragmentation: Double = 0, communication: SimDuration = .zero) {
        let d = duration.nanoseconds
        durationNanoseconds = d
        self.batchSize = batchSize
        self.prefillTokens = prefillTokens
        self.decodeTokens = decodeTokens
        energyMicrojoules = StepTotals.integer(energyJoules * 1e6)
        self.kvUtilization = kvUtilization
        kvUtilizationNanoseconds = StepTotals.integer(kvUtilization * Double(d))
        kvFragmentationNanoseconds = StepTotals.integer(kvFragmentation * Double(d))
        communicationNanoseconds = communication.nanoseconds
    }
}
