import HeapModule

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
        if a.phase != b.phase { return a.phase < b.phase }
        if a.rank != b.rank { return a.rank < b.rank }
        return a.sequence < b.sequence
    }

    /// Two scheduled events are equal when their keys are; sequences are unique per queue.
    @inlinable public static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && a.phase == b.phase && a.rank == b.rank && a.sequence == b.sequence
    }
}

/// A min-priority queue of events ordered by `(time, phase, rank, sequence)`.
///
/// The sequence counter belongs to the queue (not to a static), so two simulations never share
/// state and a run is reproducible. Ties on time and phase run first-scheduled-first.
/// - Complexity: `schedule` and `popNext` are O(log n); `peek` is O(1).
public struct EventQueue<Event> {
    @usableFromInline var heap: Heap<ScheduledEvent<Event>> = []
    @usableFromInline var nextSequence: UInt64 = 0

    public init() {}

    @inlinable public var count: Int { heap.count }
    @inlinable public var isEmpty: Bool { heap.isEmpty }

    /// Adds `event` to run at `time` in `phase`, after same-instant events of lower `rank`.
    @inlinable public mutating func schedule(_ event: Event, at time: SimInstant, phase: EventPhase, rank: UInt32 = 0) {
        heap.insert(ScheduledEvent(time: time, phase: phase, rank: rank, sequence: nextSequence, event: event))
        nextSequence &+= 1
    }

    /// The earliest pending event, without removing it.
    @inlinable public var peek: ScheduledEvent<Event>? { heap.min }

    /// Removes and returns the earliest pending event.
    @inlinable public mutating func popNext() -> ScheduledEvent<Event>? { heap.popMin() }
}
