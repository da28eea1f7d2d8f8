/// A pending event and its ordering key `(time, phase, rank, sequence)`.
public struct ScheduledEvent<Event>: Comparable {
    public var time: SimInstant
    public var phase: EventPhase
    /// A caller's canonical order within an instant and phase (lower first; 0 by default), for
    /// events whose same-instant order must not depend on when they were scheduled.
    public var rank: UInt32
    /// Tie-breaker from the owning queue's counter: earlier scheduling runs first.
    public var sequence: UInt64
    public var event: Event

    @inlinable public init(time: SimInstant, phase: EventPhase, rank: UInt32 = 0, sequence: UInt64, event: Event) {
        self.time = time
        self.phase = phase
        self.rank = rank
        self.sequence = sequence
        self.event = event
    }

    @inlinable public static func < (a: Self, b: Self) -> Bool {
        if a.time.nanoseconds != b.time.nanoseconds { return a.time.nanoseconds < b.time.nanoseconds }
        // Phase, then rank, as one number.
        let x = UInt64(a.phase.rawValue) << 32 | UInt64(a.rank), y = UInt64(b.phase.rawValue) << 32 | UInt64(b.rank)
        if x != y { return x < y }
        return a.sequence < b.sequence
    }

    /// Two scheduled events are equal when their keys are; sequences are unique per queue.
    @inlinable public static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && a.phase == b.phase && a.rank == b.rank && a.sequence == b.sequence
    }
}

/// A min-priority queue of events ordered by `(time, phase, rank, sequence)`: a binary heap
/// (the keys are unique, so the order of events is total and any correct heap pops the same
/// sequence; this one moves a hole rather than swapping, as a simulation pops millions).
///
/// The sequence counter belongs to the queue (not to a static), so two simulations never share
/// state and a run is reproducible. Ties on time and phase run first-scheduled-first.
/// - Complexity: `schedule` and `popNext` are O(log n); `peek` is O(1).
public struct EventQueue<Event> {
    @usableFromInline var heap: [ScheduledEvent<Event>] = []
    @usableFromInline var nextSequence: UInt64 = 0

    public init() {}

    @inlinable public var count: Int { heap.count }
    @inlinable public var isEmpty: Bool { heap.isEmpty }

    /// Adds `event` to run at `time` in `phase`, after same-instant events of lower `rank`.
    @inlinable public mutating func schedule(_ event: Event, at time: SimInstant, phase: EventPhase, rank: UInt32 = 0) {
        let item = ScheduledEvent(time: time, phase: phase, rank: rank, sequence: nextSequence, event: event)
        nextSequence &+= 1
        heap.append(item)
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard item < h[parent] else { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = item
        }
    }

    /// The earliest pending event, without removing it.
    @inlinable public var peek: ScheduledEvent<Event>? { heap.first }

    /// Removes and returns the earliest pending event.
    @inlinable public mutating func popNext() -> ScheduledEvent<Event>? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n && h[child + 1] < h[child] { child += 1 }
                guard h[child] < last else { break }
                h[i] = h[child]
                i = child
            }
            h[i] = last
        }
        return top
    }
}
