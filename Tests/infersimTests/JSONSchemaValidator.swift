import Foundation

/// The subset of JSON Schema (draft 2020-12) that `schemas/*.schema.json` use: `type` (one or
/// several), `properties`, `required`, `additionalProperties` (a boolean or a schema), `items`,
/// `enum`, `anyOf` and `$ref` to `#/$defs/NAME`. Returns the first violation as
/// `$.path: what`, or nil.
struct JSONSchemaValidator {
    let root: [String: Any]

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        root = object
    }

    func violation(_ value: Any) -> String? { check(value, root, "$") }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/$defs/"),
              let defs = root["$defs"] as? [String: Any],
              let target = defs[String(ref.dropFirst("#/$defs/".count))] as? [String: Any] else { return schema }
        return target
    }

    private static func typeName(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if String(describing: type(of: v)).contains("Boolean") { return "boolean" }
        if let n = v as? NSNumber {
            let code = String(cString: n.objCType)
            return code == "d" || code == "f" ? "number" : "integer"
        }
        if v is String { return "string" }
        if v is [Any] { return "array" }
        if v is [String: Any] { return "object" }
        return "unknown"
    }

    private func check(_ value: Any, _ rawSchema: [String: Any], _ path: String) -> String? {
        let schema = resolve(rawSchema)
        if let options = schema["anyOf"] as? [[String: Any]] {
            let failures = options.compactMap { check(value, $0, path) }
            if failures.count == options.count { return failures.first.map { "no anyOf branch matches (\($0))" } ?? "no anyOf branch" }
        }
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [type as? String ?? ""]
            let actual = Self.typeName(value)
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { return "\(path): expected \(allowed.joined(separator: " or ")), found \(actual)" }
        }
        if let options = schema["enum"] as? [Any], let s = value as? String,
           !options.contains(where: { ($0 as? String) == s }) {
            return "\(path): \"\(s)\" is not one of \(options)"
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                return "\(path): missing required key \"\(key)\""
            }
            for key in object.keys.sorted() {
                if let sub = properties[key] as? [String: Any] {
                    if let v = check(object[key]!, sub, "\(path).\(key)") { return v }
                } else if let additional = schema["additionalProperties"] {
                    if let allowed = additional as? Bool, !allowed, schema["properties"] != nil {
                        return "\(path): key \"\(key)\" is not in the schema"
                    }
                    if let sub = additional as? [String: Any], let v = check(object[key]!, sub, "\(path).\(key)") { return v }
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, element) in array.enumerated() {
                if let v = check(element, items, "\(path)[\(i)]") { return v }
            }
        }
        return nil
    }
}
