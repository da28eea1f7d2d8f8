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
        /// One activation row through the flushed layer stack (`layerStackRate`'s, at one row):
        /// `weight bytes / (time − stackFixedSeconds)`, the rate a decode step streams this
        /// format's weights, its fork-joins and activation preparation left to the fixed costs.
        public var streamBytesPerSecond: Double = 0
        /// Fixed time of one stack layer: the same pass over a stack of tiny matrices of this
        /// format at one row (4 activation preparations and 4 fork-joined matmuls), seconds.
        public var stackFixedSeconds: Double = 0
    }

    public var cpuModel: String
    public var threads: Int
    public var memoryCapacityBytes: Double
    /// Streaming read bandwidth with one thread and with `threads` threads.
    public var readBandwidthOneThread: Double
    public var readBandwidthAllThreads: Double
    public var kernels: [KernelRate]
    /// The executor's attention over an F16 KV cache (F16 loads widened to F32, F32 multiply-adds),
    /// `4 · headDim` FLOPs per head and query-key pair: for one query row per sequence (decode), the
    /// rate per additional cached position between `attentionPositions / 16` and `attentionPositions`;
    public var attentionFLOPsPerSecond: Double
    /// for a causal chunk of `attentionPositions` rows (prefill);
    public var attentionPrefillFLOPsPerSecond: Double
    /// and the fixed time of one layer's decode attention (the intercept), seconds;
    public var attentionOverheadSeconds: Double
    /// and the fixed time each further sequence adds to one layer's decode attention, seconds:
    /// from `attentionSequences` sequences against one, at `attentionPositions / 16` positions;
    public var attentionPerSequenceSeconds: Double = 0
    public var attentionSequences: Int = 8
    /// SwiGLU's `silu(gate) · up` on the pool as a step runs it (one flat pass over 16 rows of the
    /// FFN width, split among the workers), elements per second.
    public var activationElementsPerSecond: Double = 0
    /// Rows of the prefill chunk.
    public var attentionPrefillRows: Int
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
    /// Share of a multi-row weight GEMM's memory time (weight bytes at `readBandwidthAllThreads`)
    /// not hidden by its compute: the median over `exposedMemorySamples`.
    public var exposedMemoryFraction: Double = 0
    /// `(weight type, rows, fraction)` of each layer-stack run the fraction is the median of:
    /// `(t_flushed(rows) − rows · t_row) / (layer weight bytes / bandwidth)`, where `t_row` is the
    /// per-row time of the same round's 128-row run, so that the cost model's
    /// `rows · compute + fraction · memory` reproduces the flushed stack. Few rows only (2, 4, 8,
    /// the decode batches of a small server): at 16 rows the exposed part is ~3% of the pass and a
    /// 5% timing jitter swamps it.
    ///
    /// (Until 2026-11-30 it was flushed less cache-resident time at the same rows. That difference
    /// came out 0.4-0.5 only because the single-threaded flush let the pool's worker fall asleep, a
    /// wake-up the flushed run paid; with the flush on the pool it fell to ~0.15, while inside the
    /// model 2-8 decode rows ran 7-13% slower than `rows · compute + 0.15 · memory`: a row-group
    /// kernel computes its few rows from cache more slowly than its 128-row rate, which the
    /// residual carries and the flushed-minus-resident difference did not.)
    public var exposedMemorySamples: [ExposedMemorySample] = []
    /// FLOPs of one layer's decode attention at `attentionPositions` (for the sanity bound on
    /// `attentionOverheadSeconds`); 0 when unknown.
    public var attentionFLOPsPerLayer: Double = 0
    /// (max − min) / median of each timed figure's repetitions (for the noise report).
    public var spreads: [Double] = []

    public struct ExposedMemorySample: Sendable, Equatable {
        public var weightType: String
        public var rows: Int
        public var fraction: Double
    }

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
    /// Shape of the small-shape matmul's weight (cache resident) and `smallRows`; `activationRows`
    /// is the row count of the layer-stack measurement of the compute rate.
    public var computeShape: (rows: Int, columns: Int, activationRows: Int, smallRows: Int)
    /// Decoder-layer shape of the compute-rate measurement (SmolLM2-135M's by default: hidden
    /// 576, FFN 1536, 9 query and 3 KV heads of 64) and how many distinct layers it cycles through
    /// (at least 2: the first layer of a pass is a warm-up, see `layerStackSeconds`).
    public var layerShape: (hidden: Int, ffn: Int, heads: Int, kvHeads: Int, headDim: Int)
    public var stackLayers: Int
    /// Rows of the prefill attention chunk.
    public var prefillRows: Int
    /// Sequences of the batched decode attention run (for the per-sequence fixed time).
    public var attentionSequences: Int
    /// Whether to measure streaming bandwidth (a 256 MB read); tests turn it off.
    public var measureBandwidth: Bool
    /// Seconds of busy work on every worker before measuring (see `warmUp`); tests set 0.
    public var warmUpSeconds: Double
    /// Interleaved measurement rounds (each figure is its median over the rounds);
    /// `ModelValidation.observe` sets its own count; tests set 1.
    public var rounds: Int
    /// Attention shape: query heads, KV heads, head dimension, cached positions and layers
    /// (SmolLM2-135M's at a 1024-token context by default: 23.6 MB of F16 cache).
    public var attentionShape: (heads: Int, kvHeads: Int, headDim: Int, positions: Int, layers: Int)
    /// Bytes read to flush the last-level cache before a timed run (larger than any L3 we run on).
    public var evictionBytes: Int
    /// Activation rows of the layer-stack runs the exposed-memory fraction is fitted on (empty: not measured).
    public var exposedMemoryRows: [Int]

    /// The spread of every `medianSeconds` figure of a run (a reference, so that the measuring
    /// functions can stay non-mutating).
    final class SpreadLog: @unchecked Sendable { var values: [Double] = [] }
    let spreadLog = SpreadLog()

    public init(threads: Int, repetitions: Int = 15, clock: any ExecutorClock = MonotonicClock()) {
        precondition(threads >= 1 && repetitions >= 1)
        self.threads = threads
        self.repetitions = repetitions
        self.clock = clock
        gemvShape = (8192, 8192)
        computeShape = (1536, 576, 128, 1)
        layerShape = (576, 1536, 9, 3, 64)
        prefillRows = 512
        attentionSequences = 8
        stackLayers = 5
        measureBandwidth = true
        warmUpSeconds = 0.5
        rounds = 3
        attentionShape = (9, 3, 64, 1024, 30)
        evictionBytes = 64 << 20
        exposedMemoryRows = [2, 4, 8]
    }

    /// Measures everything. Takes about 10-20 s on a 2-core machine.
    /// - Parameter afterRound: called with the round's index after each round of kernel and
    ///   attention measurements, to interleave other measurements with them
    ///   (`ModelValidation.observe`).
    /// - Throws: if the synthetic GGUF files cannot be built (a programming error), or what
    ///   `afterRound` throws.
    public func run(afterRound: (Int) throws -> Void = { _ in }) throws -> HostCalibration {
        let pool = ThreadPool(threadCount: threads)
        warmUp(pool: pool)
        // Rounds interleave the kernels; each figure is the median over rounds of each round's
        // median. On the shared 2-vCPU VM a kernel measured in one stretch read at one-thread speed
        // (50 GFLOP/s instead of 80-98 for Q4_1) in about half the runs, whichever kernel came
        // first. (Until 2026-11-22 the best round counted; the executor, measured later over
        // seconds, then ran 10-20% slower than predicted in every trace row.)
        let types = [("Q4_1", GGMLType.q4_1), ("Q8_0", .q8_0), ("F32", .f32)]
        // Synthetic weights, built once: the small-shape matrix, the GEMV matrix, the layer stack.
        let fixtures = try types.map { _, type in
            (small: try SyntheticGGUF.weightMatrix(rows: computeShape.rows, columns: computeShape.columns, type: type, seed: 1),
             gemv: try SyntheticGGUF.weightMatrix(rows: gemvShape.rows, columns: gemvShape.columns, type: type, seed: 2),
             stack: try layerStack(type: type), tiny: try layerStack(type: type, shape: (32, 32, 1, 1, 32)))
        }
        // One eviction buffer (64 MB) for every flushed run, allocated once.
        let flush = Evictor(bytes: evictionBytes, pool: pool)
        // Exposed stream per stack layer, seconds: a flushed layer with `rows` rows less `rows` times
        // the per-row compute time of the same round's 128-row run (the cost model's compute term).
        var exposedSeconds: [(type: String, rows: Int, seconds: Double)] = []
        var kernelRounds: [[HostCalibration.KernelRate]] = Array(repeating: [], count: types.count)
        var attentionRounds: [AttentionFigures] = []
        var activationRounds: [Double] = []
        var overheadRounds: [(kernel: Double, step: Double, perLayer: Double)] = []
        for _ in 0 ..< rounds {
            for (i, (name, type)) in types.enumerated() {
                let f = fixtures[i]
                let k = measureKernel(name: name, type: type, small: f.small, gemv: f.gemv, stack: f.stack, tiny: f.tiny,
                                      pool: pool, flush: flush)
                if type != .f32 {
                    let perRow = 2 * layerWeights(f.stack) / k.computeFLOPsPerSecond
                    for rows in exposedMemoryRows {
                        let flushed = layerStackSeconds(layers: f.stack, type: type, pool: pool, rows: rows, flush: flush)
                        exposedSeconds.append((name, rows, flushed - Double(rows) * perRow - k.stackFixedSeconds))
                    }
                }
                kernelRounds[i].append(k)
            }
            attentionRounds.append(measureAttention(pool: pool, flush: flush))
            activationRounds.append(measureActivation(pool: pool))
            // Per round too: one stretch of it read 8.9 and 18.6 us per tiny layer in two runs
            // minutes apart, a 7% swing of a SmolLM2 decode step's price.
            overheadRounds.append(try measureOverheads(pool: pool))
            try afterRound(attentionRounds.count - 1)
        }
        // Each figure is its median over the rounds: the executor measured later (validate --model,
        // a served trace over seconds) sees the host's typical state, not its best minute.
        let kernels: [HostCalibration.KernelRate] = kernelRounds.map { r in
            .init(weightType: r[0].weightType, computeFLOPsPerSecond: median(r.map(\.computeFLOPsPerSecond)),
                  smallRowsFLOPsPerSecond: median(r.map(\.smallRowsFLOPsPerSecond)), gemvBytesPerSecond: median(r.map(\.gemvBytesPerSecond)),
                  streamBytesPerSecond: median(r.map(\.streamBytesPerSecond)), stackFixedSeconds: median(r.map(\.stackFixedSeconds)))
        }
        let attention = AttentionFigures(decode: median(attentionRounds.map(\.decode)), prefill: median(attentionRounds.map(\.prefill)),
                                         overhead: median(attentionRounds.map(\.overhead)),
                                         perSequence: median(attentionRounds.map(\.perSequence)))
        let kernelOverhead = median(overheadRounds.map(\.kernel)), stepOverhead = median(overheadRounds.map(\.step))
        let perLayer = median(overheadRounds.map(\.perLayer))
        let bw1 = measureBandwidth ? ExecutorBenchmark.measureReadBandwidth(threads: 1, clock: clock) : 0
        let bwN = measureBandwidth ? (threads == 1 ? bw1 : ExecutorBenchmark.measureReadBandwidth(threads: threads, clock: clock)) : 0
        // Weight bytes of one stack layer of each type.
        let stackBytes = Dictionary(uniqueKeysWithValues: zip(types.map(\.0), fixtures.map { self.layerBytes($0.stack) }))
        let samples: [HostCalibration.ExposedMemorySample] = bwN > 0
            ? exposedSeconds.map { .init(weightType: $0.type, rows: $0.rows, fraction: $0.seconds / (stackBytes[$0.type]! / bwN)) } : []
        var calibration = HostCalibration(
            cpuModel: Self.cpuModelName(), threads: threads, memoryCapacityBytes: Self.memoryCapacityBytes(),
            readBandwidthOneThread: bw1, readBandwidthAllThreads: bwN, kernels: kernels,
            attentionFLOPsPerSecond: attention.decode, attentionPrefillFLOPsPerSecond: attention.prefill,
            attentionOverheadSeconds: attention.overhead, attentionPrefillRows: prefillRows, attentionPositions: attentionShape.positions,
            computeRows: computeShape.activationRows, smallRows: computeShape.smallRows,
            kernelOverheadSeconds: kernelOverhead, stepOverheadSeconds: stepOverhead, tinyLayerSeconds: perLayer)
        calibration.attentionPerSequenceSeconds = attention.perSequence
        calibration.activationElementsPerSecond = median(activationRounds)
        calibration.attentionSequences = attentionSequences
        calibration.exposedMemorySamples = samples
        calibration.attentionFLOPsPerLayer = 4 * Double(attentionShape.heads * attentionShape.headDim * attentionShape.positions)
        calibration.spreads = spreadLog.values
        calibration.exposedMemoryFraction = samples.isEmpty ? 0 : min(1, max(0, median(samples.map(\.fraction))))
        return calibration
    }

    /// Median seconds of `body` over `repetitions` runs after one warm-up, the last-level cache
    /// flushed by `flush` (when given) before each timed run.
    func medianSeconds(flushing flush: Evictor? = nil, _ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0 ..< repetitions {
            flush?.run()
            let t0 = clock.nowNanoseconds()
            body()
            samples.append(Double(clock.nowNanoseconds() &- t0) * 1e-9)
        }
        spreadLog.values.append(HostNoise.spread(samples))
        return median(samples)
    }

    private func measureKernel(name: String, type: GGMLType, small cw: WeightMatrix, gemv gw: WeightMatrix,
                               stack: [[WeightMatrix]], tiny: [[WeightMatrix]], pool: ThreadPool, flush: Evictor) -> HostCalibration.KernelRate {
        let quantize = type != .f32
        let rows = computeShape.activationRows
        let input = ActivationBatch(capacityRows: max(rows, computeShape.smallRows), capacityColumns: cw.columns)
        let source = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, computeShape.smallRows) * cw.columns)
        defer { source.deallocate() }
        for i in 0 ..< max(rows, computeShape.smallRows) * cw.columns { source[i] = Float((i * 7919) % 257) / 257 - 0.5 }
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, computeShape.smallRows) * cw.rows)
        defer { out.deallocate() }
        // Small shapes: a cache-resident matrix, activations prepared once.
        func rate(rows r: Int) -> Double {
            input.prepare(from: source, sourceStride: cw.columns, rows: r, columns: cw.columns, quantize: quantize)
            let seconds = medianSeconds {
                pool.run { worker in matmul(into: out, outStride: cw.rows, cw, input, groups: pool.share(of: cw.groupCount, worker: worker)) }
            }
            return 2 * Double(r) * Double(cw.rows) * Double(cw.columns) / seconds
        }
        let compute = layerStackRate(layers: stack, type: type, pool: pool, flush: flush)
        let small = rate(rows: computeShape.smallRows)
        // Memory-bound: one row against a matrix larger than the last-level cache.
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
        // One row through the flushed stack: how fast a decode step streams this format's weights,
        // less the stack's fixed time (the same pass over tiny matrices), which the fixed costs carry.
        let streamSeconds = layerStackSeconds(layers: stack, type: type, pool: pool, rows: 1, flush: flush)
        let fixed = min(layerStackSeconds(layers: tiny, type: type, pool: pool, rows: 1, flush: nil), streamSeconds / 2)
        return .init(weightType: name, computeFLOPsPerSecond: compute, smallRowsFLOPsPerSecond: small,
                     gemvBytesPerSecond: Double(gw.byteCount) / gemvSeconds,
                     streamBytesPerSecond: layerBytes(stack) / (streamSeconds - fixed), stackFixedSeconds: fixed)
    }

    /// The kernel's compute rate as a model's layers use it: the weight GEMMs of `stackLayers`
    /// distinct decoder layers of `layerShape` (QKV, output, gate and up, down), each preceded by
    /// the activation preparation the session does (one for QKV, one for the output projection,
    /// one for gate and up, one for down; quantised to Q8 for the block formats), with
    /// `computeShape.activationRows` rows, the last-level cache flushed before each timed pass so
    /// the weights arrive from memory. `2 · rows · weights / time` per timed layer.
    ///
    /// A lone cache-resident 1536 × 576 matrix with its activations prepared once read 97 GFLOP/s
    /// for Q4_1 on the 2-vCPU Zen 5 VM, while the same kernel inside SmolLM2-135M ran at 80-85:
    /// preparation (~4%), the narrower QKV and output shapes and weights from memory make the rest.
    func layerStackRate(layers: [[WeightMatrix]], type: GGMLType, pool: ThreadPool, flush: Evictor) -> Double {
        let rows = computeShape.activationRows
        return 2 * Double(rows) * layerWeights(layers) / layerStackSeconds(layers: layers, type: type, pool: pool, rows: rows, flush: flush)
    }

    /// Weight bytes of one layer of a stack (all its layers have one shape).
    func layerBytes(_ layers: [[WeightMatrix]]) -> Double {
        layers[0].reduce(0.0) { $0 + Double($1.byteCount) }
    }

    /// Weights (elements) of one layer of a stack.
    func layerWeights(_ layers: [[WeightMatrix]]) -> Double {
        layers[0].reduce(0.0) { $0 + Double($1.rows * $1.columns) }
    }

    /// Median seconds per layer of a pass over the layer stack with `rows` activation rows, flushed
    /// by `flush` before each pass (see `layerStackRate`), or cache resident when `flush` is nil.
    ///
    /// The first layer of a pass runs untimed and the others are timed: after a flush the first
    /// layer pays for cold TLBs and prefetchers, which no layer inside a model pays (one row
    /// through 4 flushed SmolLM2 layers took 140 us per layer, through 30 of them 116, and inside
    /// the model 104).
    func layerStackSeconds(layers: [[WeightMatrix]], type: GGMLType, pool: ThreadPool, rows: Int, flush: Evictor?) -> Double {
        precondition(layers.count >= 2, "a stack needs a warm-up layer and a timed one")
        let quantize = type != .f32
        let width = layers[0].reduce(0) { max($0, $1.rows, $1.columns) }
        let source = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        defer { source.deallocate(); out.deallocate() }
        for i in 0 ..< rows * width { source[i] = Float((i * 7919) % 257) / 257 - 0.5 }
        let input = ActivationBatch(capacityRows: rows, capacityColumns: width)
        // Matrices sharing one prepared input: [q, k, v], [output], [gate, up], [down].
        let uses = [[0, 1, 2], [3], [4, 5], [6]]
        func run(_ layer: [WeightMatrix]) {
            for use in uses {
                let columns = layer[use[0]].columns
                input.prepare(from: source, sourceStride: width, rows: rows, columns: columns, quantize: quantize, pool: pool)
                for m in use.map({ layer[$0] }) {
                    pool.run { worker in matmul(into: out, outStride: m.rows, m, input, groups: pool.share(of: m.groupCount, worker: worker)) }
                }
            }
        }
        // Its own loop rather than `medianSeconds` with the warm-up layer in an `untimed` closure:
        // on the tiny-matrix stack that form read 10-12 us per layer in 7 of 9 calibrations, this
        // loop in 4 of 15 (3.2-4.6 us in the others), for the same work; the cause is not known.
        var samples: [Double] = []
        for repetition in 0 ... repetitions {
            flush?.run()
            run(layers[0])
            let t0 = clock.nowNanoseconds()
            for layer in layers.dropFirst() { run(layer) }
            if repetition > 0 { samples.append(Double(clock.nowNanoseconds() &- t0) * 1e-9 / Double(layers.count - 1)) }
        }
        return median(samples)
    }

    /// `stackLayers` synthetic decoder layers of `shape` (default `layerShape`) in `type`: Q, K, V,
    /// output, gate, up, down.
    func layerStack(type: GGMLType, shape: (hidden: Int, ffn: Int, heads: Int, kvHeads: Int, headDim: Int)? = nil) throws -> [[WeightMatrix]] {
        let (hidden, ffn, heads, kvHeads, headDim) = shape ?? layerShape
        let shapes = [(heads * headDim, hidden), (kvHeads * headDim, hidden), (kvHeads * headDim, hidden),
                      (hidden, heads * headDim), (ffn, hidden), (ffn, hidden), (hidden, ffn)]
        return try (0 ..< stackLayers).map { l in
            try shapes.enumerated().map { i, s in
                try SyntheticGGUF.weightMatrix(rows: s.0, columns: s.1, type: type, seed: UInt64(100 + 10 * l + i))
            }
        }
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

    /// One round's attention figures: decode FLOP/s per position, prefill FLOP/s, and the fixed
    /// seconds per layer and per sequence of one layer.
    struct AttentionFigures {
        var decode, prefill, overhead, perSequence: Double
    }

    /// The attention block as steps run it (`AttentionBenchmark` runs `AttentionStep`, the
    /// session's own code: RoPE, the cache write and the attention with the session's cache and
    /// work split) over `layers` layers, each timed run after flushing the last-level cache
    /// (`evict`): in a real step the layers' weights stream through it between one layer's
    /// attention and the next, so the KV cache arrives from memory. (Unflushed, the 30 × 1024-position
    /// cache stays in a 32 MB L3 and the decode kernel read 27-38 GFLOP/s; flushed 22, as inside
    /// the model.)
    ///
    /// Decode, per layer, for `S` sequences of one query row at `P` positions:
    /// `t(S, P) = overhead + S · (perSequence + P · c)`. Three runs fix the three figures: one
    /// sequence at `positions` and at `positions / 16` give `c` (the rate `4 · headDim · heads / c`);
    /// `attentionSequences` sequences at `positions / 16` with the latter give `perSequence` and
    /// `overhead`. (Before 2026-11-30 the calibration ran one sequence only, and a decode of 4
    /// sequences at 64 positions ran its attention 2.8× slower inside the model than the
    /// one-sequence figures predicted.) The work items, one per (sequence, KV head), are dealt whole
    /// to the workers, so one sequence of 3 KV heads on 2 workers leaves one worker a single item;
    /// modelling that as an uneven split (`⌈n / w⌉` items on the critical path) fitted the session
    /// worse than this linear model (predicted 8 sequences at 170 positions 13% fast, against 1%),
    /// because the lone busy worker then has the memory bandwidth to itself. Prefill: a causal
    /// chunk of `prefillRows` rows over an empty context (the session's default chunk, 512; runs of
    /// 16 rows share one widening of the cache), rate = FLOPs over its time less the per-layer and
    /// per-sequence fixed times.
    private func measureAttention(pool: ThreadPool, flush: Evictor) -> AttentionFigures {
        let (heads, kvHeads, headDim, positions, layers) = attentionShape
        func benchmark(positions p: Int, sequences: Int = 1) -> AttentionBenchmark {
            AttentionBenchmark(heads: heads, kvHeads: kvHeads, headDim: headDim, positions: p, layers: layers,
                               sequences: sequences, pool: pool)
        }
        func perLayerSeconds(_ bench: AttentionBenchmark, rows: Int = 1) -> Double {
            medianSeconds(flushing: flush) { bench.run(rows: rows) } / Double(layers)
        }
        let short = max(1, positions / 16), many = max(2, attentionSequences)
        let tLong = perLayerSeconds(benchmark(positions: positions))
        let tShort = perLayerSeconds(benchmark(positions: short))
        let tMany = perLayerSeconds(benchmark(positions: short, sequences: many))
        let perPosition = max((tLong - tShort) / Double(positions - short), 1e-15)
        // tMany − tShort = (many − 1) · (perSequence + short · c)
        let perSequence = min(max(0, (tMany - tShort) / Double(many - 1) - Double(short) * perPosition), tShort)
        let overhead = max(0, tShort - perSequence - Double(short) * perPosition)
        let decode = 4 * Double(headDim * heads) / perPosition
        let chunk = benchmark(positions: prefillRows)
        let prefillSeconds = perLayerSeconds(chunk, rows: prefillRows) - overhead - perSequence
        let prefill = chunk.flops(rows: prefillRows) / Double(layers) / max(prefillSeconds, 1e-12)
        return AttentionFigures(decode: decode, prefill: prefill, overhead: overhead, perSequence: perSequence)
    }

    /// SwiGLU's activation (`siluMultiply(…, pool:)`, a libm `expf` per element, the session's own
    /// call) over 16 rows of the layer shape's FFN width;
    /// every timed run starts from fresh inputs (repeated in place, the values would sink into
    /// denormals). Elements per second.
    private func measureActivation(pool: ThreadPool) -> Double {
        let elements = 16 * layerShape.ffn, copies = repetitions + 1
        let gate = UnsafeMutablePointer<Float>.allocate(capacity: copies * elements)
        let up = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        defer { gate.deallocate(); up.deallocate() }
        for i in 0 ..< copies * elements { gate[i] = Float((i * 7919) % 401) / 50 - 4 }
        for i in 0 ..< elements { up[i] = Float((i * 31) % 17) / 17 - 0.5 }
        var run = 0
        let seconds = medianSeconds {
            siluMultiply(gate + (run % copies) * elements, up: up, count: elements, pool: pool)
            run += 1
        }
        return Double(elements) / seconds
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

/// Reads a buffer larger than the last-level cache, so that what a benchmark reads next comes
/// from memory, as it does inside a model whose weights stream through the cache.
///
/// The read is shared among the pool's workers, so that none of them idles through it: a
/// worker idle for more than 2 ms falls asleep (`ThreadPool`), and a single-threaded 64 MB read
/// takes about that long, which made the first kernel of every flushed run pay a wake-up that no
/// step inside a model pays (one activation row through the flushed Q4_1 stack read 17.7-20.6
/// GB/s with a single-threaded flush, against 23-24 GB/s for the same kernels inside SmolLM2).
final class Evictor: @unchecked Sendable {
    private let buffer: UnsafeMutablePointer<Float>
    private let count: Int
    private let pool: ThreadPool
    private let sinks: UnsafeMutablePointer<Float>
    init(bytes: Int, pool: ThreadPool) {
        count = max(16, bytes / 4)
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 1, count: count)
        self.pool = pool
        sinks = .allocate(capacity: pool.threadCount * 16)
        sinks.initialize(repeating: 0, count: pool.threadCount * 16)
    }
    deinit { buffer.deallocate(); sinks.deallocate() }
    func run() {
        let lines = count / 16
        pool.run { worker in
            var s: Float = 0
            for line in pool.share(of: lines, worker: worker) { s += buffer[line * 16] }  // one load per 64-byte line
            sinks[worker * 16] += s
        }
    }
}

/// Median of a non-empty sample (mean of the two middle values for an even count).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
