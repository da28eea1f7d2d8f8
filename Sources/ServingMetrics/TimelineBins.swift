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

    /// The bins merged in runs of equal length so that at most `count` remain, each with its
    /// start and end in seconds (for a plot; the CSV keeps every bin).
    public func coarsened(toAtMost count: Int) -> [(start: Double, end: Double, bin: TimelineBin)] {
        let group = max(1, (bins.count + max(count, 1) - 1) / max(count, 1))
        var out: [(start: Double, end: Double, bin: TimelineBin)] = []
        var i = 0
        while i < bins.count {
            var bin = bins[i]
            let last = min(i + group, bins.count)
            for j in (i + 1)..<last { bin.merge(bins[j]) }
            out.append((Double(Int64(i) * width.nanoseconds) * 1e-9, Double(Int64(last) * width.nanoseconds) * 1e-9, bin))
            i = last
        }
        return out
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

/// What happened in one time bin: the steps that started in it, arrivals and completions.
public struct TimelineBin: Hashable, Sendable {
    public var step = StepTotals()
    public var arrivals = 0
    public var completions = 0

    public init() {}

    mutating func merge(_ o: TimelineBin) {
        step.merge(o.step)
        arrivals += o.arrivals
        completions += o.completions
    }
}
