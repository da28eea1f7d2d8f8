import Foundation

/// The operator classes the executor times, matching the cost model's decode/prefill breakdown.
public enum OperatorClass: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Q, K and V projections (including rounding their input to Q8).
    case qkvProjection
    /// RoPE, KV-cache writes and scaled dot-product attention.
    case attention
    /// The attention output projection `W_o`.
    case outputProjection
    /// Gate, up and down projections (including rounding their inputs to Q8).
    case feedForward
    /// Embedding lookup, RMSNorms, residual additions and the SwiGLU activation `silu(gate) · up`.
    case normsAndElementwise
    /// Final norm's matmul with the vocabulary (`lm_head`).
    case lmHead

    public var description: String {
        switch self {
        case .qkvProjection: return "qkv_proj"
        case .attention: return "attention"
        case .outputProjection: return "out_proj"
        case .feedForward: return "ffn"
        case .normsAndElementwise: return "norms_elementwise"
        case .lmHead: return "lm_head"
        }
    }
}

/// A source of monotonic time in nanoseconds, injected so tests can use a fake and
/// Validation can use a real one. The executor never reads the wall clock itself.
public protocol ExecutorClock: Sendable {
    func nowNanoseconds() -> UInt64
}

/// `CLOCK_MONOTONIC` (Linux) / `DispatchTime` elsewhere.
public struct MonotonicClock: ExecutorClock {
    public init() {}
    public func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// Accumulated time per operator class, and how many forward steps and tokens it covers.
public struct OperatorTimings: Sendable, Equatable {
    /// Nanoseconds per `OperatorClass.rawValue`.
    public var nanoseconds: [UInt64] = Array(repeating: 0, count: OperatorClass.allCases.count)
    /// Forward steps (one `forward` chunk or one `decodeBatch`) timed.
    public var steps = 0
    /// Token rows processed in those steps.
    public var tokens = 0

    public init() {}

    public subscript(_ op: OperatorClass) -> UInt64 { nanoseconds[op.rawValue] }
    public var totalNanoseconds: UInt64 { nanoseconds.reduce(0, +) }
}
