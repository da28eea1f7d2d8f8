import DiscreteEvent

/// Step-level activity aggregated into fixed-width time bins: the downsampled timeline that
/// the timeline CSV shows.
///
/// A step is attributed to the bin containing its start instant. Memory is bounded: when an
/// instant falls past `maxBins` bins, adjacent pairs of bins are merged and the width doubles
/// (so a 1 s default stays 1 s for runs up to `maxBins` seconds, then 2 s, 4 s, …).
public struct TimelineBins: Hashable, Sendable {
    public private(set) var width: SimDuration
    public let maxBins: Int
    public private(set) var bins: [TimelineBin] = []

    public init(width: SimDuration = .seconds(1), maxBins: Int = 4096) {
        precondition(width.nanoseconds > 0 && maxBins >= 2 && maxBins % 2 == 0, "bin width must be > 0 and maxBins even and >= 2")
        self.width = width
        self.maxBins = maxBins
    }

    /// The bin for `instant`, creating (and, if needed, coarsening) bins.
    /// - Complexity: O(1) amortised.
    public mutating func withBin(at instant: SimInstant, _ body: (inout TimelineBin) -> Void) {
        var index = Int(max(instant.nanoseconds, 0) / width.nanoseconds)
        while index >= maxBins {
            coarsen()
            index = Int(max(instant.nanoseconds, 0) / width.nanoseconds)
        }
        if index >= bins.count { bins.append(contentsOf: repeatElement(TimelineBin(), count: index + 1 - bins.count)) }
        body(&bins[index])
    }

    private mutating func coarsen() {
        var merged: [TimelineBin] = []
        merged.reserveCapacity(maxBins)
        var i = 0
        while i < bins.count {
            var bin = bins[i]
            if i + 1 < bins.count { bin.merge(bins[i + 1]) }
            merged.append(bin)
            i += 2
        }
        bins = merged
        width = width * 2
    }
}

/// What happened in one time bin.
public struct TimelineBin: Hashable, Sendable {
    public var steps = 0
    public var busyNanoseconds: Int64 = 0
    public var batchSizeSum = 0
    public var batchSizeMax = 0
    public var prefillTokens = 0
    public var decodeTokens = 0
    /// `Σ (kvBlocksUsed / kvBlocksTotal) · stepDuration`, in nanoseconds.
    public var kvUtilizationTimeProduct: Double = 0
    public var kvUtilizationMax: Double = 0
    public var energyJoules: Double = 0
    public var arrivals = 0
    public var completions = 0

    public init() {}

    mutating func merge(_ o: TimelineBin) {
        steps += o.steps
        busyNanoseconds += o.busyNanoseconds
        batchSizeSum += o.batchSizeSum
        batchSizeMax = max(batchSizeMax, o.batchSizeMax)
        prefillTokens += o.prefillTokens
        decodeTokens += o.decodeTokens
        kvUtilizationTimeProduct += o.kvUtilizationTimeProduct
        kvUtilizationMax = max(kvUtilizationMax, o.kvUtilizationMax)
        energyJoules += o.energyJoules
        arrivals += o.arrivals
        completions += o.completions
    }

    /// Mean batch size over the bin's steps (0 if none).
    public var batchSizeMean: Double { steps > 0 ? Double(batchSizeSum) / Double(steps) : 0 }
    /// Busy-time-weighted mean KV utilisation (0 if idle).
    public var kvUtilizationMean: Double { busyNanoseconds > 0 ? kvUtilizationTimeProduct / Double(busyNanoseconds) : 0 }
}
