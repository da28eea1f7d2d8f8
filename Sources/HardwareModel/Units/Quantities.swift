/// Physical quantities used across InferSim. Each wraps a `Double` in SI base units so
/// that a bandwidth cannot be passed where a capacity is expected. Decimal prefixes
/// only: 1 GB = 1e9 bytes, 1 TB/s = 1e12 bytes per second.

/// A duration in seconds (the cost model's unit of time; the simulator converts once,
/// at its boundary, to integer nanoseconds).
public struct Seconds: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public static var zero: Seconds { Seconds(0) }
    @inlinable public static func < (a: Seconds, b: Seconds) -> Bool { a.value < b.value }
    @inlinable public static func + (a: Seconds, b: Seconds) -> Seconds { Seconds(a.value + b.value) }
    @inlinable public static func - (a: Seconds, b: Seconds) -> Seconds { Seconds(a.value - b.value) }
    @inlinable public static func += (a: inout Seconds, b: Seconds) { a.value += b.value }
    @inlinable public static func * (a: Seconds, k: Double) -> Seconds { Seconds(a.value * k) }
    @inlinable public static func / (a: Seconds, k: Double) -> Seconds { Seconds(a.value / k) }
    @inlinable public var milliseconds: Double { value * 1e3 }
    @inlinable public var microseconds: Double { value * 1e6 }
    public var description: String { "\(value) s" }
}

/// An amount of data in bytes.
public struct Bytes: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public init(_ value: Int) { self.value = Double(value) }
    @inlinable public static var zero: Bytes { Bytes(0) }
    @inlinable public static func < (a: Bytes, b: Bytes) -> Bool { a.value < b.value }
    @inlinable public static func + (a: Bytes, b: Bytes) -> Bytes { Bytes(a.value + b.value) }
    @inlinable public static func - (a: Bytes, b: Bytes) -> Bytes { Bytes(a.value - b.value) }
    @inlinable public static func += (a: inout Bytes, b: Bytes) { a.value += b.value }
    @inlinable public static func * (a: Bytes, k: Double) -> Bytes { Bytes(a.value * k) }
    @inlinable public static func / (a: Bytes, k: Double) -> Bytes { Bytes(a.value / k) }
    @inlinable public static func / (a: Bytes, b: BytesPerSecond) -> Seconds { Seconds(a.value / b.value) }
    @inlinable public var gigabytes: Double { value / 1e9 }
    @inlinable public var gibibytes: Double { value / 1_073_741_824 }
    @inlinable public var mebibytes: Double { value / 1_048_576 }
    public var description: String { "\(value) B" }
}

/// A data rate in bytes per second.
public struct BytesPerSecond: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public static func < (a: BytesPerSecond, b: BytesPerSecond) -> Bool { a.value < b.value }
    @inlinable public static func * (a: BytesPerSecond, k: Double) -> BytesPerSecond { BytesPerSecond(a.value * k) }
    public var description: String { "\(value) B/s" }
}

/// A count of floating-point (or integer multiply-accumulate) operations; one
/// multiply-accumulate counts as 2.
public struct FLOPs: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public static var zero: FLOPs { FLOPs(0) }
    @inlinable public static func < (a: FLOPs, b: FLOPs) -> Bool { a.value < b.value }
    @inlinable public static func + (a: FLOPs, b: FLOPs) -> FLOPs { FLOPs(a.value + b.value) }
    @inlinable public static func += (a: inout FLOPs, b: FLOPs) { a.value += b.value }
    @inlinable public static func * (a: FLOPs, k: Double) -> FLOPs { FLOPs(a.value * k) }
    @inlinable public static func / (a: FLOPs, b: FLOPsPerSecond) -> Seconds { Seconds(a.value / b.value) }
    @inlinable public static func / (a: FLOPs, b: Bytes) -> Double { a.value / b.value }
    public var description: String { "\(value) FLOP" }
}

/// A compute rate in operations per second.
public struct FLOPsPerSecond: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public static func < (a: FLOPsPerSecond, b: FLOPsPerSecond) -> Bool { a.value < b.value }
    @inlinable public static func * (a: FLOPsPerSecond, k: Double) -> FLOPsPerSecond { FLOPsPerSecond(a.value * k) }
    public var description: String { "\(value) FLOP/s" }
}

/// Power in watts.
public struct Watts: Hashable, Comparable, Sendable {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public static func < (a: Watts, b: Watts) -> Bool { a.value < b.value }
    @inlinable public static func * (a: Watts, t: Seconds) -> Joules { Joules(a.value * t.value) }
}

/// Energy in joules.
public struct Joules: Hashable, Comparable, Sendable {
    public var value: Double
    @inlinable public init(_ value: Double) { self.value = value }
    @inlinable public static var zero: Joules { Joules(0) }
    @inlinable public static func < (a: Joules, b: Joules) -> Bool { a.value < b.value }
    @inlinable public static func + (a: Joules, b: Joules) -> Joules { Joules(a.value + b.value) }
    @inlinable public static func += (a: inout Joules, b: Joules) { a.value += b.value }
}
