/// How much of a sequence's context its KV cache keeps: everything, or a budget that bounds
/// both the bytes a decode step reads and the memory a sequence holds. Quality is out of scope:
/// a budget is priced, not judged.
///
/// - `window(sinks:window:)`: StreamingLLM's attention sinks plus a recent window (Xiao et al.,
///   *Efficient Streaming Language Models with Attention Sinks*, ICLR 2024), or with no sinks the
///   sliding window a model declares (Mistral 7B: 4,096).
/// - `heavyHitters(tokens:)`: a fixed budget of the most attended tokens (H2O, Zhang et al.,
///   NeurIPS 2023; SnapKV, Li et al., 2024).
/// - `compressed(ratio:)`: a generic compression that stores `1 / ratio` of the bytes.
public enum KVBudget: Hashable, Sendable {
    case full
    case window(sinks: Int, window: Int)
    case heavyHitters(tokens: Int)
    case compressed(ratio: Double)

    /// Tokens the cache keeps of a context of `tokens`.
    @inline(__always) public func retained(_ tokens: Int) -> Int {
        switch self {
        case .full: return tokens
        case .window(let sinks, let window): return min(tokens, sinks + window)
        case .heavyHitters(let budget): return min(tokens, budget)
        case .compressed(let ratio): return Int((Double(tokens) / ratio).rounded(.up))
        }
    }

    /// Whether it keeps everything.
    public var isFull: Bool { if case .full = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .full: return "full"
        case .window(let s, let w): return s > 0 ? "StreamingLLM: \(s) sink + \(w) window tokens" : "sliding window of \(w) tokens"
        case .heavyHitters(let b): return "heavy hitters: \(b) tokens"
        case .compressed(let r): return "compressed \(r)×"
        }
    }
}
