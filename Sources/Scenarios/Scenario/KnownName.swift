import Diagnostics
import HardwareModel

/// Optional variants of the strict decoders (`decodeKnown` lives in HardwareModel's `StrictJSON`).
extension KeyedDecodingContainer {
    func decodeKnownIfPresent<T: RawRepresentable & CaseIterable>(_ type: T.Type, forKey key: Key) throws -> T? where T.RawValue == String {
        try contains(key) ? decodeKnown(type, forKey: key) : nil
    }

    func decodeIntIfPresent(_ key: Key, atLeast minimum: Int, atMost maximum: Int = KeyedDecodingContainer.largestCount) throws -> Int? {
        try contains(key) ? decodeInt(key, atLeast: minimum, atMost: maximum) : nil
    }

    func decodePositiveIfPresent(_ key: Key) throws -> Double? {
        try contains(key) ? decodePositive(key) : nil
    }
}
