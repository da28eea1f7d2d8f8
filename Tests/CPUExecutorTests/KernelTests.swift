import Testing
import Foundation
import GGUF
import TestSupport
@testable import CPUExecutor

/// SIMD matmul kernels against the scalar reference on dequantized weights.
struct KernelTests {
    /// One random matrix of `type` with `rows` rows (not a multiple of 16, to cover padding).
    func matrix(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) throws -> (WeightMatrix, [Float]) {
        var rng = SplitMix64(seed: seed)
        let values = rng.floats(count: rows * columns, bound: 0.5)
        var writer = TinyGGUFWriter()
        writer.addTensor(name: "w", shape: [columns, rows], type: type, values: values)
        let file = try GGUFFile(bytes: writer.bytes())
        let info = file.tensor(named: "w")!
        return (try WeightMatrix(file: file, info: info), try file.dequantized(info))
    }

    func run(_ w: WeightMatrix, _ x: [Float], batch: Int, quantize: Bool, threads: Int = 1) -> [Float] {
        let acts = ActivationBatch(capacityRows: batch, capacityColumns: w.columns)
        x.withUnsafeBufferPointer { acts.prepare(from: $0.baseAddress!, sourceStride: w.columns, rows: batch, columns: w.columns, quantize: quantize) }
        var out = [Float](repeating: .nan, count: batch * w.rows)
        let pool = ThreadPool(threadCount: threads)
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            pool.run { worker in
                matmul(into: base, outStride: w.rows, w, acts, groups: pool.share(of: w.groupCount, worker: worker))
            }
        }
        return out
    }

    @Test(arguments: [GGMLType.q4_1, .q4_0, .q8_0, .f32, .f16])
    func simdMatmulMatchesScalarReference(type: GGMLType) throws {
        let rows = 37, columns = 96, batch = 3
        let (w, dense) = try matrix(type, rows: rows, columns: columns, seed: 1)
        var rng = SplitMix64(seed: 2)
        let x = rng.floats(count: batch * columns, bound: 1)
        // FP32 path: same maths as the reference up to summation order.
        let exact = matmulReference(weights: dense, rows: rows, columns: columns, x: x, batch: batch)
        let float = run(w, x, batch: batch, quantize: false)
        #expect(maxAbsDifference(float, exact) < 1e-4)
        // Integer path: equals the reference applied to the Q8-rounded activations.
        if w.layout != .f32 {
            let rounded = matmulReference(weights: dense, rows: rows, columns: columns, x: roundedToQ8(x, columns: columns), batch: batch)
            let integer = run(w, x, batch: batch, quantize: true, threads: 2)
            #expect(maxAbsDifference(integer, rounded) < 1e-3)
        }
    }

    @Test func repackedRowsDequantizeLikeTheFile() throws {
        for type in [GGMLType.q4_1, .q4_0, .q8_0] {
            let (w, dense) = try matrix(type, rows: 20, columns: 64, seed: 3)
            for r in [0, 15, 16, 19] {
                #expect(maxAbsDifference(w.dequantizedRow(r), Array(dense[r * 64 ..< (r + 1) * 64])) < 1e-6)
            }
        }
    }

    @Test func quantizeRowQ8RoundsToNearestWithF16Scale() {
        var x = [Float](repeating: 0, count: 32)
        for i in 0 ..< 32 { x[i] = Float(i - 16) / 8 }
        let r = roundedToQ8(x, columns: 32)
        let d = Float(Float16(2.0 / 127))
        #expect(maxAbsDifference(r, x) <= d / 2 + 1e-6)
        #expect(r[0] == -127 * d)
    }

    @Test func threadPoolRunsEveryWorkerOncePerJob() {
        let pool = ThreadPool(threadCount: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: 3)
        for _ in 0 ..< 1000 { pool.run { counts[$0] += 1 } }
        #expect((0 ..< 3).map { counts[$0] } == [1000, 1000, 1000])
        #expect(pool.share(of: 10, worker: 0) == 0 ..< 3 && pool.share(of: 10, worker: 2) == 6 ..< 10)
    }

    @Test func softmaxAndRmsNormMatchFormulas() {
        var v: [Float] = [1, 2, 3]
        v.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: 3) }
        let e = [1, 2, 3].map { exp(Double($0)) }, s = e.reduce(0, +)
        #expect(maxAbsDifference(v, e.map { Float($0 / s) }) < 1e-6)
        let x: [Float] = (0 ..< 40).map { Float($0) - 20 }
        let g = [Float](repeating: 2, count: 40)
        var out = [Float](repeating: 0, count: 40)
        out.withUnsafeMutableBufferPointer { o in rmsNorm(into: o.baseAddress!, x, weight: g, count: 40, epsilon: 1e-5) }
        let rms = (x.reduce(0) { $0 + $1 * $1 } / 40 + 1e-5).squareRoot()
        #expect(maxAbsDifference(out, x.map { 2 * $0 / rms }) < 1e-5)
    }

    @Test func samplerIsGreedyAtZeroAndSeededOtherwise() {
        let logits: [Float] = [0.1, 3, 2.9, -1]
        logits.withUnsafeBufferPointer { l in
            var greedy = Sampler(temperature: 0)
            #expect(greedy.sample(l) == 1)
            var a = Sampler(temperature: 1, seed: 42), b = Sampler(temperature: 1, seed: 42)
            let sa = (0 ..< 50).map { _ in a.sample(l) }, sb = (0 ..< 50).map { _ in b.sample(l) }
            #expect(sa == sb)
            #expect(Set(sa).isSubset(of: [0, 1, 2, 3]) && Set(sa).count >= 2)
        }
    }
}
