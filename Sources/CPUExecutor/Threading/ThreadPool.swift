import Foundation
import Synchronization

/// A fixed set of worker threads that run one data-parallel job at a time ("fork-join"):
/// `run { worker in … }` calls the body once per worker index `0..<threadCount` (index 0 on
/// the calling thread) and returns when all have finished.
///
/// Made once per `InferenceSession`; a token's forward pass calls `run` about five times per
/// layer, so `run` allocates nothing and creates no threads. Workers spin on an atomic
/// generation counter for up to `spinNanoseconds` (the next job usually follows within
/// microseconds, and a worker whose share of a job ends early waits for the rest of it), then
/// sleep on a condition variable so an idle pool costs no CPU. The limit is time, not spins: with
/// 200 000 spins a worker idle through the uneven end of a long attention job (3 KV heads on 2
/// workers at 1024 positions, ~50 us) fell asleep, and waking it cost ~20 us per layer.
///
/// Concurrency: `@unchecked Sendable` because `job` is a plain stored property shared with the
/// workers. It is written only by the caller of `run` before the generation counter is bumped
/// (a releasing store) and read by workers after they observe the new generation (an acquiring
/// load), and it is cleared only after every worker has decremented `pending` (release/acquire),
/// so no access races. `run` itself must not be called concurrently from two threads.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    private var job: ((Int) -> Void)?
    private var threads: [Thread] = []
    /// Busy-wait time before a worker goes to sleep.
    private let spinNanoseconds: UInt64 = 2_000_000

    public init(threadCount: Int) {
        precondition(threadCount >= 1, "thread count must be at least 1, got \(threadCount)")
        self.threadCount = threadCount
        for index in 1 ..< threadCount {
            // `unowned(unsafe)`: a worker that first runs after `deinit` has begun would trap on a
            // checked `unowned` read (seen when a pool was released before its first job); `deinit`
            // waits until every worker has left its loop, so the object outlives every access.
            let thread = Thread { [unowned(unsafe) self] in self.workerLoop(index: index) }
            thread.stackSize = 1 << 20
            thread.start()
            threads.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        condition.lock()
        generation.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
        // Workers hold `unowned(unsafe) self`; wait until they have all left the loop.
        while pending.load(ordering: .acquiring) > -(threadCount - 1) { sched_yield() }
    }

    /// Runs `body(worker)` for every worker index and waits for all of them.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            pending.store(threadCount - 1, ordering: .sequentiallyConsistent)
            // Publish, then wake sleepers. A worker registers as a sleeper *before* re-checking the
            // generation under the lock, so either it sees the new generation or we see it sleeping.
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            escapable(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 10_000 { sched_yield() }
            }
            job = nil
        }
    }

    /// Splits `0..<count` into `threadCount` nearly equal contiguous ranges; range `worker`.
    @inline(__always)
    public func share(of count: Int, worker: Int) -> Range<Int> {
        let start = count * worker / threadCount
        let end = count * (worker + 1) / threadCount
        return start ..< end
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            let start = DispatchTime.now().uptimeNanoseconds
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 4095 == 0 && DispatchTime.now().uptimeNanoseconds &- start > spinNanoseconds {
                    condition.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    condition.unlock()
                    break
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) {
                pending.subtract(1, ordering: .releasing)
                return
            }
            job?(index)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
