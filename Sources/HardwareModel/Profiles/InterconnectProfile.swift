import Diagnostics

/// A link between devices or to the host, from `hardware-profiles/interconnects/ID.json`.
///
/// Collectives over it cost by the alpha-beta model: a message of `n` bytes takes
/// `latency + n / (bandwidth · efficiency)`.
public struct InterconnectProfile: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable { case nvlink, pcie, infiniband, roce, ethernet, infinityFabric, chipFabric, ici, cxl }
    public var schemaVersion: Int
    public var name: String
    public var displayName: String
    public var kind: Kind
    /// Per device, per direction.
    public var bandwidthBytesPerSecondPerDirection: Double
    /// One-way latency of a small message (alpha), seconds.
    public var latencySeconds: Double
    /// Fraction of the link's bandwidth collectives reach (NCCL bus bandwidth / link peak).
    public var achievableFraction: Double
    public var sources: [String: Source]
    public var notes: String?

    public var bandwidth: BytesPerSecond { BytesPerSecond(bandwidthBytesPerSecondPerDirection) }
    public var latency: Seconds { Seconds(latencySeconds) }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, name, displayName, kind, bandwidthBytesPerSecondPerDirection, latencySeconds, achievableFraction, sources, notes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        guard schemaVersion == 1 else {
            throw DecodingError.dataCorruptedError(forKey: .schemaVersion, in: c, debugDescription: "expected 1, found \(schemaVersion)")
        }
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decode(String.self, forKey: .displayName)
        kind = try c.decode(Kind.self, forKey: .kind)
        bandwidthBytesPerSecondPerDirection = try c.decodePositive(.bandwidthBytesPerSecondPerDirection)
        latencySeconds = try c.decodePositive(.latencySeconds)
        achievableFraction = try c.decodeFraction(.achievableFraction)
        sources = try c.decode([String: Source].self, forKey: .sources)
        try sources.requireSources(for: ["bandwidthBytesPerSecondPerDirection", "latencySeconds", "achievableFraction"],
                                   codingPath: c.codingPath + [CodingKeys.sources])
        notes = try c.decodeIfPresent(String.self, forKey: .notes)
    }

    /// Alpha-beta time of one message of `bytes`.
    @inlinable public func transferTime(_ bytes: Bytes) -> Seconds {
        Seconds(latencySeconds + bytes.value / (bandwidthBytesPerSecondPerDirection * achievableFraction))
    }
}
