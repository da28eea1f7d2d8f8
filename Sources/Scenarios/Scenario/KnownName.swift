/// Decodes a name from a closed list (an enum), and on a miss lists every known name, so
/// `"kind": "chunked"` fails with `unknown value "chunked"; known: staticBatching, …`.
extension KeyedDecodingContainer {
    func decodeKnown<T: RawRepresentable & CaseIterable>(_ type: T.Type, forKey key: Key) throws -> T where T.RawValue == String {
        let raw = try decode(String.self, forKey: key)
        guard let value = T(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription:
                "unknown value \"\(raw)\"; known: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func decodeKnownIfPresent<T: RawRepresentable & CaseIterable>(_ type: T.Type, forKey key: Key) throws -> T? where T.RawValue == String {
        try contains(key) ? decodeKnown(type, forKey: key) : nil
    }

    func decodeIntIfPresent(_ key: Key, atLeast minimum: Int) throws -> Int? {
        try contains(key) ? decodeInt(key, atLeast: minimum) : nil
    }

    func decodePositiveIfPresent(_ key: Key) throws -> Double? {
        try contains(key) ? decodePositive(key) : nil
    }
}
