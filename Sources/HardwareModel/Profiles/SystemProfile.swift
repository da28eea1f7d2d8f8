import Diagnostics

/// A composition of devices and links, from `hardware-profiles/systems/ID.json`: e.g. a DGX
/// H100 is 8 × `nvidia-h100-sxm` joined by `nvlink4`, with `infiniband-ndr` between nodes.
/// Refers to devices and links by id, so each number lives in one file only.
public struct SystemProfile: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var name: String
    public var displayName: String
    public var device: String
    public var devicesPerNode: Int
    public var nodes: Int
    public var scaleUp: String?
    public var scaleOut: String?
    public var host: String?
    public var sources: [String: Source]
    public var notes: String?

    /// Devices in the whole system: `devicesPerNode × nodes`.
    public var deviceCount: Int { devicesPerNode * nodes }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, name, displayName, device, devicesPerNode, nodes, scaleUp, scaleOut, host, sources, notes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decode(String.self, forKey: .displayName)
        device = try c.decode(String.self, forKey: .device)
        devicesPerNode = try c.decodeInt(.devicesPerNode, atLeast: 1)
        nodes = try c.decodeInt(.nodes, atLeast: 1)
        scaleUp = try c.decodeIfPresent(String.self, forKey: .scaleUp)
        scaleOut = try c.decodeIfPresent(String.self, forKey: .scaleOut)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        sources = try c.decode([String: Source].self, forKey: .sources)
        try sources.requireSources(for: ["devicesPerNode"], codingPath: c.codingPath + [CodingKeys.sources])
        notes = try c.decodeIfPresent(String.self, forKey: .notes)
    }
}
