import DiscreteEvent

/// What the collector needs to know about why a request was refused: a stable name for
/// reports and whether the reason means "the system is saturated" (used by `OverloadRule`).
///
/// The simulator's own reason enum conforms with one line; for a `String`-backed enum the
/// name defaults to the raw value, and `indicatesOverload` defaults to true exactly for the
/// names `queueFull` and `deadlineExceeded`:
/// ```swift
/// extension RejectionReason: RejectionCause {}
/// ```
public protocol RejectionCause: Sendable {
    var name: String { get }
    var indicatesOverload: Bool { get }
}

extension RejectionCause {
    public var indicatesOverload: Bool { Self.overloadNames.contains(name) }
    static var overloadNames: Set<String> { ["queueFull", "deadlineExceeded"] }
}

extension RejectionCause where Self: RawRepresentable, RawValue == String {
    public var name: String { rawValue }
}

/// A rejection cause given by name (for tests and callers without their own enum).
public struct NamedRejectionCause: RejectionCause, Hashable, Comparable, CustomStringConvertible {
    public var name: String
    public var indicatesOverload: Bool

    public init(_ name: String, indicatesOverload: Bool? = nil) {
        self.name = name
        self.indicatesOverload = indicatesOverload ?? NamedRejectionCause.overloadNames.contains(name)
    }

    /// `prompt + output` exceeds the longest sequence the replica serves.
    public static let exceedsMaxSequenceLength = NamedRejectionCause("exceedsMaxSequenceLength")
    /// The request can never fit in the KV cache, even alone.
    public static let exceedsKVCapacity = NamedRejectionCause("exceedsKVCapacity")
    /// The waiting queue was full (admission control).
    public static let queueFull = NamedRejectionCause("queueFull")
    /// The request waited past its deadline and was dropped.
    public static let deadlineExceeded = NamedRejectionCause("deadlineExceeded")

    public static func < (a: NamedRejectionCause, b: NamedRejectionCause) -> Bool { a.name < b.name }
    public var description: String { name }
}

extension RejectionCause where Self == NamedRejectionCause {
    /// Lets callers write `collector.reject(id: 3, reason: .queueFull)`.
    public static var queueFull: NamedRejectionCause { .queueFull }
    public static var deadlineExceeded: NamedRejectionCause { .deadlineExceeded }
    public static var exceedsKVCapacity: NamedRejectionCause { .exceedsKVCapacity }
    public static var exceedsMaxSequenceLength: NamedRejectionCause { .exceedsMaxSequenceLength }
}
