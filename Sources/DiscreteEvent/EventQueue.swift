import HeapModule

/// A pending event and its ordering key `(time, phase, sequence)`.
public struct ScheduledEvent<Event>: Comparable {
    public var time: SimInstant
    public var phase: EventPhase
    /// Tie-breaker from the owning queue's counter: earlier scheduling runs first.
    public var sequence: UInt64
    public var event: Event

    @inlinable public init(time: SimInstant, phase: EventPhase, sequence: UInt64, event: Event) {
        self.time = time
        self.phase = phase
        self.sequence = sequence
        self.event = event
    }

    @inlinable public static func < (a: Self, b: Self) -> Bool {
        if a.time.nanoseconds != b.time.nanoseconds { return a.time.nanoseconds < b.time.nanoseconds }
        if a.phase != b.phase { return a.phase < b.phase }
        return a.sequence < b.sequence
    }

    /// Two scheduled events are equal when their keys are; sequences are unique per queue.
    @inlinable public static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && a.phase == b.phase && a.sequence == b.sequence
    }
}

/// A min-priority queue of events ordered by `(time, phase, sequence)`.
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

    /// Adds `event` to run at `time` in `phase`.
    @inlinable public mutating func schedule(_ event: Event, at time: SimInstant, phase: EventPhase) {
        heap.insert(ScheduledEvent(time: time, phase: phase, sequence: nextSequence, event: event))
        nextSequence &+= 1
    }

    /// The earliest pending event, without removing it.
    @inlinable public var peek: ScheduledEvent<Event>? { heap.min }

    /// Removes and returns the earliest pending event.
    @inlinable public mutating func popNext() -> ScheduledEvent<Event>? { heap.popMin() }
}
