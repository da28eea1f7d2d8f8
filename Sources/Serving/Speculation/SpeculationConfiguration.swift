/// Speculative decoding on a replica: which decodes verify drafts, how many, and how many of
/// them the target accepts.
///
/// Acceptance is drawn per draft token from a hash of `(seed, request id, tokens generated so
/// far, draft index)`, so a run is reproducible and independent of the order in which steps
/// are formed. A round accepts the longest prefix of drafts whose draws fall below the request's
/// rate and adds one token of the target's own: `E = (1 − a^(k+1)) / (1 − a)` tokens on average.
public struct SpeculationConfiguration: Hashable, Sendable {
    /// How a request's acceptance rate is chosen.
    public enum Acceptance: Hashable, Sendable {
        /// Every request accepts each draft token with probability `rate`.
        case fixed(Double)
        /// Each request draws its rate uniformly from `[min, max]` (prompts differ in how
        /// predictable their continuations are).
        case uniform(min: Double, max: Double)
    }

    /// Draft tokens per round, `k ≥ 1`.
    public var draftTokens: Int
    public var acceptance: Acceptance
    /// Speculation is turned off for a step with more decoding sequences than this, as serving
    /// engines do once the verification pass turns compute-bound.
    public var maxBatchSize: Int
    public var seed: UInt64

    public init(draftTokens: Int, acceptance: Acceptance, maxBatchSize: Int, seed: UInt64) {
        precondition(draftTokens >= 1 && maxBatchSize >= 1)
        switch acceptance {
        case .fixed(let a): precondition(a >= 0 && a <= 1)
        case .uniform(let lo, let hi): precondition(lo >= 0 && lo <= hi && hi <= 1)
        }
        self.draftTokens = draftTokens
        self.acceptance = acceptance
        self.maxBatchSize = maxBatchSize
        self.seed = seed
    }

    /// A uniform draw in [0, 1) from the hash of the four keys (SplitMix64's finaliser).
    @inline(__always) static func unit(_ seed: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> Double {
        let key = seed ^ (a &* 0x9E37_79B9_7F4A_7C15) ^ (b &* 0xC2B2_AE3D_27D4_EB4F) ^ (c &* 0x1656_67B1_9E37_79F9)
        return Double(SeededGenerator.mix64(key) >> 11) * 0x1p-53
    }

    /// The acceptance rate of request `id`.
    public func rate(request id: Int) -> Double {
        switch acceptance {
        case .fixed(let a): return a
        case .uniform(let lo, let hi): return lo + (hi - lo) * Self.unit(seed, UInt64(bitPattern: Int64(id)), .max, 0)
        }
    }

    /// Drafts accepted in the round of request `id` that starts after `generated` tokens and
    /// proposes `drafts` tokens: the longest prefix whose draws fall below the request's rate.
    public func accepted(request id: Int, generated: Int, drafts: Int) -> Int {
        let a = rate(request: id)
        var n = 0
        while n < drafts && Self.unit(seed, UInt64(bitPattern: Int64(id)), UInt64(generated), UInt64(n + 1)) < a { n += 1 }
        return n
    }
}
