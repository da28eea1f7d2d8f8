import Foundation

/// Chooses the next token from logits.
///
/// - temperature 0: greedy `argmax` (ties → lowest id), deterministic.
/// - temperature T > 0: sample from `softmax(logits / T)` with a seeded SplitMix64 generator,
///   so the same seed gives the same tokens. Optional top-k truncation (0 = off).
public struct Sampler: Sendable {
    public var temperature: Float
    public var topK: Int
    private var state: UInt64

    public init(temperature: Float = 0, topK: Int = 0, seed: UInt64 = 0) {
        precondition(temperature >= 0, "temperature must be ≥ 0, got \(temperature)")
        self.temperature = temperature
        self.topK = topK
        self.state = seed
    }

    /// Next value of SplitMix64 (Steele, Lea & Flood, OOPSLA 2014).
    private mutating func nextRandom() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    private mutating func nextUnit() -> Double { Double(nextRandom() >> 11) * 0x1p-53 }

    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue { best = i; bestValue = v }
        return Int32(best)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if temperature == 0 { return Sampler.argmax(logits) }
        var candidates: [(id: Int, logit: Float)]
        if topK > 0 && topK < logits.count {
            candidates = logits.enumerated().map { ($0.offset, $0.element) }
            candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
            candidates.removeLast(candidates.count - topK)
        } else {
            candidates = logits.enumerated().map { ($0.offset, $0.element) }
        }
        let maxLogit = candidates.reduce(-Float.infinity) { max($0, $1.logit) }
        var weights = candidates.map { Double(expf(($0.logit - maxLogit) / temperature)) }
        let total = weights.reduce(0, +)
        let target = nextUnit() * total
        var running = 0.0
        for i in weights.indices {
            running += weights[i]
            if running > target { return Int32(candidates[i].id) }
        }
        weights.removeAll()
        return Int32(candidates.last!.id)
    }
}
