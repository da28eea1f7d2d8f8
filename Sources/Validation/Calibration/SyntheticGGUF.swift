import Foundation
import CPUExecutor
import GGUF

/// Builds small GGUF v3 files in memory for calibration microbenchmarks: a single weight
/// matrix of a chosen type and shape, or a tiny Llama model whose forward pass does almost
/// no arithmetic (to expose fixed per-kernel and per-step costs).
///
/// Values are deterministic (a SplitMix64 stream from `seed`) and valid for their encoding
/// (finite f16 scales), so the kernels run their ordinary path. Only the byte layout matters
/// for timing; the numbers themselves are meaningless.
struct SyntheticGGUF {
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, shape: [Int], type: GGMLType, data: [UInt8])] = []
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    private mutating func nextRandom() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// Adds a tensor with ggml shape `[columns, rows]` (or `[count]`) filled with valid random blocks.
    /// Supported types: F32, Q8_0, Q4_1.
    mutating func addTensor(_ name: String, shape: [Int], type: GGMLType) {
        let elements = shape.reduce(1, *)
        var data: [UInt8] = []
        switch type {
        case .f32:
            data.reserveCapacity(elements * 4)
            for _ in 0 ..< elements {
                let v = Float(Int(nextRandom() % 2001) - 1000) / 16_000  // within ±1/16
                withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        case .q8_0, .q4_1:
            precondition(elements % 32 == 0, "block types need a multiple of 32 elements")
            let blockBytes = type == .q8_0 ? 34 : 20
            data.reserveCapacity(elements / 32 * blockBytes)
            let scale = Float16(0.002).bitPattern.littleEndian
            let minimum = Float16(-0.015).bitPattern.littleEndian
            for _ in 0 ..< elements / 32 {
                withUnsafeBytes(of: scale) { data.append(contentsOf: $0) }
                if type == .q4_1 { withUnsafeBytes(of: minimum) { data.append(contentsOf: $0) } }
                let payload = type == .q8_0 ? 32 : 16
                var filled = 0
                while filled < payload {
                    var r = nextRandom()
                    for _ in 0 ..< min(8, payload - filled) {
                        // Q8_0 values in −64…63; Q4_1 any nibble pair.
                        let byte = UInt8(truncatingIfNeeded: r)
                        data.append(type == .q8_0 ? UInt8(bitPattern: Int8(truncatingIfNeeded: Int(byte % 128) - 64)) : byte)
                        r >>= 8
                        filled += 1
                    }
                }
            }
        default:
            preconditionFailure("SyntheticGGUF supports F32, Q8_0 and Q4_1, not \(type)")
        }
        tensors.append((name, shape, type, data))
    }

    /// The file bytes: header, metadata, tensor infos, then 32-byte-aligned tensor data.
    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func pad() { while out.count % 32 != 0 { out.append(0) } }
        u32(0x4655_4747)
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case .string(let s): u32(8); string(s)
            case .uint32(let v): u32(4); u32(v)
            case .float32(let f): u32(6); u32(f.bitPattern)
            default: preconditionFailure("SyntheticGGUF writes string, u32 and f32 metadata only")
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + 31) / 32 * 32
        }
        for (i, t) in tensors.enumerated() {
            string(t.name)
            u32(UInt32(t.shape.count))
            for d in t.shape { u64(UInt64(d)) }
            u32(UInt32(t.type.rawValue))
            u64(UInt64(offsets[i]))
        }
        pad()
        for t in tensors {
            out.append(contentsOf: t.data)
            pad()
        }
        return out
    }

    /// One weight matrix of `rows × columns` in `type`, repacked as the executor holds it.
    static func weightMatrix(rows: Int, columns: Int, type: GGMLType, seed: UInt64) throws -> WeightMatrix {
        var g = SyntheticGGUF(seed: seed)
        g.addTensor("w", shape: [columns, rows], type: type)
        let file = try GGUFFile(bytes: g.bytes())
        return try WeightMatrix(file: file, info: file.tensors[0])
    }

    /// A Llama model of `layers` layers with a 64-wide residual stream, 2 heads, a 128-wide FFN
    /// and a 64-token vocabulary (all F32): its forward pass is dominated by fixed costs.
    static func tinyLlama(layers: Int, seed: UInt64) throws -> GGUFFile {
        let d = 64, f = 128, vocab = 64, heads = 2
        var g = SyntheticGGUF(seed: seed)
        g.add("general.architecture", .string("llama"))
        g.add("llama.block_count", .uint32(UInt32(layers)))
        g.add("llama.embedding_length", .uint32(UInt32(d)))
        g.add("llama.feed_forward_length", .uint32(UInt32(f)))
        g.add("llama.attention.head_count", .uint32(UInt32(heads)))
        g.add("llama.context_length", .uint32(256))
        g.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        g.addTensor("token_embd.weight", shape: [d, vocab], type: .f32)
        for i in 0 ..< layers {
            let p = "blk.\(i)."
            g.addTensor(p + "attn_norm.weight", shape: [d], type: .f32)
            g.addTensor(p + "attn_q.weight", shape: [d, d], type: .f32)
            g.addTensor(p + "attn_k.weight", shape: [d, d], type: .f32)
            g.addTensor(p + "attn_v.weight", shape: [d, d], type: .f32)
            g.addTensor(p + "attn_output.weight", shape: [d, d], type: .f32)
            g.addTensor(p + "ffn_norm.weight", shape: [d], type: .f32)
            g.addTensor(p + "ffn_gate.weight", shape: [d, f], type: .f32)
            g.addTensor(p + "ffn_up.weight", shape: [d, f], type: .f32)
            g.addTensor(p + "ffn_down.weight", shape: [f, d], type: .f32)
        }
        g.addTensor("output_norm.weight", shape: [d], type: .f32)
        return try GGUFFile(bytes: g.bytes())
    }
}
