/// A deterministic pseudo-random number generator: xoshiro256** seeded through SplitMix64.
///
/// The same seed always gives the same sequence on every platform, so a scenario and its
/// seed reproduce a run byte for byte. There is no global generator anywhere in InferSim:
/// seeds come from the scenario and generators are passed `inout`.
/// Sources: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021);
/// Steele, Lea & Flood, "Fast splittable pseudorandom number generators" (SplitMix64, 2014).
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededGenerator.splitMix64(&sm)
        s1 = SeededGenerator.splitMix64(&sm)
        s2 = SeededGenerator.splitMix64(&sm)
        s3 = SeededGenerator.splitMix64(&sm)
    }

    /// An independent stream for a named purpose: `SeededGenerator(seed: seed, stream: 1)`
    /// differs from stream 0 of the same seed, so that, e.g., arrivals and lengths do not
    /// share draws (changing the length distribution leaves the arrival times unchanged).
    public init(seed: UInt64, stream: UInt64) {
        var sm = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = SeededGenerator.splitMix64(&sm)
        self.init(seed: SeededGenerator.splitMix64(&sm))
    }

    @inline(__always)
    static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }

    /// SplitMix64's finaliser: a bijective 64-bit mix (also a stateless hash of a key).
    @inline(__always)
    static func mix64(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in (0, 1): never 0, safe for `log`.
    @inline(__always)
    public mutating func nextOpenUnitInterval() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// A standard normal deviate (Marsaglia's polar method; the second deviate is discarded
    /// so that the generator has no hidden cached state).
    public mutating func nextStandardNormal() -> Double {
        while true {
            let u = 2 * nextUnitInterval() - 1
            let v = 2 * nextUnitInterval() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * _log(s) / s).squareRoot() }
        }
    }

    /// An exponential deviate with mean 1: `-ln(U)`.
    @inline(__always)
    public mutating func nextExponential() -> Double { -_log(nextOpenUnitInterval()) }

    /// A Gamma(shape, 1) deviate: Marsaglia & Tsang, "A simple method for generating gamma
    /// variables" (ACM TOMS 2000); for shape < 1, `Gamma(shape + 1) · U^(1/shape)`.
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma shape must be > 0")
        if shape < 1 {
            let g = nextGamma(shape: shape + 1)
            return g * _pow(nextOpenUnitInterval(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextStandardNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextOpenUnitInterval()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if _log(u) < 0.5 * x * x + d * (1 - v + _log(v)) { return d * v }
        }
    }
}
