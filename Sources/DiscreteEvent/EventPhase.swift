/// The order in which events that fall on the same instant run.
///
/// Declaration order is the same-instant order (Vidur's `EventType` comment explains why):
/// work that *arrives* at an instant is visible to a decision taken at that instant, and a
/// step that *completes* at an instant frees its resources before the next one is formed.
/// So every arrival at `t` runs before every completion at `t`, which runs before every
/// scheduling pass at `t`. Within a phase, events run in the order they were scheduled.
public enum EventPhase: UInt8, Comparable, Sendable, CaseIterable {
    /// New work enters the system (a request arrives at the router).
    case arrival
    /// Work finishes (a forward step ends; its tokens become visible).
    case completion
    /// A decision is taken with everything that happened at this instant in view.
    case schedulingPass

    @inlinable public static func < (a: EventPhase, b: EventPhase) -> Bool { a.rawValue < b.rawValue }
}
