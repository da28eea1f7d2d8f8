import Diagnostics
import Foundation
import HardwareModel
import CostModel

/// Operator microbenchmarks of one GPU, in the format of
/// `data/measurements/h200-pytorch-microbench.json` (documented by
/// `schemas/microbench.schema.json`): GEMM times by M, K, N (bf16, optionally fp8), decode
/// attention times by batch and context, and copy bandwidth.
public struct MicrobenchmarkFile: Codable, Sendable {
    public var description: String?
    public var method: [String: String]?
    public var device: String
    public var torch: String?
    public var sm_count: Int
    public var copy_GBps_read_plus_write: Double
    public var read_sum_GBps: Double?
    public var bf16_gemm_8192_TFLOPs: Double?
    public var fp8_gemm_8192_TFLOPs: Double?
    public var gemm: [GEMM]
    public var decode_attention: [Attention]

    public struct GEMM: Codable, Sendable {
        public var op: String?
        public var M: Int
        public var K: Int
        public var N: Int
        public var bf16_s: Double
        public var bf16_TFLOPs: Double?
        public var bf16_weight_GBps: Double?
        public var fp8_s: Double?
        public var fp8_rows: Int?
        public var fp8_TFLOPs: Double?
        public var fp8_weight_GBps: Double?
    }

    public struct Attention: Codable, Sendable {
        public var B: Int
        public var L: Int
        public var kv_bytes: Double
        /// KV heads and head dimension (absent: head dimension 128 and the KV heads `kv_bytes` implies).
        public var kv_heads: Int?
        public var head_dim: Int?
        public var FLASH_ATTENTION: Double
        public var FLASH_ATTENTION_GBps: Double?
        public var EFFICIENT_ATTENTION: Double?
        public var EFFICIENT_ATTENTION_GBps: Double?
        public var MATH: Double?
        public var MATH_GBps: Double?
    }
}

/// Fits a `KernelFit` from operator microbenchmarks (`infersim calibrate --from FILE`).
///
/// - GEMMs: `t = fixed + (c^p + m^p)^(1/p)` over every bf16 and fp8 point (and the 8192³
///   product when given), fitting `fixed`, the streaming bandwidth, one large-GEMM rate per type
///   and the exponent `p` by Levenberg-Marquardt on log-time residuals.
/// - Decode attention (the FlashAttention backend): `t = fixed + max(bytes / bandwidth,
///   waves · blockBytes / perBlock)` with `B × KV heads` thread blocks.
/// - Streaming: the copy bandwidth as measured.
/// The small-kernel fixed time is not in such a file; it is the documented estimate
/// `smallKernelEstimate`.
public enum KernelCalibration {
    /// Fixed device time of a small elementwise kernel (norm, activation) on a datacenter GPU,
    /// seconds: an estimate (an empty kernel completes in ~2 µs on Hopper; one that reads a few
    /// MB adds its ramp), used until a file measures it.
    public static let smallKernelEstimate = 2.5e-6

    struct GEMMPoint { var M, K, N: Double; var weightBytes, activationBytes: Double; var type: DType; var seconds: Double }
    struct AttentionPoint { var B, L, bytes, blocks: Double; var seconds: Double }

    /// Reads one microbenchmark file strictly and checks every number it will fit.
    public static func read(_ path: String) throws -> MicrobenchmarkFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "file not found or not readable") }
        let file = try StrictJSON.decode(MicrobenchmarkFile.self, from: data, file: path)
        func bad(_ jsonPath: String, _ what: String) -> InputError { InputError(file: path, jsonPath: jsonPath, what) }
        guard (1 ... 100_000).contains(file.sm_count) else { throw bad("$.sm_count", "expected an SM count in 1...100000, found \(file.sm_count)") }
        guard file.copy_GBps_read_plus_write.isFinite, file.copy_GBps_read_plus_write > 0, file.copy_GBps_read_plus_write < 1e6 else {
            throw bad("$.copy_GBps_read_plus_write", "expected GB/s in (0, 1e6), found \(file.copy_GBps_read_plus_write)")
        }
        for (key, value) in [("bf16_gemm_8192_TFLOPs", file.bf16_gemm_8192_TFLOPs), ("fp8_gemm_8192_TFLOPs", file.fp8_gemm_8192_TFLOPs)] {
            if let v = value, !(v.isFinite && v > 0 && v < 1e6) { throw bad("$.\(key)", "expected TFLOP/s in (0, 1e6), found \(v)") }
        }
        for (i, g) in file.gemm.enumerated() {
            for (key, v) in [("M", g.M), ("K", g.K), ("N", g.N)] where !(1 ... 1_048_576).contains(v) {
                throw bad("$.gemm[\(i)].\(key)", "expected an integer in 1...1048576, found \(v)")
            }
            guard g.bf16_s.isFinite, g.bf16_s > 0, g.bf16_s < 1e3 else { throw bad("$.gemm[\(i)].bf16_s", "expected seconds in (0, 1000), found \(g.bf16_s)") }
            if let t = g.fp8_s, !(t.isFinite && t > 0 && t < 1e3) { throw bad("$.gemm[\(i)].fp8_s", "expected seconds in (0, 1000), found \(t)") }
            if let r = g.fp8_rows, !(r >= g.M && r <= 1_048_576) { throw bad("$.gemm[\(i)].fp8_rows", "expected rows in \(g.M)...1048576 (M padded up), found \(r)") }
        }
        for (i, a) in file.decode_attention.enumerated() {
            guard (1 ... 1_048_576).contains(a.B) else { throw bad("$.decode_attention[\(i)].B", "expected a batch in 1...1048576, found \(a.B)") }
            guard (1 ... 100_000_000).contains(a.L) else { throw bad("$.decode_attention[\(i)].L", "expected a context in 1...100000000, found \(a.L)") }
            guard a.kv_bytes.isFinite, a.kv_bytes > 0, a.kv_bytes < 1e15 else { throw bad("$.decode_attention[\(i)].kv_bytes", "expected bytes in (0, 1e15), found \(a.kv_bytes)") }
            guard a.FLASH_ATTENTION.isFinite, a.FLASH_ATTENTION > 0, a.FLASH_ATTENTION < 1e3 else {
                throw bad("$.decode_attention[\(i)].FLASH_ATTENTION", "expected seconds in (0, 1000), found \(a.FLASH_ATTENTION)")
            }
            if let h = a.kv_heads, !(1 ... 4096).contains(h) { throw bad("$.decode_attention[\(i)].kv_heads", "expected 1...4096, found \(h)") }
            if let h = a.head_dim, !(1 ... 4096).contains(h) { throw bad("$.decode_attention[\(i)].head_dim", "expected 1...4096, found \(h)") }
            _ = try kvHeads(a, index: i, file: path)
        }
        return file
    }

    static func kvHeads(_ a: MicrobenchmarkFile.Attention, index i: Int, file: String) throws -> Double {
        if let h = a.kv_heads { return Double(h) }
        let perHead = 2.0 * 2 * Double(a.B) * Double(a.L) * Double(a.head_dim ?? 128)
        let heads = a.kv_bytes / perHead
        guard heads >= 1, abs(heads - heads.rounded()) < 1e-6 else {
            throw InputError(file: file, jsonPath: "$.decode_attention[\(i)].kv_bytes",
                             "expected K and V bytes of B × L × KV heads × head dim \(a.head_dim ?? 128) × 2 × 2 (bf16) for a whole number of KV heads, found \(JSONText.shortNumber(a.kv_bytes)) (\(heads) heads); give \"kv_heads\"")
        }
        return heads.rounded()
    }

    /// Fits the kernels of `files` (one device). Throws `InputError` naming the file and field
    /// when there are too few points or the files disagree on the device.
    public static func fit(_ files: [(path: String, file: MicrobenchmarkFile)]) throws -> KernelFit {
        guard let first = files.first else { throw InputError(option: "--from", "expected at least one microbenchmark file, found none") }
        for f in files.dropFirst() where f.file.device != first.file.device || f.file.sm_count != first.file.sm_count {
            throw InputError(file: f.path, jsonPath: "$.device", "expected the device of \(first.path) (\(first.file.device), \(first.file.sm_count) SMs), found \(f.file.device), \(f.file.sm_count) SMs")
        }
        var gemms: [GEMMPoint] = []
        var attention: [AttentionPoint] = []
        for (path, file) in files {
            for g in file.gemm {
                let M = Double(g.M), K = Double(g.K), N = Double(g.N)
                gemms.append(GEMMPoint(M: M, K: K, N: N, weightBytes: 2 * K * N, activationBytes: 2 * M * (K + N), type: .bf16, seconds: g.bf16_s))
                if let t = g.fp8_s {
                    let rows = Double(g.fp8_rows ?? g.M)
                    // fp8 operands, bf16 output.
                    gemms.append(GEMMPoint(M: rows, K: K, N: N, weightBytes: K * N, activationBytes: rows * K + 2 * rows * N, type: .fp8, seconds: t))
                }
            }
            for (type, tf) in [(DType.bf16, file.bf16_gemm_8192_TFLOPs), (.fp8, file.fp8_gemm_8192_TFLOPs)] {
                guard let tf else { continue }
                let n = 8192.0, b = type == .bf16 ? 2.0 : 1.0
                gemms.append(GEMMPoint(M: n, K: n, N: n, weightBytes: b * n * n, activationBytes: b * n * n + 2 * n * n, type: type,
                                       seconds: 2 * n * n * n / (tf * 1e12)))
            }
            for (i, a) in file.decode_attention.enumerated() {
                let heads = try kvHeads(a, index: i, file: path)
                attention.append(AttentionPoint(B: Double(a.B), L: Double(a.L), bytes: a.kv_bytes, blocks: Double(a.B) * heads, seconds: a.FLASH_ATTENTION))
            }
        }
        let types = Array(Set(gemms.map(\.type))).sorted { $0.rawValue < $1.rawValue }
        let gemmParameters = 3 + types.count
        guard gemms.count > gemmParameters else {
            throw InputError(file: first.path, jsonPath: "$.gemm",
                             "expected more than \(gemmParameters) GEMM timings to fit \(gemmParameters) parameters (fixed time, bandwidth, overlap exponent, one rate per type), found \(gemms.count)")
        }
        guard attention.count > 3 else {
            throw InputError(file: first.path, jsonPath: "$.decode_attention",
                             "expected more than 3 decode-attention timings to fit 3 parameters (fixed time, bandwidth, per-block rate), found \(attention.count)")
        }
        let sms = Double(first.file.sm_count)

        // GEMMs: θ = [ln fixed µs, ln bandwidth TB/s, ln(p − 1), ln rate TF/s per type].
        func gemmTime(_ th: [Double], _ g: GEMMPoint) -> Double {
            let fixed = exp(th[0]) * 1e-6, bw = exp(th[1]) * 1e12, p = 1 + exp(th[2])
            let rate = exp(th[3 + types.firstIndex(of: g.type)!]) * 1e12
            let c = 2 * g.M * g.K * g.N / rate
            let m = (g.weightBytes + g.activationBytes) / bw
            return fixed + smoothMax(c, m, p)
        }
        let startRates = types.map { $0 == .fp8 ? log(1400.0) : log(780.0) }
        let gemmFit = LeastSquares().fit(start: [log(15), log(4), log(2)] + startRates) { th in gemms.map { log(gemmTime(th, $0) / $0.seconds) } }
        let g = gemmFit.parameters

        // Attention: θ = [ln fixed µs, ln bandwidth TB/s, ln per-block GB/s].
        func attentionTime(_ th: [Double], _ a: AttentionPoint) -> Double {
            let fixed = exp(th[0]) * 1e-6, bw = exp(th[1]) * 1e12, perBlock = exp(th[2]) * 1e9
            let waves = (a.blocks / sms).rounded(.up)
            return fixed + max(a.bytes / bw, waves * (a.bytes / a.blocks) / perBlock)
        }
        let attentionFit = LeastSquares().fit(start: [log(10), log(2.5), log(60)]) { th in attention.map { log(attentionTime(th, $0) / $0.seconds) } }
        let at = attentionFit.parameters

        let errors = (gemmFit.residuals + attentionFit.residuals).map { abs(exp($0) - 1) }.sorted()
        func parameter(_ value: Double, _ se: Double) -> KernelFit.Parameter {
            // A log-parameter's standard error is the value's relative one.
            KernelFit.Parameter(value, .fitted, relativeStandardError: se.isFinite ? se : nil)
        }
        var parameters: [String: KernelFit.Parameter] = [
            "gemm.fixedSeconds": parameter(exp(g[0]) * 1e-6, gemmFit.standardErrors[0]),
            "gemm.bandwidthBytesPerSecond": parameter(exp(g[1]) * 1e12, gemmFit.standardErrors[1]),
            "gemm.overlapExponent": parameter(1 + exp(g[2]), gemmFit.standardErrors[2] * exp(g[2]) / (1 + exp(g[2]))),
            "decodeAttention.fixedSeconds": parameter(exp(at[0]) * 1e-6, attentionFit.standardErrors[0]),
            "decodeAttention.bandwidthBytesPerSecond": parameter(exp(at[1]) * 1e12, attentionFit.standardErrors[1]),
            "decodeAttention.perBlockBytesPerSecond": parameter(exp(at[2]) * 1e9, attentionFit.standardErrors[2]),
            "streamBytesPerSecond": KernelFit.Parameter(first.file.copy_GBps_read_plus_write * 1e9, .measured, note: "copy_GBps_read_plus_write"),
            "smallKernelSeconds": KernelFit.Parameter(smallKernelEstimate, .estimated,
                                                      note: "not in a microbenchmark file: an empty kernel completes in ~2 us on Hopper, plus a small read's ramp"),
        ]
        var rates: [String: Double] = [:]
        for (i, t) in types.enumerated() {
            rates[t.rawValue] = exp(g[3 + i]) * 1e12
            parameters["gemm.flopsPerSecond.\(t.rawValue)"] = parameter(exp(g[3 + i]) * 1e12, gemmFit.standardErrors[3 + i])
        }
        let rows = gemms.map(\.M)
        return KernelFit(
            smCount: first.file.sm_count,
            gemm: .init(fixedSeconds: exp(g[0]) * 1e-6, bandwidthBytesPerSecond: exp(g[1]) * 1e12, flopsPerSecond: rates,
                        overlapExponent: 1 + exp(g[2])),
            decodeAttention: .init(fixedSeconds: exp(at[0]) * 1e-6, bandwidthBytesPerSecond: exp(at[1]) * 1e12,
                                   perBlockBytesPerSecond: exp(at[2]) * 1e9),
            streamBytesPerSecond: first.file.copy_GBps_read_plus_write * 1e9,
            smallKernelSeconds: smallKernelEstimate,
            range: .init(gemmRows: [rows.min()!, rows.max()!],
                         attentionSequences: [attention.map(\.B).min()!, attention.map(\.B).max()!],
                         attentionContext: [attention.map(\.L).min()!, attention.map(\.L).max()!]),
            provenance: .init(inputs: files.map { ($0.path as NSString).lastPathComponent }, points: gemms.count + attention.count,
                              medianAbsError: errors[errors.count / 2], maxAbsError: errors.last!, parameters: parameters))
    }

    static func smoothMax(_ a: Double, _ b: Double, _ p: Double) -> Double { ShapedKernelsPricer.smoothMax(a, b, p) }
}
