import Diagnostics
import DiscreteEvent
import HardwareModel

/// The workload section of a scenario file: a trace replay or a seeded generator.
///
/// ```json
/// {"trace": {"format": "azure2023", "path": "traces/conv.csv", "rateMultiplier": 1,
///            "repeat": 1, "limit": 1000, "skipBadRows": false}}
/// {"generator": {"arrivals": {"poisson": {"ratePerSecond": 5}},
///                "promptTokens": {"lognormal": {"median": 1020, "p90": 2734, "max": 16000}},
///                "outputTokens": {"uniform": {"min": 16, "max": 512}},
///                "requests": 2000, "durationSeconds": 600}}
/// ```
/// Arrivals: `{"poisson": {"ratePerSecond"}}`, `{"gamma": {"ratePerSecond", "coefficientOfVariation"}}`,
/// `{"constant": {"ratePerSecond"}}`, `{"piecewise": {"segments": [{"durationSeconds",
/// "startRatePerSecond", "endRatePerSecond"?}]}}`.
/// Lengths: `{"fixed": {"tokens"}}`, `{"uniform": {"min", "max"}}`,
/// `{"lognormal": {"mean", "sigma"} | {"median", "p90"}, "min"?, "max"?}`,
/// `{"empirical": {"path", "format", "field": "prompt"|"output"}}`.
/// Decoding validates every value (rates > 0, cv > 0, min ≤ max, …) and reports the JSON path
/// through `StrictJSON`; unknown keys are rejected there. Relative paths are resolved against
/// the scenario file's directory in `makeSource`.
public enum WorkloadSpec: Codable, Sendable, Hashable {
    case trace(TraceWorkloadSpec)
    case generator(GeneratorWorkloadSpec)

    /// Builds the request stream: trace (→ `SpreadTies`) → `Repeated` → `TimeScaled` → `Limited`, or a
    /// `SyntheticWorkload` seeded with `seed`.
    /// - Throws: `InputError` if a trace file cannot be opened or an empirical trace is bad.
    public func makeSource(relativeTo directory: String, seed: UInt64) throws -> any RequestSource {
        switch self {
        case .trace(let t):
            let path = Self.resolve(t.path, relativeTo: directory)
            let open: () throws -> any RequestSource = {
                let reader = try TraceReader(path: path, format: t.format, skipBadRows: t.skipBadRows)
                return t.spreadTies ? SpreadTies(reader) : reader
            }
            var source: any RequestSource = try open()
            if t.repeatCount > 1 { source = Repeated(times: t.repeatCount, first: source, makeSource: open) }
            if t.rateMultiplier != 1 { source = TimeScaled(source, rateMultiplier: t.rateMultiplier) }
            if let limit = t.limit { source = Limited(source, count: limit) }
            return source
        case .generator(let g):
            return SyntheticWorkload(arrivals: g.arrivals,
                                     promptTokens: try g.promptTokens.distribution(relativeTo: directory),
                                     outputTokens: try g.outputTokens.distribution(relativeTo: directory),
                                     requestLimit: g.requests,
                                     durationLimit: g.durationSeconds.map { SimDuration(secondsRoundingUp: $0) },
                                     seed: seed)
        }
    }

    /// Turns on `skipBadRows` for a trace replay (a generated workload has no rows to skip).
    public mutating func skipBadRows() {
        if case .trace(var t) = self {
            t.skipBadRows = true
            self = .trace(t)
        }
    }

    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    public init(from decoder: any Decoder) throws {
        let (name, c) = try OneOf.decode(decoder, options: ["trace", "generator"])
        switch name {
        case "trace": self = .trace(try c.decode(TraceWorkloadSpec.self, forKey: AnyKey(name)))
        default: self = .generator(try c.decode(GeneratorWorkloadSpec.self, forKey: AnyKey(name)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        switch self {
        case .trace(let t): try c.encode(t, forKey: AnyKey("trace"))
        case .generator(let g): try c.encode(g, forKey: AnyKey("generator"))
        }
    }
}

/// Replay of a trace file (see `TraceReader`), optionally repeated, time-scaled and limited.
public struct TraceWorkloadSpec: Codable, Sendable, Hashable {
    public var format: TraceFormat
    public var path: String
    /// Arrival-rate multiplier k > 0: arrivals are divided by k. Default 1.
    public var rateMultiplier: Double
    /// Number of back-to-back copies (≥ 1; JSON key `repeat`). Default 1.
    public var repeatCount: Int
    /// At most this many requests (≥ 1) after repeating.
    public var limit: Int?
    public var skipBadRows: Bool
    /// Spread requests that share a timestamp evenly over the time to the next distinct one
    /// (`SpreadTies`), for traces with bucketed timestamps. Default false.
    public var spreadTies: Bool

    public init(format: TraceFormat, path: String, rateMultiplier: Double = 1, repeatCount: Int = 1,
                limit: Int? = nil, skipBadRows: Bool = false, spreadTies: Bool = false) {
        self.format = format
        self.path = path
        self.rateMultiplier = rateMultiplier
        self.repeatCount = repeatCount
        self.limit = limit
        self.skipBadRows = skipBadRows
        self.spreadTies = spreadTies
    }

    enum CodingKeys: String, CodingKey {
        case format, path, rateMultiplier, repeatCount = "repeat", limit, skipBadRows, spreadTies
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decodeKnown(TraceFormat.self, forKey: .format)
        path = try c.decode(String.self, forKey: .path)
        guard !path.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .path, in: c, debugDescription: "expected a file path, found an empty string")
        }
        rateMultiplier = try c.contains(.rateMultiplier) ? c.decodePositiveNumber(.rateMultiplier) : 1
        repeatCount = try c.contains(.repeatCount) ? c.decodeInt(.repeatCount, atLeast: 1, atMost: 1_000_000) : 1
        limit = try c.contains(.limit) ? c.decodeInt(.limit, atLeast: 1) : nil
        skipBadRows = try c.decodeIfPresent(Bool.self, forKey: .skipBadRows) ?? false
        spreadTies = try c.decodeIfPresent(Bool.self, forKey: .spreadTies) ?? false
    }
}

/// A seeded synthetic workload (see `SyntheticWorkload`). At least one of `requests` and
/// `durationSeconds` is required unless the arrivals are piecewise (which end by themselves).
public struct GeneratorWorkloadSpec: Codable, Sendable, Hashable {
    public var arrivals: ArrivalProcess
    public var promptTokens: LengthSpec
    public var outputTokens: LengthSpec
    public var requests: Int?
    public var durationSeconds: Double?

    public init(arrivals: ArrivalProcess, promptTokens: LengthSpec, outputTokens: LengthSpec,
                requests: Int? = nil, durationSeconds: Double? = nil) {
        self.arrivals = arrivals
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.requests = requests
        self.durationSeconds = durationSeconds
    }

    enum CodingKeys: String, CodingKey { case arrivals, promptTokens, outputTokens, requests, durationSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        arrivals = try c.decode(ArrivalProcess.self, forKey: .arrivals)
        promptTokens = try c.decode(LengthSpec.self, forKey: .promptTokens)
        outputTokens = try c.decode(LengthSpec.self, forKey: .outputTokens)
        requests = try c.contains(.requests) ? c.decodeInt(.requests, atLeast: 1, atMost: 1_000_000_000) : nil
        durationSeconds = try c.contains(.durationSeconds) ? c.decodePositiveNumber(.durationSeconds, atMost: 1e9) : nil
        if requests == nil && durationSeconds == nil {
            if case .piecewise = arrivals {} else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "expected \"requests\" or \"durationSeconds\" (or both) to bound the workload, found neither"))
            }
        }
    }
}

/// A length distribution as written in a scenario file; `distribution(relativeTo:)` loads
/// empirical traces and returns the sampler.
public enum LengthSpec: Codable, Sendable, Hashable {
    case fixed(tokens: Int)
    case uniform(min: Int, max: Int)
    case lognormalMean(mean: Double, sigma: Double, min: Int?, max: Int?)
    case lognormalPercentiles(median: Double, p90: Double, min: Int?, max: Int?)
    case empirical(path: String, format: TraceFormat, field: EmpiricalLengths.Field)

    /// - Throws: `InputError` if an empirical trace cannot be read.
    public func distribution(relativeTo directory: String) throws -> LengthDistribution {
        switch self {
        case .fixed(let n): return .fixed(n)
        case .uniform(let lo, let hi): return .uniform(min: lo, max: hi)
        case .lognormalMean(let mean, let sigma, let lo, let hi):
            return .lognormal(LognormalLength(mean: mean, sigma: sigma, minimum: lo ?? 1, maximum: hi ?? 1 << 30))
        case .lognormalPercentiles(let median, let p90, let lo, let hi):
            return .lognormal(LognormalLength(median: median, p90: p90, minimum: lo ?? 1, maximum: hi ?? 1 << 30))
        case .empirical(let path, let format, let field):
            return .empirical(try EmpiricalLengths(trace: WorkloadSpec.resolve(path, relativeTo: directory), format: format, field: field))
        }
    }

    public init(from decoder: any Decoder) throws {
        let (name, outer) = try OneOf.decode(decoder, options: ["fixed", "uniform", "lognormal", "empirical"])
        let c = try outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(name))
        func key(_ s: String) -> AnyKey { AnyKey(s) }
        switch name {
        case "fixed":
            self = .fixed(tokens: try c.decodeInt(key("tokens"), atLeast: 1))
        case "uniform":
            let lo = try c.decodeInt(key("min"), atLeast: 1)
            let hi = try c.decodeInt(key("max"), atLeast: 1)
            guard hi >= lo else {
                throw DecodingError.dataCorruptedError(forKey: key("max"), in: c, debugDescription: "expected max >= min (\(lo)), found \(hi)")
            }
            self = .uniform(min: lo, max: hi)
        case "lognormal":
            let lo = try c.contains(key("min")) ? c.decodeInt(key("min"), atLeast: 1) : nil
            let hi = try c.contains(key("max")) ? c.decodeInt(key("max"), atLeast: 1) : nil
            if let lo, let hi, hi < lo {
                throw DecodingError.dataCorruptedError(forKey: key("max"), in: c, debugDescription: "expected max >= min (\(lo)), found \(hi)")
            }
            if c.contains(key("mean")) || c.contains(key("sigma")) {
                let mean = try c.decodePositiveNumber(key("mean"))
                let sigma = try c.decodeNonNegativeNumber(key("sigma"))
                self = .lognormalMean(mean: mean, sigma: sigma, min: lo, max: hi)
            } else if c.contains(key("median")) || c.contains(key("p90")) {
                let median = try c.decodePositiveNumber(key("median"))
                let p90 = try c.decodePositiveNumber(key("p90"))
                guard p90 >= median else {
                    throw DecodingError.dataCorruptedError(forKey: key("p90"), in: c, debugDescription: "expected p90 >= median (\(median)), found \(p90)")
                }
                self = .lognormalPercentiles(median: median, p90: p90, min: lo, max: hi)
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                    debugDescription: "expected {\"mean\", \"sigma\"} or {\"median\", \"p90\"}, found neither"))
            }
        default:
            let path = try c.decode(String.self, forKey: key("path"))
            let format = try c.decodeKnown(TraceFormat.self, forKey: key("format"))
            let field = try c.decodeKnown(EmpiricalLengths.Field.self, forKey: key("field"))
            self = .empirical(path: path, format: format, field: field)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var outer = encoder.container(keyedBy: AnyKey.self)
        func nested(_ name: String) -> KeyedEncodingContainer<AnyKey> { outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(name)) }
        switch self {
        case .fixed(let n):
            var c = nested("fixed"); try c.encode(n, forKey: AnyKey("tokens"))
        case .uniform(let lo, let hi):
            var c = nested("uniform"); try c.encode(lo, forKey: AnyKey("min")); try c.encode(hi, forKey: AnyKey("max"))
        case .lognormalMean(let mean, let sigma, let lo, let hi):
            var c = nested("lognormal")
            try c.encode(mean, forKey: AnyKey("mean")); try c.encode(sigma, forKey: AnyKey("sigma"))
            try c.encodeIfPresent(lo, forKey: AnyKey("min")); try c.encodeIfPresent(hi, forKey: AnyKey("max"))
        case .lognormalPercentiles(let median, let p90, let lo, let hi):
            var c = nested("lognormal")
            try c.encode(median, forKey: AnyKey("median")); try c.encode(p90, forKey: AnyKey("p90"))
            try c.encodeIfPresent(lo, forKey: AnyKey("min")); try c.encodeIfPresent(hi, forKey: AnyKey("max"))
        case .empirical(let path, let format, let field):
            var c = nested("empirical")
            try c.encode(path, forKey: AnyKey("path")); try c.encode(format, forKey: AnyKey("format")); try c.encode(field, forKey: AnyKey("field"))
        }
    }
}

extension ArrivalProcess: Codable {
    public init(from decoder: any Decoder) throws {
        let (name, outer) = try OneOf.decode(decoder, options: ["poisson", "gamma", "constant", "piecewise"])
        let c = try outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(name))
        switch name {
        case "poisson": self = .poisson(ratePerSecond: try c.decodePositiveNumber(AnyKey("ratePerSecond"), atMost: ArrivalProcess.maximumRate))
        case "constant": self = .constant(ratePerSecond: try c.decodePositiveNumber(AnyKey("ratePerSecond"), atMost: ArrivalProcess.maximumRate))
        case "gamma":
            self = .gamma(ratePerSecond: try c.decodePositiveNumber(AnyKey("ratePerSecond"), atMost: ArrivalProcess.maximumRate),
                          coefficientOfVariation: try c.decodePositiveNumber(AnyKey("coefficientOfVariation")))
        default:
            let segments = try c.decode([RateSegment].self, forKey: AnyKey("segments"))
            guard !segments.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: AnyKey("segments"), in: c, debugDescription: "expected at least one segment, found none")
            }
            guard segments.contains(where: { $0.peakRate > 0 }) else {
                throw DecodingError.dataCorruptedError(forKey: AnyKey("segments"), in: c, debugDescription: "expected some segment with a rate > 0, found all zero")
            }
            self = .piecewise(segments)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var outer = encoder.container(keyedBy: AnyKey.self)
        switch self {
        case .poisson(let r):
            var c = outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("poisson"))
            try c.encode(r, forKey: AnyKey("ratePerSecond"))
        case .constant(let r):
            var c = outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("constant"))
            try c.encode(r, forKey: AnyKey("ratePerSecond"))
        case .gamma(let r, let cv):
            var c = outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("gamma"))
            try c.encode(r, forKey: AnyKey("ratePerSecond"))
            try c.encode(cv, forKey: AnyKey("coefficientOfVariation"))
        case .piecewise(let segments):
            var c = outer.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("piecewise"))
            try c.encode(segments, forKey: AnyKey("segments"))
        }
    }
}

/// A string coding key, for objects keyed by a variant name.
struct AnyKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Decodes `{"<variant>": {...}}`: an object with exactly one key from `options`.
enum OneOf {
    static func decode(_ decoder: any Decoder, options: [String]) throws -> (String, KeyedDecodingContainer<AnyKey>) {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let keys = c.allKeys.map(\.stringValue).sorted()
        let expected = options.joined(separator: ", ")
        guard keys.count == 1, let name = keys.first, options.contains(name) else {
            let found = keys.isEmpty ? "an empty object" : "keys " + keys.joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected an object with exactly one of \(expected); found \(found)"))
        }
        return (name, c)
    }
}

extension KeyedDecodingContainer {
    /// A finite number in (0, `maximum`], or a decoding error naming the key's path.
    func decodePositiveNumber(_ key: Key, atMost maximum: Double = KeyedDecodingContainer.largestQuantity) throws -> Double {
        try decodePositive(key, atMost: maximum)
    }

    /// A finite number in [0, `maximum`], or a decoding error naming the key's path.
    func decodeNonNegativeNumber(_ key: Key, atMost maximum: Double = KeyedDecodingContainer.largestQuantity) throws -> Double {
        let value = try decode(Double.self, forKey: key)
        guard value.isFinite, value >= 0, value <= maximum else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self,
                debugDescription: "expected a number in [0, \(JSONText.shortNumber(maximum))], found \(JSONText.shortNumber(value))")
        }
        return value
    }
}
