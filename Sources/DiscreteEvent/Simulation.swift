/// Reacts to events. The handler owns all domain state; the engine only owns the clock.
///
/// A handler schedules follow-up events through the `Simulation` it is given, so each event
/// type stays a few readable lines (Vidur's `handle_event` returning new events).
public protocol EventHandler {
    associatedtype Event
    mutating func handle(_ event: Event, at now: SimInstant, in simulation: inout Simulation<Event>)
}

/// The run loop: a clock and an `EventQueue`. Knows nothing about what the events mean.
///
/// Time never goes back: scheduling an event before `now` is a programmer error
/// (`precondition`), and `run(until:)` checks every popped event against the clock.
public struct Simulation<Event> {
    @usableFromInline var _now: SimInstant = .zero
    @usableFromInline var _queue = EventQueue<Event>()
    @usableFromInline var _eventsHandled: Int = 0

    /// The current instant: the time of the event being handled.
    @inlinable public var now: SimInstant { _now }
    /// Pending events.
    @inlinable public var queue: EventQueue<Event> { _queue }
    /// Events handled so far.
    @inlinable public var eventsHandled: Int { _eventsHandled }

    public init() {}

    /// Schedules `event` at `time` (≥ `now`) in `phase`.
    @inlinable public mutating func schedule(_ event: Event, at time: SimInstant, phase: EventPhase, rank: UInt32 = 0) {
        precondition(time >= now, "cannot schedule an event in the past: \(time) < \(now)")
        _queue.schedule(event, at: time, phase: phase, rank: rank)
    }

    /// Schedules `event` after `delay` from now.
    @inlinable public mutating func schedule(_ event: Event, after delay: SimDuration, phase: EventPhase) {
        schedule(event, at: now + delay, phase: phase)
    }

    /// Pops the next event no later than `limit`, advancing the clock to it.
    @inlinable
    public mutating func step(until limit: SimInstant = .distantFuture) -> (SimInstant, Event)? {
        guard let head = _queue.peek, head.time <= limit else { return nil }
        let next = _queue.popNext()!
        precondition(next.time >= _now, "time went back: \(next.time) < \(_now)")
        _now = next.time
        _eventsHandled += 1
        return (next.time, next.event)
    }

    /// Runs events in `(time, phase, sequence)` order until the queue is empty or the next
    /// event is later than `limit`. Returns the number of events handled by this call.
    @discardableResult @inlinable
    public mutating func run<Handler: EventHandler>(until limit: SimInstant = .distantFuture,
                                                    handler: inout Handler) -> Int
    where Handler.Event == Event {
        var handled = 0
        while let (time, event) = step(until: limit) {
            handler.handle(event, at: time, in: &self)
            handled += 1
        }
        return handled
    }
}
