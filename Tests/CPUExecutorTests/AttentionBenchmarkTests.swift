import Testing
@testable import CPUExecutor

/// `AttentionBenchmark` (what `infersim calibrate` times) runs the session's `AttentionStep`
/// over one or more sequences; small shapes so that each case takes milliseconds.
struct AttentionBenchmarkTests {
    static let heads = 4, kvHeads = 2, headDim = 16, positions = 20, layers = 2

    func benchmark(sequences: Int, pool: ThreadPool) -> AttentionBenchmark {
        AttentionBenchmark(heads: Self.heads, kvHeads: Self.kvHeads, headDim: Self.headDim, positions: Self.positions,
                           layers: Self.layers, sequences: sequences, pool: pool)
    }

    /// `4 · headDim · heads · layers` FLOPs per query-key pair, for every sequence; the last
    /// `rows` of `positions` positions attend causally to `positions - rows + r + 1` keys each.
    func handCount(rows: Int, sequences: Int) -> Double {
        var pairs = 0
        for r in 0 ..< rows { pairs += Self.positions - rows + r + 1 }
        return Double(4 * Self.headDim * Self.heads * Self.layers * pairs * sequences)
    }

    @Test(arguments: [1, 3])
    func runsDecodeAndPrefillRowsOverEverySequence(sequences: Int) {
        let pool = ThreadPool(threadCount: 2)
        let bench = benchmark(sequences: sequences, pool: pool)
        #expect(bench.sequences == sequences && bench.positions == Self.positions && bench.layers == Self.layers)
        // Decode (one row per sequence), a prefill chunk of every position, then a partial chunk and
        // decode again: each run rewrites the rows' cache positions, so runs can repeat.
        bench.run(rows: 1)
        bench.run(rows: Self.positions)
        bench.run(rows: 5)
        bench.run()
    }

    // The FLOP counts need no worker threads: a one-thread pool starts none.
    @Test(arguments: [1, 3])
    func flopsAreTheHandCount(sequences: Int) {
        let pool = ThreadPool(threadCount: 1)
        let bench = benchmark(sequences: sequences, pool: pool)
        for rows in [1, 2, 5, 16, 17, Self.positions] {
            #expect(bench.flops(rows: rows) == handCount(rows: rows, sequences: sequences), "rows \(rows)")
        }
        #expect(bench.flops() == bench.flops(rows: 1))
        // Written out: one decode row sees all 20 positions; a 20-row chunk sees 1 + 2 + … + 20 = 210 pairs.
        let perPair = Double(4 * 16 * 4 * 2)
        #expect(bench.flops(rows: 1) == perPair * 20 * Double(sequences))
        #expect(bench.flops(rows: Self.positions) == perPair * 210 * Double(sequences))
    }

    @Test func flopsScaleWithTheNumberOfSequences() {
        let pool = ThreadPool(threadCount: 1)
        let one = benchmark(sequences: 1, pool: pool), three = benchmark(sequences: 3, pool: pool)
        for rows in [1, 7, Self.positions] {
            #expect(three.flops(rows: rows) == 3 * one.flops(rows: rows))
        }
    }

    /// One thread (the pool runs everything on the caller) and more threads than work items.
    @Test(arguments: [1, 4])
    func runsOnAnyPoolSize(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        let bench = benchmark(sequences: 3, pool: pool)
        bench.run(rows: 1)
        bench.run(rows: Self.positions)
    }
}

/// A pool released before its first job, perhaps before its workers have started, shuts down
/// cleanly (a worker first running after `deinit` began used to trap on its `unowned self`).
@Test func aPoolReleasedBeforeItsFirstJobShutsDown() {
    for _ in 0 ..< 200 { _ = ThreadPool(threadCount: 2) }
    for _ in 0 ..< 50 { _ = ThreadPool(threadCount: 4) }
}
