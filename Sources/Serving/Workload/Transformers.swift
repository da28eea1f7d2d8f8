import Diagnostics
import DiscreteEvent
import HardwareModel

/// Scales a workload's arrival rate by `rateMultiplier` k: `arrival' = round(arrival / k)`.
/// `k = 2` replays the same requests twice as fast. Ids and lengths are unchanged.
public struct TimeScaled: RequestSource {
    private var base: any RequestSource
    public let rateMultiplier: Double

    public init(_ base: any RequestSource, rateMultiplier: Double) {
        precondition(rateMultiplier.isFinite && rateMultiplier > 0, "rateMultiplier must be > 0, got \(rateMultiplier)")
        self.base = base
        self.rateMultiplier = rateMultiplier
    }

    public var skippedRows: Int { base.skippedRows }
    public var skippedRowReasons: [String] { base.skippedRowReasons }

    public mutating func next() throws -> RequestSpec? {
        guard var r = try base.next() else { return nil }
        if rateMultiplier != 1 {
            let scaled = (Double(r.arrival.nanoseconds) / rateMultiplier).rounded()
            guard scaled < 4.0e18 else {
                throw InputError(origin: .workload(detail: "request \(r.id)"),
                                 "arrival \(r.arrival.seconds) s divided by rateMultiplier \(rateMultiplier) exceeds the simulated clock's range")
            }
            r.arrival = SimInstant(nanoseconds: Int64(scaled))
        }
        return r
    }
}

/// Replays a workload `times` times back to back (what stretches the 19,366-row Azure conv
/// trace to a million requests).
///
/// Copy `c` (0-based) is shifted by `c · period`, with
/// `period = (last − first arrival) · n / (n − 1)` for a pass of `n` requests: the span plus one
/// mean gap, so the seam between copies keeps the trace's mean rate and the repeated workload
/// has exactly `times ×` the requests at the same mean rate (a one-request pass uses period 0).
/// Ids are renumbered `0, 1, 2, …` across copies. Each pass reopens the source through
/// `makeSource`, so memory stays O(1) in `times`.
public struct Repeated: RequestSource {
    public let times: Int
    private let makeSource: () throws -> any RequestSource
    private var current: (any RequestSource)?
    private var pass = 0
    private var offset: Int64 = 0
    private var firstArrival: Int64?
    private var lastArrival: Int64 = 0
    private var countInPass = 0
    private var nextId = 0
    private var skippedInFinishedPasses = 0
    private var reasonsInFinishedPasses: [String] = []

    /// - Parameters:
    ///   - first: an already-open first pass (so that a missing file fails at construction);
    ///     `nil` to open it with `makeSource` on the first `next()`.
    ///   - makeSource: opens a fresh pass of the same workload.
    public init(times: Int, first: (any RequestSource)? = nil, makeSource: @escaping () throws -> any RequestSource) {
        precondition(times >= 1, "times must be >= 1, got \(times)")
        self.times = times
        self.current = first
        self.makeSource = makeSource
    }

    public var skippedRows: Int { skippedInFinishedPasses + (current?.skippedRows ?? 0) }
    public var skippedRowReasons: [String] {
        Array((reasonsInFinishedPasses + (current?.skippedRowReasons ?? [])).prefix(TraceReader.keptReasons))
    }

    public mutating func next() throws -> RequestSpec? {
        while pass < times {
            if current == nil { current = try makeSource() }
            if var r = try current!.next() {
                if pass == 0 {
                    if firstArrival == nil { firstArrival = r.arrival.nanoseconds }
                    lastArrival = r.arrival.nanoseconds
                    countInPass += 1
                }
                let (shifted, overflow) = r.arrival.nanoseconds.addingReportingOverflow(offset)
                guard !overflow, shifted < 4_000_000_000_000_000_000 else {
                    throw InputError(origin: .workload(detail: "copy \(pass + 1) of \(times)"),
                                     "repeated arrivals exceed the simulated clock's range; use fewer repeats")
                }
                r.arrival = SimInstant(nanoseconds: shifted)
                r.id = nextId
                nextId += 1
                return r
            }
            skippedInFinishedPasses += current!.skippedRows
            if reasonsInFinishedPasses.count < TraceReader.keptReasons {
                reasonsInFinishedPasses = Array((reasonsInFinishedPasses + current!.skippedRowReasons).prefix(TraceReader.keptReasons))
            }
            current = nil
            if pass == 0 {
                guard countInPass > 0 else { pass = times; return nil }
                offset = 0
            }
            pass += 1
            let (product, overflow) = Int64(pass).multipliedReportingOverflow(by: period)
            offset = overflow ? .max : product
        }
        return nil
    }

    /// `(last − first) · n / (n − 1)`, in nanoseconds (0 for a one-request pass).
    private var period: Int64 {
        guard countInPass > 1, let firstArrival else { return 0 }
        let span = lastArrival - firstArrival
        return Int64((Double(span) * Double(countInPass) / Double(countInPass - 1)).rounded())
    }
}

/// The first `count` requests of a workload.
public struct Limited: RequestSource {
    private var base: any RequestSource
    public let count: Int
    private var produced = 0

    public init(_ base: any RequestSource, count: Int) {
        precondition(count >= 0, "count must be >= 0, got \(count)")
        self.base = base
        self.count = count
    }

    public var skippedRows: Int { base.skippedRows }
    public var skippedRowReasons: [String] { base.skippedRowReasons }

    public mutating func next() throws -> RequestSpec? {
        guard produced < count, let r = try base.next() else { return nil }
        produced += 1
        return r
    }
}
