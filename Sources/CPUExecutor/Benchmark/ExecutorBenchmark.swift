import Foundation

/// llama-bench-style throughput measurements of the executor on one model.
///
/// - `tg N`: decode N tokens one at a time from an empty context; tokens/s = N / time.
/// - `pp N`: one prefill of N tokens (chunks of `maxBatchTokens`); tokens/s = N / time.
/// Each figure is the median of `repetitions` runs after one warm-up run. Token ids are
/// drawn from a seeded generator (their values do not change the work done).
public struct ExecutorBenchmark {
    public struct Measurement: Sendable {
        public var test: String
        public var threads: Int
        public var tokensPerSecond: [Double]
        public var median: Double {
            let s = tokensPerSecond.sorted()
            return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        }
    }

    public let model: LlamaModel
    public let clock: any ExecutorClock
    public var repetitions: Int

    public init(model: LlamaModel, repetitions: Int = 5, clock: any ExecutorClock = MonotonicClock()) {
        self.model = model
        self.repetitions = repetitions
        self.clock = clock
    }

    private func tokens(_ count: Int, seed: UInt64) -> [Int32] {
        var sampler = SplitMixTokens(state: seed)
        return (0 ..< count).map { _ in Int32(sampler.next() % UInt64(model.config.vocabularySize)) }
    }

    /// Decode `count` tokens one step at a time, `threads` threads.
    public func textGeneration(_ count: Int, threads: Int) throws -> Measurement {
        let session = InferenceSession(model: model, options: .init(contextLength: count + 1, maxBatchTokens: 1, threads: threads))
        let ids = tokens(count, seed: 7)
        var results: [Double] = []
        for rep in 0 ... repetitions {
            session.reset(sequence: 0)
            let t0 = clock.nowNanoseconds()
            for t in ids { try session.decodeBatch(tokens: [t], sequences: [0]) }
            let seconds = Double(clock.nowNanoseconds() - t0) * 1e-9
            if rep > 0 { results.append(Double(count) / seconds) }
        }
        return Measurement(test: "tg\(count)", threads: threads, tokensPerSecond: results)
    }

    /// Prefill `count` tokens in one call, `threads` threads.
    public func promptProcessing(_ count: Int, threads: Int, maxBatchTokens: Int = 512) throws -> Measurement {
        let session = InferenceSession(model: model, options: .init(contextLength: count, maxBatchTokens: maxBatchTokens, threads: threads))
        let ids = tokens(count, seed: 11)
        var results: [Double] = []
        for rep in 0 ... repetitions {
            session.reset(sequence: 0)
            let t0 = clock.nowNanoseconds()
            try session.forward(tokens: ids, positions: 0 ..< count, sequence: 0)
            let seconds = Double(clock.nowNanoseconds() - t0) * 1e-9
            if rep > 0 { results.append(Double(count) / seconds) }
        }
        return Measurement(test: "pp\(count)", threads: threads, tokensPerSecond: results)
    }

    /// Bytes one decode step at context position `position` reads: weights + the KV cache rows so far (F16).
    public func decodeBytes(atPosition position: Int) -> Int {
        let c = model.config
        return model.weightBytes + 2 * c.layerCount * c.kvDim * 2 * position
    }

    /// Streaming read bandwidth (bytes/s) with `threads` threads over a 256 MB buffer: the median of
    /// five passes of a 16-lane float sum, each thread reading its own contiguous share.
    public static func measureReadBandwidth(threads: Int, clock: any ExecutorClock = MonotonicClock()) -> Double {
        let count = 64 << 20
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let pool = ThreadPool(threadCount: threads)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sums.deallocate() }
        var rates: [Double] = []
        for _ in 0 ..< 6 {
            let t0 = clock.nowNanoseconds()
            pool.run { worker in
                let range = pool.share(of: count / 64, worker: worker)
                let raw = UnsafeRawPointer(buffer)
                var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
                for i in range {
                    let p = raw + i * 256
                    a += p.load(as: SIMD16<Float>.self); b += p.load(fromByteOffset: 64, as: SIMD16<Float>.self)
                    c += p.load(fromByteOffset: 128, as: SIMD16<Float>.self); d += p.load(fromByteOffset: 192, as: SIMD16<Float>.self)
                }
                sums[worker] = (a + b + c + d).sum()
            }
            rates.append(Double(count * 4) / (Double(clock.nowNanoseconds() - t0) * 1e-9))
        }
        rates.removeFirst()
        return rates.sorted()[rates.count / 2]
    }
}

/// SplitMix64 for benchmark token ids.
struct SplitMixTokens {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
