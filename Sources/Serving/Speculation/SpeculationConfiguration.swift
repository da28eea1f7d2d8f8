/// Speculative decoding on a replica: which decodes verify drafts, how many, and how many of
/// them the target accepts.
///
/// Acceptance is drawn per draft token from a hash of `(seed, request id, tokens generated so
/// far, draft index)`, so a run is reproducible and independent of the order in which steps
/// are formed. A round accepts the longest prefix of drafts whose draws fall below the request's
/// rate and adds one token of the target's own: `E = (1 − a^(k+1)) / (1 − a)` tokens on average.
///
/// Tree verification of width `w` (SpecInfer, Medusa) checks `w` candidate chains of `k` drafts
/// in one pass of `1 + w·k` query tokens; each chain draws its own acceptances and the longest
/// accepted prefix of any chain is kept (`SpeculativeDecoding.expectedTokens`).
/// A trace row's `acceptance` column, where present, overrides the rate for its request.
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
    /// Candidate chains verified per round, `w ≥ 1` (1: a single chain).
    public var treeWidth: Int

    public init(draftTokens: Int, acceptance: Acceptance, maxBatchSize: Int, seed: UInt64, treeWidth: Int = 1) {
        precondition(draftTokens >= 1 && maxBatchSize >= 1 && treeWidth >= 1)
        switch acceptance {
        case .fixed(let a): precondition(a >= 0 && a <= 1)
        case .uniform(let lo, let hi): precondition(lo >= 0 && lo <= hi && hi <= 1)
        }
        self.draftTokens = draftTokens
        self.acceptance = acceptance
        self.maxBatchSize = maxBatchSize
        self.seed = seed
        self.treeWidth = treeWidth
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

    /// Drafts accepted in the round of request `id` (acceptance rate `rate`) that starts after
    /// `generated` tokens and proposes `drafts` tokens in each of `treeWidth` chains: the longest
    /// prefix, over the chains, whose draws fall below the rate. Chain 0 draws what a single
    /// chain draws, so a width of 1 is the chain case exactly.
    public func accepted(request id: Int, rate a: Double, generated: Int, drafts: Int) -> Int {
        var best = 0
        for chain in 0..<treeWidth where best < drafts {
            var n = 0
            while n < drafts && draw(id, generated, chain, n) < a { n += 1 }
            best = max(best, n)
        }
        return best
    }

    /// `accepted(request:rate:generated:drafts:)` at the request's configured rate.
    public func accepted(request id: Int, generated: Int, drafts: Int) -> Int {
        accepted(request: id, rate: rate(request: id), generated: generated, drafts: drafts)
    }

    @inline(__always) func draw(_ id: Int, _ generated: Int, _ chain: Int, _ j: Int) -> Double {
        Self.unit(seed, UInt64(bitPattern: Int64(id)), UInt64(generated), UInt64(j + 1) | UInt64(chain) << 32)
    }
}
