/// A numeric format for weights, activations or the KV cache.
///
/// `bytesPerElement` includes the per-block scales of the block-quantised GGML formats
/// (Q4_0: 18 bytes per 32 elements; Q4_1: 20; Q8_0: 34), so that weight traffic on a CPU is
/// counted exactly as the executor reads it.
public enum DType: String, Codable, Sendable, CaseIterable, Comparable {
    case fp32, tf32, bf16, fp16, fp8, int8, fp4, int4
    case q8_0, q4_1, q4_0

    public var bytesPerElement: Double {
        switch self {
        case .fp32, .tf32: return 4
        case .bf16, .fp16: return 2
        case .fp8, .int8: return 1
        case .fp4, .int4: return 0.5
        case .q8_0: return 34.0 / 32
        case .q4_1: return 20.0 / 32
        case .q4_0: return 18.0 / 32
        }
    }

    /// The format arithmetic runs in when this is the activation type: block-quantised
    /// formats are unpacked to int8 dot products (llama.cpp's q8 path).
    public var arithmeticType: DType {
        switch self {
        case .q8_0, .q4_1, .q4_0: return .int8
        default: return self
        }
    }

    /// Whether this is one of GGML's block-quantised formats (weights with per-block scales).
    public var isBlockQuantized: Bool { self == .q8_0 || self == .q4_1 || self == .q4_0 }

    /// Formats to try, in order, when a device has no peak figure for this one: a device
    /// without FP8 units runs FP8 work at its FP16/BF16 rate, and so on. A block-quantised
    /// kernel format (a CPU's Q4_1 × Q8 dot product) first tries its own figure, which a
    /// calibrated host profile measures, then the int8 rate.
    public var computeFallbacks: [DType] {
        switch self {
        case .fp32: return [.fp32]
        case .tf32: return [.tf32, .fp32]
        case .bf16: return [.bf16, .fp16, .fp32]
        case .fp16: return [.fp16, .bf16, .fp32]
        case .fp8: return [.fp8, .int8, .fp16, .bf16, .fp32]
        case .int8: return [.int8, .fp8, .fp16, .bf16, .fp32]
        case .fp4: return [.fp4, .int4, .fp8, .int8, .fp16, .bf16, .fp32]
        case .int4: return [.int4, .int8, .fp8, .fp16, .bf16, .fp32]
        case .q8_0, .q4_1, .q4_0: return [self, .int8, .fp16, .bf16, .fp32]
        }
    }

    private var order: Int { DType.allCases.firstIndex(of: self)! }
    public static func < (a: DType, b: DType) -> Bool { a.order < b.order }

    /// Parses a command-line or JSON spelling (`fp16`, `FP16`, `float16`, `bfloat16`, `q4_1`…).
    public init?(parsing text: String) {
        let t = text.lowercased()
        switch t {
        case "float32", "f32": self = .fp32
        case "float16", "half", "f16": self = .fp16
        case "bfloat16": self = .bf16
        case "e4m3", "float8": self = .fp8
        default:
            guard let value = DType(rawValue: t) else { return nil }
            self = value
        }
    }

    public static var knownNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
