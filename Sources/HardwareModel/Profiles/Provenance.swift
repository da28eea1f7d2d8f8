/// Where a number comes from. Every numeric group in a profile names one.
public struct Source: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Vendor datasheet, whitepaper or product page.
        case datasheet
        /// A peer-reviewed paper or its artifact (table named in `reference`).
        case paper
        /// Measured by someone (us or a named third party) on the device.
        case measured
        /// Derived or estimated; `reference` says how.
        case estimated
    }
    public var kind: Kind
    /// URL plus the table or section read, or the measurement note.
    public var reference: String
    public init(kind: Kind, reference: String) {
        self.kind = kind
        self.reference = reference
    }
}

extension Dictionary where Key == String, Value == Source {
    /// Throws unless every name in `required` has a source entry.
    func requireSources(for required: [String], codingPath: [any CodingKey]) throws {
        for name in required where self[name] == nil {
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath,
                debugDescription: "missing a source for \"\(name)\" (every number needs one: datasheet URL, paper table or measurement note)"))
        }
    }
}
