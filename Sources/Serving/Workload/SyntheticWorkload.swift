import DiscreteEvent

/// A seeded synthetic workload: arrivals from an `ArrivalProcess`, prompt and output lengths
/// from `LengthDistribution`s, until `requestLimit` requests or `durationLimit` (whichever
/// comes first; a piecewise process also ends with its last segment).
///
/// Arrivals and lengths use separate streams of the seed (`SeededGenerator(seed:stream:)`,
/// streams 1 and 2), so changing a length distribution leaves the arrival times unchanged.
/// Arrival seconds are rounded to the nearest nanosecond once per request (no accumulated
/// rounding: the clock runs in `Double` seconds).
public struct SyntheticWorkload: RequestSource {
    public let arrivals: ArrivalProcess
    public let promptTokens: LengthDistribution
    public let outputTokens: LengthDistribution
    public let requestLimit: Int?
    public let durationLimit: SimDuration?
    private var clock: ArrivalClock
    private var arrivalRNG: SeededGenerator
    private var lengthRNG: SeededGenerator
    private var produced = 0
    private var finished = false

    public init(arrivals: ArrivalProcess, promptTokens: LengthDistribution, outputTokens: LengthDistribution,
                requestLimit: Int?, durationLimit: SimDuration? = nil, seed: UInt64) {
        var bounded = requestLimit != nil || durationLimit != nil
        if case .piecewise = arrivals { bounded = true }
        precondition(bounded, "a synthetic workload needs a request limit, a duration limit, or a piecewise rate")
        self.arrivals = arrivals
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.requestLimit = requestLimit
        self.durationLimit = durationLimit
        self.clock = ArrivalClock(arrivals)
        self.arrivalRNG = SeededGenerator(seed: seed, stream: 1)
        self.lengthRNG = SeededGenerator(seed: seed, stream: 2)
    }

    public mutating func next() throws -> RequestSpec? {
        guard !finished else { return nil }
        if let requestLimit, produced >= requestLimit { finished = true; return nil }
        guard let seconds = clock.next(using: &arrivalRNG) else { finished = true; return nil }
        let nanoseconds = Int64((seconds * 1e9).rounded())
        if let durationLimit, nanoseconds > durationLimit.nanoseconds { finished = true; return nil }
        let prompt = promptTokens.sample(using: &lengthRNG)
        let output = outputTokens.sample(using: &lengthRNG)
        defer { produced += 1 }
        return RequestSpec(id: produced, arrival: SimInstant(nanoseconds: nanoseconds),
                           promptTokens: prompt, outputTokens: output)
    }
}
