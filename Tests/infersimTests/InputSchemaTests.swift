import Foundation
import Testing

/// Every JSON data file in the repository names its JSON Schema (`schemas/`) with a root
/// `"$schema"` key, first in the file, so that editors validate and complete it, and matches that
/// schema. Files whose root is an array cannot carry the key; they are mapped here. The schemas
/// restate the strict decoders (unknown keys are errors), so a broken copy of a real file must fail.
@Suite struct InputSchemaTests {
    static var root: String { CLI.repoRoot }

    /// Data files whose root is an array, with their schema.
    static let arrayRooted: [String: String] = [
        "data/validation/published.json": "schemas/published.schema.json",
        "data/validation/hardware_specs.json": "schemas/hardware-specs.schema.json",
    ]

    /// Paths (relative to the repository) the walk leaves out besides hidden ones (`.build`,
    /// `.git`, …): the schemas themselves, git-ignored output (`.gitignore`: a model download,
    /// run output, the profile `infersim calibrate` writes) and fuzzing inputs, which are
    /// malformed on purpose.
    static let skipped: Set<String> = ["schemas", "models", "out", "Fuzz", "hardware-profiles/devices/host-calibrated.json"]

    /// Every `.json` file of the repository outside the skipped paths, relative, sorted.
    static func dataFiles() throws -> [String] {
        var found: [String] = []
        func walk(_ relative: String) throws {
            let directory = relative.isEmpty ? root : root + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let path = relative.isEmpty ? name : relative + "/" + name
                if name.hasPrefix(".") || skipped.contains(path) { continue }
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    try walk(path)
                } else if name.hasSuffix(".json") {
                    found.append(path)
                }
            }
        }
        try walk("")
        return found
    }

    /// `a/b/../c/./d` → `a/c/d`.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/" + relative)), options: [.fragmentsAllowed])
    }

    static func validator(_ name: String) throws -> JSONSchemaValidator {
        try JSONSchemaValidator(path: root + "/schemas/\(name).schema.json")
    }

    /// The schema a data file names (relative to the repository), or why it names none.
    static func schema(of file: String, value: Any) -> Result<String, SchemaError> {
        guard let object = value as? [String: Any] else {
            return arrayRooted[file].map { .success($0) } ?? .failure(SchemaError("the root is not an object and the file is not in InputSchemaTests.arrayRooted"))
        }
        guard let reference = object["$schema"] as? String else { return .failure(SchemaError("no root \"$schema\" string naming its schema")) }
        let directory = (file as NSString).deletingLastPathComponent
        let path = normalized(directory.isEmpty ? reference : directory + "/" + reference)
        guard path.hasPrefix("schemas/"), path.hasSuffix(".schema.json") else {
            return .failure(SchemaError("\"$schema\": \"\(reference)\" does not name a file in schemas/"))
        }
        guard FileManager.default.fileExists(atPath: root + "/" + path) else {
            return .failure(SchemaError("\"$schema\": \"\(reference)\" names \(path), which does not exist"))
        }
        return .success(path)
    }

    struct SchemaError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func everyJSONFileNamesAnExistingSchemaAndMatchesIt() throws {
        let files = try Self.dataFiles()
        #expect(files.count >= 90, "found only \(files.count) JSON files: \(files)")
        var schemasUsed = Set<String>()
        for file in files {
            let value = try Self.json(file)
            switch Self.schema(of: file, value: value) {
            case .failure(let error):
                Issue.record("\(file): \(error)")
            case .success(let schema):
                schemasUsed.insert(schema)
                let violation = try JSONSchemaValidator(path: Self.root + "/" + schema).violation(value)
                #expect(violation == nil, "\(file) against \(schema): \(violation ?? "")")
            }
        }
        for kind in ["device", "interconnect", "system", "engine", "device-classes", "model", "scenario", "comparison",
                     "serving-comparison", "prices", "published", "hardware-specs", "references", "microbench"] {
            #expect(schemasUsed.contains("schemas/\(kind).schema.json"), "no file uses schemas/\(kind).schema.json")
        }
    }

    @Test func theSchemaKeyComesFirst() throws {
        for file in try Self.dataFiles() where Self.arrayRooted[file] == nil {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            let start = text.drop { $0.isWhitespace }
            let afterBrace = start.dropFirst().drop { $0.isWhitespace }
            #expect(start.first == "{" && afterBrace.hasPrefix("\"$schema\""), "\(file): \"$schema\" is not the first key")
        }
    }

    @Test func everyInputSchemaHasATitleADescriptionAndAllowsTheSchemaKey() throws {
        let names = ["device", "interconnect", "system", "engine", "device-classes", "model", "scenario", "comparison",
                     "serving-comparison", "prices", "references", "microbench"]
        for name in names {
            let schema = try Self.validator(name).root
            #expect(schema["title"] is String && schema["description"] is String, "\(name)")
            #expect(schema["additionalProperties"] as? Bool == false, "\(name): unknown keys must be errors")
            #expect((schema["properties"] as? [String: Any])?["$schema"] != nil, "\(name): no \"$schema\" property")
        }
    }

    // MARK: - A broken copy of a real file fails its schema

    enum Step: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String), index(Int)
        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
    }

    /// `value` with the value at `path` replaced by `new` (removed when nil).
    static func replacing(_ value: Any, at path: ArraySlice<Step>, with new: Any?) -> Any? {
        guard let step = path.first else { return new }
        switch step {
        case .key(let key):
            var object = value as! [String: Any]
            object[key] = replacing(object[key] ?? [String: Any](), at: path.dropFirst(), with: new)
            return object
        case .index(let i):
            var array = value as! [Any]
            array[i] = replacing(array[i], at: path.dropFirst(), with: new) ?? NSNull()
            return array
        }
    }

    /// Checks that `file` matches `schema` as is and that the change does not, with a violation
    /// that contains each of `mentions`.
    static func expectRejected(_ file: String, _ schema: String, setting path: [Step], to new: Any?, mentions: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let validator = try validator(schema)
        let original = try json(file)
        #expect(validator.violation(original) == nil, "\(file) as is: \(validator.violation(original) ?? "")", sourceLocation: sourceLocation)
        let broken = replacing(original, at: path[...], with: new)!
        let violation = validator.violation(broken)
        #expect(violation != nil, "\(file) with \(path) = \(new ?? "nil") passed \(schema)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(violation?.contains(text) == true, "\(violation ?? "nil") does not mention \(text)", sourceLocation: sourceLocation)
        }
    }

    static let h100 = "hardware-profiles/devices/nvidia-h100-sxm.json"
    static let quickstart = "scenarios/quickstart.json"

    @Test func anUnknownKeyIsRejected() throws {
        try Self.expectRejected(Self.h100, "device", setting: ["memoryBandwithBytesPerSecond"], to: 3.35e12,
                                mentions: ["$:", "\"memoryBandwithBytesPerSecond\" is not in the schema"])
        try Self.expectRejected(Self.h100, "device", setting: ["memoryTiers", 1, "bandwithBytesPerSecond"], to: 3.35e12,
                                mentions: ["$.memoryTiers[1]:", "bandwithBytesPerSecond"])
        try Self.expectRejected(Self.quickstart, "scenario", setting: ["scheduler", "maxBatchsize"], to: 8,
                                mentions: ["$.scheduler:", "maxBatchsize"])
        try Self.expectRejected("scenarios/models/llama-3-8b.json", "model", setting: ["numLayers"], to: 32, mentions: ["numLayers"])
        try Self.expectRejected("hardware-profiles/engines/vllm.json", "engine", setting: ["attention", "splitKv"], to: true, mentions: ["$.attention:", "splitKv"])
        // "$schema" is allowed at the top level only, as StrictJSON has it.
        try Self.expectRejected(Self.h100, "device", setting: ["power", "$schema"], to: "x", mentions: ["$.power:"])
    }

    @Test func aWrongTypedValueIsRejected() throws {
        try Self.expectRejected(Self.h100, "device", setting: ["power", "peakWatts"], to: "700",
                                mentions: ["$.power.peakWatts: expected number, found string"])
        try Self.expectRejected(Self.quickstart, "scenario", setting: ["parallelism", "tp"], to: "2",
                                mentions: ["$.parallelism.tp: expected integer, found string"])
        try Self.expectRejected(Self.quickstart, "scenario", setting: ["parallelism", "tp"], to: 2.5, mentions: ["$.parallelism.tp"])
        try Self.expectRejected("hardware-profiles/interconnects/nvlink4.json", "interconnect", setting: ["kind"], to: "nvlink9",
                                mentions: ["$.kind: \"nvlink9\" is not one of"])
        try Self.expectRejected("data/prices/cloud-gpu-prices.json", "prices", setting: ["prices", 0, "usdPerDeviceHour"], to: 0,
                                mentions: ["$.prices[0].usdPerDeviceHour"])
    }

    @Test func anIntegralNumberCountsAsAnInteger() throws {
        // The decoders read 8.0 and 1e3 as integers; so does the validator.
        let validator = try Self.validator("device")
        let value = Self.replacing(try Self.json(Self.h100), at: ["interconnect", "devicesPerNode"], with: 8.0)!
        #expect(validator.violation(value) == nil)
    }

    @Test func rulesAcrossKeysAreChecked() throws {
        // Exactly one memory tier holds the weights (contains, maxContains).
        try Self.expectRejected(Self.h100, "device", setting: ["memoryTiers", 0, "holdsWeights"], to: true, mentions: ["$.memoryTiers:", "at most 1"])
        // A figure beyond the datasheet needs its source (if/then).
        try Self.expectRejected(Self.h100, "device", setting: ["pricePerHourUSD"], to: 2.5, mentions: ["$.sources: missing required key \"pricePerHourUSD\""])
        // Priority-class keys belong to that scheduler kind only.
        try Self.expectRejected(Self.quickstart, "scenario", setting: ["scheduler", "priorityClasses"], to: 2, mentions: ["$.scheduler.priorityClasses"])
        // A workload is exactly one of trace and generator.
        try Self.expectRejected(Self.quickstart, "scenario", setting: ["workload", "trace"], to: ["format": "csv", "path": "t.csv"], mentions: ["$.workload:"])
        // A lognormal length takes {mean, sigma} or {median, p90}, not both (oneOf).
        try Self.expectRejected(Self.quickstart, "scenario", setting: ["workload", "generator", "promptTokens", "lognormal", "mean"], to: 900,
                                mentions: ["$.workload.generator.promptTokens.lognormal"])
        // Attention mla needs its "mla" object.
        try Self.expectRejected("scenarios/models/llama-3-8b.json", "model", setting: ["attention"], to: "mla", mentions: ["missing required key \"mla\""])
        // A serving comparison's side is a whole scenario (a $ref into scenario.schema.json), one point, replaying a trace.
        let splitwise = "scenarios/comparisons/splitwise-iso-cost.json"
        try Self.expectRejected(splitwise, "serving-comparison", setting: ["system", "kvCache", "blockSise"], to: 16, mentions: ["$.system.kvCache:", "blockSise"])
        try Self.expectRejected(splitwise, "serving-comparison", setting: ["baseline", "sweep"], to: ["replicas": [1, 2]], mentions: ["$.baseline.sweep"])
        try Self.expectRejected(splitwise, "serving-comparison", setting: ["slo"], to: "ttft_p99_ms=2000", mentions: ["oneOf"])
        try Self.expectRejected("scenarios/comparisons/distserve-loose-slo.json", "serving-comparison", setting: ["slo"], to: "ttft_p99=2000",
                                mentions: ["$.slo:", "does not match"])
    }
}
