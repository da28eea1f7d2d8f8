import HardwareModel

/// One measured result from a public source (`data/validation/published.json`).
public struct PublishedCase: Codable, Sendable {
    public struct Hardware: Codable, Sendable { public var sku: String; public var count: Int?; public var interconnect: String? }
    public struct Model: Codable, Sendable {
        public var name: String; public var params_b: Double?; public var layers: Int?; public var hidden: Int?
        public var heads: Int?; public var kv_heads: Int?
    }
    public struct PrecisionText: Codable, Sendable { public var weights: String?; public var activations: String?; public var kv_cache: String? }
    public struct ServingSystem: Codable, Sendable { public var name: String?; public var version: String? }
    public struct Workload: Codable, Sendable {
        public var batch_size: Int?; public var concurrency: Int?; public var qps: Double?
        public var input_tokens: Int?; public var output_tokens: Int?; public var dataset: String?
    }
    public struct SourceRef: Codable, Sendable { public var url: String; public var location: String? }

    public var id: String
    public var category: String
    public var hardware: Hardware
    public var model: Model
    public var precision: PrecisionText
    public var serving_system: ServingSystem?
    public var workload: Workload
    public var metric: String
    public var value: Double
    public var unit: String
    public var source: SourceRef
    public var confidence: String?
    public var notes: String?
}
