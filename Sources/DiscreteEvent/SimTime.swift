/// A point on the simulated clock, in integer nanoseconds since the start of the run.
///
/// Instants and durations are distinct types (as NIO's `NIODeadline` and `TimeAmount`):
/// `instant + duration` is an instant, `instant - instant` is a duration, and
/// `instant + instant` does not compile. Integer nanoseconds make event ordering exact
/// and runs byte-for-byte reproducible.
public struct SimInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    @inlinable public static var zero: SimInstant { SimInstant(nanoseconds: 0) }
    public static let distantFuture = SimInstant(nanoseconds: .max)

    @inlinable public static func < (a: SimInstant, b: SimInstant) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: SimInstant, d: SimDuration) -> SimInstant {
        SimInstant(nanoseconds: a.nanoseconds &+ d.nanoseconds)
    }
    @inlinable public static func += (a: inout SimInstant, d: SimDuration) { a.nanoseconds &+= d.nanoseconds }
    @inlinable public static func - (a: SimInstant, b: SimInstant) -> SimDuration {
        SimDuration(nanoseconds: a.nanoseconds - b.nanoseconds)
    }
    /// Seconds since the start of the run, for reports.
    @inlinable public var seconds: Double { Double(nanoseconds) * 1e-9 }
    public var description: String { "t=\(seconds)s" }
}

/// An interval of simulated time in integer nanoseconds.
public struct SimDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    @inlinable public static var zero: SimDuration { SimDuration(nanoseconds: 0) }

    /// Converts seconds to a duration, rounding **up** to the next nanosecond so that a
    /// positive cost never becomes a zero-length step.
    @inlinable public init(secondsRoundingUp s: Double) {
        precondition(s.isFinite && s >= 0, "duration must be finite and non-negative, got \(s)")
        self.nanoseconds = Int64((s * 1e9).rounded(.up))
    }
    @inlinable public static func seconds(_ s: Double) -> SimDuration { SimDuration(secondsRoundingUp: s) }
    @inlinable public static func milliseconds(_ ms: Int64) -> SimDuration { SimDuration(nanoseconds: ms * 1_000_000) }

    @inlinable public static func < (a: SimDuration, b: SimDuration) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: SimDuration, b: SimDuration) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds + b.nanoseconds) }
    @inlinable public static func - (a: SimDuration, b: SimDuration) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds - b.nanoseconds) }
    @inlinable public static func * (a: SimDuration, k: Int64) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds * k) }
    @inlinable public var seconds: Double { Double(nanoseconds) * 1e-9 }
    @inlinable public var milliseconds: Double { Double(nanoseconds) * 1e-6 }
    public var description: String { "\(seconds)s" }
}
