import Foundation

/// The subset of JSON Schema (draft 2020-12) that `schemas/*.schema.json` use, for the tests
/// that hold command output and the repository's data files to their schemas:
///
/// - `$ref` to a JSON pointer in the same schema (`#/$defs/NAME`), to another schema file beside
///   it (`scenario.schema.json`) or into one (`scenario.schema.json#/$defs/NAME`); the keywords
///   beside a `$ref` apply too;
/// - `type` (one or several; an integral number such as `8.0` or `1e3` counts as an integer, as
///   the decoders read it), `enum`, `const`;
/// - objects: `properties`, `required`, `additionalProperties` (a boolean or a schema),
///   `propertyNames`, `minProperties`, `maxProperties`;
/// - arrays: `items`, `minItems`, `maxItems`, `contains` with `minContains` and `maxContains`;
/// - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`;
/// - strings: `minLength`, `maxLength`, `pattern`;
/// - `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, and the boolean schemas `true` and `false`.
///
/// Annotations (`title`, `description`, `$schema`, `$id`) are ignored. Returns the first
/// violation as `$.path: what`, or nil.
struct JSONSchemaValidator {
    let root: [String: Any]
    /// The schema files that `$ref`s name, by the name written in the `$ref`, read from the
    /// directory of the root schema.
    private let files: [String: [String: Any]]

    init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        root = try Self.load(URL(fileURLWithPath: path))
        var files: [String: [String: Any]] = [:]
        var pending = Self.fileReferences(in: root)
        while let name = pending.popLast() {
            guard files[name] == nil else { continue }
            let document = try Self.load(directory.appendingPathComponent(name))
            files[name] = document
            pending += Self.fileReferences(in: document)
        }
        self.files = files
    }

    func violation(_ value: Any) -> String? { check(value, root, in: root, at: "$") }

    private static func load(_ url: URL) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }

    /// The file part of every `$ref` in `schema` that names another file.
    private static func fileReferences(in schema: Any) -> [String] {
        if let object = schema as? [String: Any] {
            var names: [String] = []
            if let ref = object["$ref"] as? String, let file = ref.split(separator: "#", omittingEmptySubsequences: false).first, !file.isEmpty {
                names.append(String(file))
            }
            for (key, child) in object where key != "enum" && key != "const" { names += fileReferences(in: child) }
            return names
        }
        if let array = schema as? [Any] { return array.flatMap { fileReferences(in: $0) } }
        return []
    }

    /// The schema a `$ref` points to and the document it lives in (for the `$ref`s inside it).
    private func resolve(_ ref: String, in document: [String: Any]) -> (schema: Any, document: [String: Any])? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let file = parts.first.map(String.init) ?? ""
        guard let target = file.isEmpty ? document : files[file] else { return nil }
        var node: Any = target
        for token in (parts.count > 1 ? parts[1] : "").split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = node as? [String: Any], let next = object[key] {
                node = next
            } else if let array = node as? [Any], let index = Int(key), array.indices.contains(index) {
                node = array[index]
            } else {
                return nil
            }
        }
        return (node, target)
    }

    // MARK: - JSON values

    private static func isBoolean(_ v: Any) -> Bool {
        type(of: v) == Bool.self || String(describing: type(of: v)).contains("Boolean")
    }

    /// A number that is not a boolean, as a double.
    private static func number(_ v: Any?) -> Double? {
        guard let v, !isBoolean(v), let n = v as? NSNumber else { return nil }
        return n.doubleValue
    }

    private static func typeName(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if isBoolean(v) { return "boolean" }
        if v is String { return "string" }
        if let n = v as? NSNumber {
            let code = String(cString: n.objCType)
            return code == "d" || code == "f" ? "number" : "integer"
        }
        if v is [Any] { return "array" }
        if v is [String: Any] { return "object" }
        return "unknown"
    }

    private static func isIntegral(_ v: Any) -> Bool {
        guard let d = number(v) else { return false }
        return d.isFinite && d == d.rounded()
    }

    /// JSON equality: numbers by value (1 == 1.0), booleans apart from numbers, containers deeply.
    private static func equal(_ a: Any, _ b: Any) -> Bool {
        if a is NSNull || b is NSNull { return a is NSNull && b is NSNull }
        if isBoolean(a) || isBoolean(b) {
            guard isBoolean(a), isBoolean(b), let x = a as? Bool, let y = b as? Bool else { return false }
            return x == y
        }
        if let x = number(a), let y = number(b) { return x == y }
        if let x = a as? String, let y = b as? String { return x == y }
        if let x = a as? [Any], let y = b as? [Any] {
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        }
        if let x = a as? [String: Any], let y = b as? [String: Any] {
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        }
        return false
    }

    /// A value as a message shows it.
    private static func show(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if isBoolean(v) { return (v as? Bool) == true ? "true" : "false" }
        if let s = v as? String { return "\"\(s)\"" }
        if let d = number(v) { return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }
        if v is [Any] { return "an array" }
        return "an object"
    }

    // MARK: - Validation

    private func check(_ value: Any, _ rawSchema: Any, in document: [String: Any], at path: String) -> String? {
        if Self.isBoolean(rawSchema) { return (rawSchema as? Bool) == true ? nil : "\(path): not allowed here" }
        guard let schema = rawSchema as? [String: Any] else { return nil }
        if let ref = schema["$ref"] as? String {
            guard let resolved = resolve(ref, in: document) else { return "\(path): the schema's $ref \(ref) does not resolve" }
            if let v = check(value, resolved.schema, in: resolved.document, at: path) { return v }
        }
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [type as? String ?? ""]
            let actual = Self.typeName(value)
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
                || (actual == "number" && allowed.contains("integer") && Self.isIntegral(value))
            if !ok { return "\(path): expected \(allowed.joined(separator: " or ")), found \(actual)" }
        }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) {
            return "\(path): \(Self.show(value)) is not one of \(options.map(Self.show).joined(separator: ", "))"
        }
        if let constant = schema["const"], !Self.equal(constant, value) {
            return "\(path): expected \(Self.show(constant)), found \(Self.show(value))"
        }
        if let n = Self.number(value) {
            if let m = Self.number(schema["minimum"]), !(n >= m) { return "\(path): expected a number >= \(Self.show(m)), found \(Self.show(n))" }
            if let m = Self.number(schema["maximum"]), !(n <= m) { return "\(path): expected a number <= \(Self.show(m)), found \(Self.show(n))" }
            if let m = Self.number(schema["exclusiveMinimum"]), !(n > m) { return "\(path): expected a number > \(Self.show(m)), found \(Self.show(n))" }
            if let m = Self.number(schema["exclusiveMaximum"]), !(n < m) { return "\(path): expected a number < \(Self.show(m)), found \(Self.show(n))" }
        }
        if let s = value as? String, let v = checkString(s, schema, at: path) { return v }
        if let object = value as? [String: Any], let v = checkObject(object, schema, in: document, at: path) { return v }
        if let array = value as? [Any], let v = checkArray(array, schema, in: document, at: path) { return v }
        return checkCombinators(value, schema, in: document, at: path)
    }

    private func checkCombinators(_ value: Any, _ schema: [String: Any], in document: [String: Any], at path: String) -> String? {
        for sub in schema["allOf"] as? [Any] ?? [] {
            if let v = check(value, sub, in: document, at: path) { return v }
        }
        if let options = schema["anyOf"] as? [Any] {
            let failures = options.compactMap { check(value, $0, in: document, at: path) }
            if failures.count == options.count { return failures.first.map { "no anyOf branch matches (\($0))" } ?? "\(path): no anyOf branch" }
        }
        if let options = schema["oneOf"] as? [Any] {
            let failures = options.compactMap { check(value, $0, in: document, at: path) }
            let matches = options.count - failures.count
            if matches == 0 { return failures.first.map { "no oneOf branch matches (\($0))" } ?? "\(path): no oneOf branch" }
            if matches > 1 { return "\(path): matches \(matches) oneOf branches, expected exactly one" }
        }
        if let forbidden = schema["not"], check(value, forbidden, in: document, at: path) == nil {
            return "\(path): matches a schema it must not match (\(Self.describe(forbidden)))"
        }
        if let condition = schema["if"] {
            let branch = check(value, condition, in: document, at: path) == nil ? schema["then"] : schema["else"]
            if let branch, let v = check(value, branch, in: document, at: path) { return v }
        }
        return nil
    }

    /// A short account of a `not` schema, for its message.
    private static func describe(_ schema: Any) -> String {
        if let object = schema as? [String: Any] {
            if let required = object["required"] as? [String], object.count == 1 { return "has \(required.joined(separator: ", "))" }
            if let constant = object["const"], object.count == 1 { return "is \(show(constant))" }
        }
        return "a forbidden combination"
    }

    private func checkString(_ s: String, _ schema: [String: Any], at path: String) -> String? {
        let length = s.unicodeScalars.count
        if let m = Self.number(schema["minLength"]), Double(length) < m { return "\(path): expected at least \(Self.show(m)) characters, found \(length)" }
        if let m = Self.number(schema["maxLength"]), Double(length) > m { return "\(path): expected at most \(Self.show(m)) characters, found \(length)" }
        if let pattern = schema["pattern"] as? String {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return "\(path): the schema's pattern \(pattern) does not compile" }
            if regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil {
                return "\(path): \(Self.show(s)) does not match \(pattern)"
            }
        }
        return nil
    }

    private func checkObject(_ object: [String: Any], _ schema: [String: Any], in document: [String: Any], at path: String) -> String? {
        for key in schema["required"] as? [String] ?? [] where object[key] == nil {
            return "\(path): missing required key \"\(key)\""
        }
        if let m = Self.number(schema["minProperties"]), Double(object.count) < m { return "\(path): expected at least \(Self.show(m)) keys, found \(object.count)" }
        if let m = Self.number(schema["maxProperties"]), Double(object.count) > m {
            return "\(path): expected at most \(Self.show(m)) keys, found \(object.count) (\(object.keys.sorted().joined(separator: ", ")))"
        }
        let properties = schema["properties"] as? [String: Any] ?? [:]
        for key in object.keys.sorted() {
            let child = object[key]!
            if let names = schema["propertyNames"], let v = check(key, names, in: document, at: "\(path).\(key)") { return v }
            if let sub = properties[key] {
                if let v = check(child, sub, in: document, at: "\(path).\(key)") { return v }
            } else if let additional = schema["additionalProperties"] {
                if Self.isBoolean(additional) {
                    if (additional as? Bool) != true { return "\(path): key \"\(key)\" is not in the schema" }
                } else if let v = check(child, additional, in: document, at: "\(path).\(key)") {
                    return v
                }
            }
        }
        return nil
    }

    private func checkArray(_ array: [Any], _ schema: [String: Any], in document: [String: Any], at path: String) -> String? {
        if let m = Self.number(schema["minItems"]), Double(array.count) < m { return "\(path): expected at least \(Self.show(m)) items, found \(array.count)" }
        if let m = Self.number(schema["maxItems"]), Double(array.count) > m { return "\(path): expected at most \(Self.show(m)) items, found \(array.count)" }
        if let items = schema["items"] {
            for (i, element) in array.enumerated() {
                if let v = check(element, items, in: document, at: "\(path)[\(i)]") { return v }
            }
        }
        if let contains = schema["contains"] {
            let matches = array.enumerated().filter { check($0.element, contains, in: document, at: "\(path)[\($0.offset)]") == nil }.count
            let least = Self.number(schema["minContains"]) ?? 1
            if Double(matches) < least { return "\(path): expected at least \(Self.show(least)) item(s) matching its \"contains\" schema, found \(matches)" }
            if let most = Self.number(schema["maxContains"]), Double(matches) > most {
                return "\(path): expected at most \(Self.show(most)) item(s) matching its \"contains\" schema, found \(matches)"
            }
        }
        return nil
    }
}
