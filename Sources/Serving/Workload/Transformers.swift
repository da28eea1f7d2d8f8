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
/// `makeSource`, or replays the first pass's requests when they are few (`cacheLimit`), so
/// memory stays O(1) in `times` and bounded in the pass's length.
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
    /// The first pass's requests as its source gave them, while it has at most `cacheLimit` of
    /// them (and `cachePrefixHashLimit` prefix hashes) and skips no row: the later passes then
    /// replay them instead of reading and parsing the source again. A pass that skipped rows is
    /// read again, so that the skipped-row counts stay those of a pass read from the source.
    private var cache: [RequestSpec] = []
    private var cacheHashes = 0
    private var caching = true
    private var replaying = false
    private var replayIndex = 0
    public static let cacheLimit = 100_000
    public static let cachePrefixHashLimit = 1 << 20

    /// - Parameters:
    ///   - first: an already-open first pass (so that a missing file fails at construction);
    ///     `nil` to open it with `makeSource` on the first `next()`.
    ///   - makeSource: opens a fresh pass of the same workload.
    public init(times: Int, first: (any RequestSource)? = nil, makeSource: @escaping () throws -> any RequestSource) {
        precondition(times >= 1, "times must be >= 1, got \(times)")
        self.times = times
        self.caching = times > 1
        self.current = first
        self.makeSource = makeSource
    }

    public var skippedRows: Int { skippedInFinishedPasses + (current?.skippedRows ?? 0) }
    public var skippedRowReasons: [String] {
        Array((reasonsInFinishedPasses + (current?.skippedRowReasons ?? [])).prefix(TraceReader.keptReasons))
    }

    public mutating func next() throws -> RequestSpec? {
        while pass < times {
            if replaying {
                if replayIndex < cache.count {
                    let r = cache[replayIndex]
                    replayIndex += 1
                    return try shifted(r)
                }
                replayIndex = 0
                pass += 1
                let (product, overflow) = Int64(pass).multipliedReportingOverflow(by: period)
                offset = overflow ? .max : product
                continue
            }
            if current == nil { current = try makeSource() }
            if let r = try current!.next() {
                if pass == 0 {
                    if firstArrival == nil { firstArrival = r.arrival.nanoseconds }
                    lastArrival = r.arrival.nanoseconds
                    countInPass += 1
                    if caching {
                        cacheHashes += r.prefixHashes.count
                        if cache.count < Self.cacheLimit && cacheHashes <= Self.cachePrefixHashLimit {
                            cache.append(r)
                        } else {
                            caching = false
                            cache = []
                        }
                    }
                }
                return try shifted(r)
            }
            if pass == 0 && caching && current!.skippedRows == 0 { replaying = true } else { cache = [] }
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

    /// `r` moved to this pass (its arrival shifted by `offset`) with the next id.
    private mutating func shifted(_ request: RequestSpec) throws -> RequestSpec {
        var r = request
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

/// Spreads requests that share an arrival instant evenly over the time to the next distinct
/// instant: the `n` requests of a run at `t` followed by one at `t'` arrive at
/// `t + i·(t' − t)/n`, `i = 0 … n − 1`, in trace order. A trace whose timestamps are bucketed
/// (Mooncake's FAST'25 traces round to 3 s) otherwise replays each bucket as one burst. The last
/// run is spread over the trace's mean gap between distinct instants so far (or left as is when
/// there is none). Memory: one run, at most `maxRun` requests.
public struct SpreadTies: RequestSource {
    public static let maxRun = 65_536
    private var base: any RequestSource
    /// The current run, its arrivals already spread; `readyIndex` is the next to hand out.
    private var ready: [RequestSpec] = []
    private var readyIndex = 0
    private var lookahead: RequestSpec?
    private var firstInstant: Int64?
    private var distinctInstants = 0
    private var finished = false

    public init(_ base: any RequestSource) { self.base = base }

    public var skippedRows: Int { base.skippedRows }
    public var skippedRowReasons: [String] { base.skippedRowReasons }

    public mutating func next() throws -> RequestSpec? {
        if readyIndex < ready.count {
            defer { readyIndex += 1 }
            return ready[readyIndex]
        }
        ready.removeAll(keepingCapacity: true)
        readyIndex = 0
        guard !finished else { return nil }
        // Gather the run at the lookahead's instant.
        if lookahead == nil { lookahead = try base.next() }
        guard let head = lookahead else { finished = true; return nil }
        ready.append(head)
        lookahead = nil
        while let r = try base.next() {
            if r.arrival == head.arrival {
                guard ready.count < Self.maxRun else {
                    throw InputError(origin: .workload(detail: "request \(r.id)"),
                                     "spreadTies: more than \(Self.maxRun) requests share the arrival \(r.arrival.seconds) s")
                }
                ready.append(r)
            } else {
                lookahead = r
                break
            }
        }
        let t = head.arrival.nanoseconds
        if firstInstant == nil { firstInstant = t }
        distinctInstants += 1
        let span: Int64
        if let next = lookahead {
            span = next.arrival.nanoseconds - t
        } else if distinctInstants > 1, let first = firstInstant {
            span = (t - first) / Int64(distinctInstants - 1)
        } else {
            span = 0
        }
        let n = Int64(ready.count)
        for i in ready.indices {
            // i·span/n without overflow: span < 4e18 and i < 65,536, so split the product.
            ready[i].arrival = SimInstant(nanoseconds: t + span / n * Int64(i) + (span % n) * Int64(i) / n)
        }
        readyIndex = 1
        return ready[0]
    }
}
