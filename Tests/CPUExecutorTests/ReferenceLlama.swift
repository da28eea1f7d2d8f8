import Foundation
import GGUF

/// A plain scalar FP32 Llama forward pass (llama2.c style) over weights dequantized by the GGUF
/// reader: the "slow, obvious" reference the executor is checked against.
struct ReferenceLlama {
    let dim, hidden, layers, heads, kvHeads, headDim, vocab: Int
    let theta: Double
    let eps: Float
    var w: [String: [Float]] = [:]
    var keyCache: [[[Float]]]   // layer, position, kvDim
    var valueCache: [[[Float]]]

    init(file: GGUFFile) throws {
        func i(_ k: String) -> Int { file.metadata[k]!.int! }
        dim = i("llama.embedding_length"); hidden = i("llama.feed_forward_length"); layers = i("llama.block_count")
        heads = i("llama.attention.head_count"); kvHeads = i("llama.attention.head_count_kv"); headDim = dim / heads
        theta = file.metadata["llama.rope.freq_base"]?.double ?? 10000
        eps = Float(file.metadata["llama.attention.layer_norm_rms_epsilon"]!.double!)
        vocab = file.tensor(named: "token_embd.weight")!.rowCount
        for t in file.tensors { w[t.name] = try file.dequantized(t) }
        keyCache = Array(repeating: [], count: layers)
        valueCache = Array(repeating: [], count: layers)
    }

    func matvec(_ name: String, _ x: [Float]) -> [Float] {
        let m = w[name]!, cols = x.count, rows = m.count / cols
        return (0 ..< rows).map { r in
            var s: Double = 0
            for k in 0 ..< cols { s += Double(m[r * cols + k]) * Double(x[k]) }
            return Float(s)
        }
    }

    func rms(_ x: [Float], _ name: String) -> [Float] {
        let g = w[name]!
        let ms = x.reduce(0) { $0 + Double($1) * Double($1) } / Double(x.count)
        let scale = Float(1 / (ms + Double(eps)).squareRoot())
        return x.indices.map { x[$0] * scale * g[$0] }
    }

    func rope(_ v: inout [Float], position: Int) {
        for h in 0 ..< v.count / headDim {
            for i in 0 ..< headDim / 2 {
                let angle = Double(position) * pow(theta, -2 * Double(i) / Double(headDim))
                let a = Double(v[h * headDim + 2 * i]), b = Double(v[h * headDim + 2 * i + 1])
                v[h * headDim + 2 * i] = Float(a * cos(angle) - b * sin(angle))
                v[h * headDim + 2 * i + 1] = Float(a * sin(angle) + b * cos(angle))
            }
        }
    }

    /// Logits after appending `token` at the next position.
    mutating func step(_ token: Int32) -> [Float] {
        let position = keyCache[0].count
        let emb = w["token_embd.weight"]!
        var x = Array(emb[Int(token) * dim ..< (Int(token) + 1) * dim])
        for l in 0 ..< layers {
            let p = "blk.\(l)."
            let xn = rms(x, p + "attn_norm.weight")
            var q = matvec(p + "attn_q.weight", xn), k = matvec(p + "attn_k.weight", xn)
            let v = matvec(p + "attn_v.weight", xn)
            rope(&q, position: position); rope(&k, position: position)
            keyCache[l].append(k); valueCache[l].append(v)
            var att = [Float](repeating: 0, count: dim)
            for h in 0 ..< heads {
                let kvh = h / (heads / kvHeads)
                var scores = (0 ... position).map { t -> Double in
                    var s: Double = 0
                    for i in 0 ..< headDim { s += Double(q[h * headDim + i]) * Double(keyCache[l][t][kvh * headDim + i]) }
                    return s / Double(headDim).squareRoot()
                }
                let mx = scores.max()!
                scores = scores.map { exp($0 - mx) }
                let total = scores.reduce(0, +)
                for i in 0 ..< headDim {
                    var s: Double = 0
                    for t in 0 ... position { s += scores[t] / total * Double(valueCache[l][t][kvh * headDim + i]) }
                    att[h * headDim + i] = Float(s)
                }
            }
            let o = matvec(p + "attn_output.weight", att)
            for i in 0 ..< dim { x[i] += o[i] }
            let xf = rms(x, p + "ffn_norm.weight")
            let g = matvec(p + "ffn_gate.weight", xf), u = matvec(p + "ffn_up.weight", xf)
            let hdn = (0 ..< hidden).map { g[$0] / (1 + exp(-g[$0])) * u[$0] }
            let down = matvec(p + "ffn_down.weight", hdn)
            for i in 0 ..< dim { x[i] += down[i] }
        }
        let xo = rms(x, "output_norm.weight")
        return matvec(w["output.weight"] != nil ? "output.weight" : "token_embd.weight", xo)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
