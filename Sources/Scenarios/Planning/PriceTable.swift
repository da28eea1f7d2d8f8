import Diagnostics
import Foundation

/// Device-hour prices with their sources and dates (`data/prices/cloud-gpu-prices.json`, or a
/// user's file given with `plan --prices`). A plan ranks configurations by their price per hour
/// and reports dollars per million tokens; a device without a price cannot be ranked.
public struct PriceTable: Codable, Sendable, Hashable {
    public var schemaVersion: Int
    public var description: String
    public var prices: [DevicePrice]

    public struct DevicePrice: Codable, Sendable, Hashable {
        /// A device id of the profile catalog.
        public var device: String
        public var usdPerDeviceHour: Double
        /// The instance the price was taken from, and how the per-device figure was derived.
        public var instance: String
        public var derivation: String
        public var source: String
        public var date: String
        public var note: String?

        enum CodingKeys: String, CodingKey { case device, usdPerDeviceHour, instance, derivation, source, date, note }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            device = try c.decode(String.self, forKey: .device)
            usdPerDeviceHour = try c.decodePositive(.usdPerDeviceHour, atMost: 1e5)
            instance = try c.decode(String.self, forKey: .instance)
            derivation = try c.decode(String.self, forKey: .derivation)
            source = try c.decode(String.self, forKey: .source)
            date = try c.decode(String.self, forKey: .date)
            note = try c.decodeIfPresent(String.self, forKey: .note)
        }
    }

    enum CodingKeys: String, CodingKey { case schemaVersion, description, prices }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decodeInt(.schemaVersion, atLeast: 1, atMost: 1)
        description = try c.decode(String.self, forKey: .description)
        prices = try c.decode([DevicePrice].self, forKey: .prices)
        var seen = Set<String>()
        for (i, p) in prices.enumerated() where !seen.insert(p.device).inserted {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.prices, AnyIndexKey(i)],
                                                    debugDescription: "the device \(p.device) is priced twice"))
        }
    }

    public func price(of device: String) -> DevicePrice? { prices.first { $0.device == device } }

    struct AnyIndexKey: CodingKey {
        var stringValue: String { "\(intValue!)" }
        var intValue: Int?
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }
}
