import CPUExecutor
import Foundation
import GGUF
import HardwareModel

/// What `infersim calibrate` measures on this machine, in SI units.
///
/// These are *achieved* figures of microbenchmarks (STREAM-like reads, the executor's own
/// kernels), not datasheet peaks. `HostProfileWriter` stores them as the numbers of a device
/// profile; `hardware-profiles/README.md` ("Calibrated host profiles") explains how the "cpu"
/// device class applies to them.
public struct HostCalibration: Sendable, Equatable {
    /// One executor kernel figure for one weight encoding.
    public struct KernelRate: Sendable, Equatable {
        /// `Q4_1`, `Q8_0` or `F32`.
        public var weightType: String
        /// Matmul of `computeRows` activation rows against an L2-resident matrix: `2·rows·K·N / time`.
        public var computeFLOPsPerSecond: Double
        /// The same matmul with `smallRows` rows (for the small-shape fall-off).
        public var smallRowsFLOPsPerSecond: Double
        /// GEMV (one row) over a matrix larger than the last-level cache: `weight bytes / time`.
        public var gemvBytesPerSecond: Double
    }

    public var cpuModel: String
    public var threads: Int
    public var memoryCapacityBytes: Double
    /// Streaming read bandwidth with one thread and with `threads` threads.
    public var readBandwidthOneThread: Double
    public var readBandwidthAllThreads: Double
    public var kernels: [KernelRate]
    /// The executor's attention over an F16 KV cache (F16 loads widened to F32, F32 multiply-adds):
    /// `4 · headDim · positions · heads / time` for one query row at `attentionPositions` positions.
    public var attentionFLOPsPerSecond: Double
    public var attentionPositions: Int
    public var computeRows: Int
    public var smallRows: Int
    /// Fork-join cost of one executor kernel launch (an empty `ThreadPool.run`), seconds.
    public var kernelOverheadSeconds: Double
    /// Fixed time of one forward step outside the per-layer kernels (embedding, final norm,
    /// LM head launch, bookkeeping), from tiny models of 1 and 8 layers, seconds.
    public var stepOverheadSeconds: Double
    /// Time per layer of the tiny model (its kernels' fixed costs), seconds.
    public var tinyLayerSeconds: Double

    public func kernel(_ type: String) -> KernelRate? { kernels.first { $0.weightType == type } }
}

/// Runs the calibration microbenchmarks. Each figure is the median of `repetitions` timed runs
/// after one warm-up. Uses the wall clock through `ExecutorClock` (this is a measurement of the
/// real machine, not simulator code).
public struct HostCalibrator {
    public var threads: Int
    public var repetitions: Int
    public var clock: any ExecutorClock
    /// Elements of the GEMV matrices (rows × columns); the default is larger than any L3 we run on.
    public var gemvShape: (rows: Int, columns: Int)
    /// Shape of the compute-bound matmul's weight (L2/L3 resident) and its activation rows.
    public var computeShape: (rows: Int, columns: Int, activationRows: Int, smallRows: Int)
    /// Whether to measure streaming bandwidth (a 256 MB read); tests turn it off.
    public var measureBandwidth: Bool
    /// Seconds of busy work on every worker before measuring (see `warmUp`); tests set 0.
    public var warmUpSeconds: Double
    /// Interleaved measurement rounds of the kernels (the best round counts); tests set 1.
    public var rounds: Int
    /// Attention shape: query heads, KV heads, head dimension, cached positions and layers
    /// (SmolLM2-135M's at a mid-length context by default: 11.8 MB of F16 cache, more than L2).
    public var attentionShape: (heads: Int, kvHeads: Int, headDim: Int, positions: Int, layers: Int)

    public init(threads: Int, repetitions: Int = 15, clock: any ExecutorClock = MonotonicClock()) {
        precondition(threads >= 1 && repetitions >= 1)
        self.threads = threads
        self.repetitions = repetitions
        self.clock = clock
        gemvShape = (8192, 8192)
        computeShape = (1536, 576, 512, 1)
        measureBandwidth = true
        warmUpSeconds = 0.5
        rounds = 3
        attentionShape = (9, 3, 64, 512, 30)
    }

    /// Measures everything. Takes about 10-20 s on a 2-core machine.
    /// - Throws: only if the synthetic GGUF files cannot be built (a programming error).
    public func run() throws -> HostCalibration {
        let pool = ThreadPool(threadCount: threads)
        var kernels: [HostCalibration.KernelRate] = []
        warmUp(pool: pool)
        // Rounds interleave the kernels; each figure is the best round's median. On the shared
        // 2-vCPU VM a kernel measured in one stretch read at one-thread speed (50 GFLOP/s instead
        // of 80-98 for Q4_1) in about half the runs, whichever kernel came first.
        var attention = 0.0
        for _ in 0 ..< rounds {
            for (i, (name, type)) in [("Q4_1", GGMLType.q4_1), ("Q8_0", .q8_0), ("F32", .f32)].enumerated() {
                let k = try measureKernel(name: name, type: type, pool: pool)
                if kernels.count <= i { kernels.append(k); continue }
                kernels[i] = .init(weightType: name,
                                   computeFLOPsPerSecond: max(kernels[i].computeFLOPsPerSecond, k.computeFLOPsPerSecond),
                                   smallRowsFLOPsPerSecond: max(kernels[i].smallRowsFLOPsPerSecond, k.smallRowsFLOPsPerSecond),
                                   gemvBytesPerSecond: max(kernels[i].gemvBytesPerSecond, k.gemvBytesPerSecond))
            }
            attention = max(attention, measureAttention(pool: pool))
        }
        let (kernelOverhead, stepOverhead, perLayer) = try measureOverheads(pool: pool)
        let bw1 = measureBandwidth ? ExecutorBenchmark.measureReadBandwidth(threads: 1, clock: clock) : 0
        let bwN = measureBandwidth ? (threads == 1 ? bw1 : ExecutorBenchmark.measureReadBandwidth(threads: threads, clock: clock)) : 0
        return HostCalibration(
            cpuModel: Self.cpuModelName(), threads: threads, memoryCapacityBytes: Self.memoryCapacityBytes(),
            readBandwidthOneThread: bw1, readBandwidthAllThreads: bwN, kernels: kernels,
            attentionFLOPsPerSecond: attention, attentionPositions: attentionShape.positions,
            computeRows: computeShape.activationRows, smallRows: computeShape.smallRows,
            kernelOverheadSeconds: kernelOverhead, stepOverheadSeconds: stepOverhead, tinyLayerSeconds: perLayer)
    }

    /// Median seconds of `body` over `repetitions` runs after one warm-up.
    func medianSeconds(_ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0 ..< repetitions {
            let t0 = clock.nowNanoseconds()
            body()
            samples.append(Double(clock.nowNanoseconds() &- t0) * 1e-9)
        }
        return median(samples)
    }

    private func measureKernel(name: String, type: GGMLType, pool: ThreadPool) throws -> HostCalibration.KernelRate {
        let quantize = type != .f32
        // Compute-bound: many activation rows share each weight read; the weight fits in cache.
        let cw = try SyntheticGGUF.weightMatrix(rows: computeShape.rows, columns: computeShape.columns, type: type, seed: 1)
        let rows = computeShape.activationRows
        let input = ActivationBatch(capacityRows: rows, capacityColumns: cw.columns)
        let source = UnsafeMutablePointer<Float>.allocate(capacity: rows * cw.columns)
        defer { source.deallocate() }
        for i in 0 ..< rows * cw.columns { source[i] = Float((i * 7919) % 257) / 257 - 0.5 }
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * cw.rows)
        defer { out.deallocate() }
        func rate(rows r: Int) -> Double {
            input.prepare(from: source, sourceStride: cw.columns, rows: r, columns: cw.columns, quantize: quantize)
            let seconds = medianSeconds {
                pool.run { worker in matmul(into: out, outStride: cw.rows, cw, input, groups: pool.share(of: cw.groupCount, worker: worker)) }
            }
            return 2 * Double(r) * Double(cw.rows) * Double(cw.columns) / seconds
        }
        let compute = rate(rows: rows)
        let small = rate(rows: computeShape.smallRows)
        // Memory-bound: one row against a matrix larger than the last-level cache.
        let gw = try SyntheticGGUF.weightMatrix(rows: gemvShape.rows, columns: gemvShape.columns, type: type, seed: 2)
        let vector = ActivationBatch(capacityRows: 1, capacityColumns: gw.columns)
        let x = [Float](unsafeUninitializedCapacity: gw.columns) { b, n in
            for i in 0 ..< gw.columns { b[i] = Float(i % 31) / 31 - 0.5 }
            n = gw.columns
        }
        x.withUnsafeBufferPointer { vector.prepare(from: $0.baseAddress!, sourceStride: gw.columns, rows: 1, columns: gw.columns, quantize: quantize) }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: gw.rows)
        defer { y.deallocate() }
        let gemvSeconds = medianSeconds {
            pool.run { worker in matmul(into: y, outStride: gw.rows, gw, vector, groups: pool.share(of: gw.groupCount, worker: worker)) }
        }
        return .init(weightType: name, computeFLOPsPerSecond: compute, smallRowsFLOPsPerSecond: small,
                     gemvBytesPerSecond: Double(gw.byteCount) / gemvSeconds)
    }

    /// Keeps every worker busy for `warmUpSeconds` before the first measurement. On a VM an idle
    /// vCPU is descheduled and clocks down; without this the first kernel measured (Q4_1) read
    /// 53 GFLOP/s instead of 76 on the 2-vCPU Zen 5 VM, a one-off that a single warm-up call
    /// does not remove.
    private func warmUp(pool: ThreadPool) {
        let start = clock.nowNanoseconds()
        var sink: Float = 0
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 4096 * pool.threadCount)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: 4096 * pool.threadCount)
        while Double(clock.nowNanoseconds() &- start) * 1e-9 < warmUpSeconds {
            pool.run { worker in
                let b = buffer + worker * 4096
                for _ in 0 ..< 64 { b[0] = dotProduct(b, b, count: 4096) * 1e-9 }
            }
            sink += buffer[0]
        }
        if sink.isNaN { print("") }  // keeps the loop from being optimised away
    }

    /// The attention kernel's rate as a decode step runs it: one query row attending over
    /// `positions` cached F16 keys and values in each of `layers` layers (separate buffers, so the
    /// cache is streamed as a real step streams it), one work item per KV head and its query heads
    /// (`attendGroup`), items shared among the workers as the session shares them.
    private func measureAttention(pool: ThreadPool) -> Double {
        let (heads, kvHeads, headDim, positions, layers) = attentionShape
        let kvDim = kvHeads * headDim, group = heads / kvHeads
        let perLayer = positions * kvDim
        let keys = UnsafeMutablePointer<Float16>.allocate(capacity: layers * perLayer)
        let values = UnsafeMutablePointer<Float16>.allocate(capacity: layers * perLayer)
        let query = UnsafeMutablePointer<Float>.allocate(capacity: heads * headDim)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: heads * headDim)
        let scratchSize = attentionScratchFloats(group: group, headDim: headDim, positions: positions)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: pool.threadCount * scratchSize)
        defer { keys.deallocate(); values.deallocate(); query.deallocate(); out.deallocate(); scratch.deallocate() }
        for i in 0 ..< layers * perLayer {
            keys[i] = Float16(Float((i * 7919) % 251) / 251 - 0.5)
            values[i] = Float16(Float((i * 104_729) % 241) / 241 - 0.5)
        }
        for i in 0 ..< heads * headDim { query[i] = Float((i * 31) % 17) / 17 - 0.5 }
        let seconds = medianSeconds {
            for layer in 0 ..< layers {
                pool.run { worker in
                    for g in pool.share(of: kvHeads, worker: worker) {
                        // The session's layout: per layer and KV head, K transposed (headDim × positions), V rows.
                        let kv = layer * perLayer + g * headDim * positions
                        attendGroup(into: out + g * group * headDim, queries: query + g * group * headDim,
                                    keysTransposed: keys + kv, keyStride: positions, values: values + kv,
                                    lastPosition: positions - 1, headDim: headDim, group: group,
                                    scratch: scratch + worker * scratchSize)
                    }
                }
            }
        }
        return 4 * Double(headDim * positions * heads * layers) / seconds
    }

    /// Per-kernel and per-step fixed costs.
    ///
    /// Kernel: an empty `ThreadPool.run` (the fork-join every executor kernel pays).
    /// Step: one-token forwards of tiny models with 1 and 8 layers: `t(L) = stepOverhead + L · perLayer`,
    /// so `perLayer = (t(8) − t(1)) / 7` and `stepOverhead = t(1) − perLayer`.
    private func measureOverheads(pool: ThreadPool) throws -> (kernel: Double, step: Double, perLayer: Double) {
        let runs = 200
        let kernel = medianSeconds { for _ in 0 ..< runs { pool.run { _ in } } } / Double(runs)
        func stepSeconds(layers: Int) throws -> Double {
            let model = try LlamaModel(file: SyntheticGGUF.tinyLlama(layers: layers, seed: 3))
            let session = InferenceSession(model: model, options: .init(contextLength: 256, maxBatchTokens: 1, threads: threads))
            let steps = 128
            return medianSeconds {
                session.reset(sequence: 0)
                for i in 0 ..< steps { try? session.decodeBatch(tokens: [Int32(i % 64)], sequences: [0]) }
            } / Double(steps)
        }
        let t1 = try stepSeconds(layers: 1)
        let t8 = try stepSeconds(layers: 8)
        let perLayer = max(0, (t8 - t1) / 7)
        return (kernel, max(0, t1 - perLayer), perLayer)
    }

    /// The `model name` line of `/proc/cpuinfo`, or "unknown CPU".
    public static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }

    /// `MemTotal` of `/proc/meminfo` in bytes, else the physical memory Foundation reports.
    public static func memoryCapacityBytes() -> Double {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
                let digits = line.split(separator: " ").compactMap { Double($0) }
                if let kib = digits.first { return kib * 1024 }
            }
        }
        return Double(ProcessInfo.processInfo.physicalMemory)
    }
}

/// Median of a non-empty sample (mean of the two middle values for an even count).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
