import Foundation

/// Strict JSON decoding for every file InferSim reads: profiles, scenarios, JSONL traces.
///
/// `Decodable` alone ignores keys it does not know, so a typo such as
/// `"memoryBandwithBytesPerSecond"` would silently fall back to a default. `StrictJSON.decode`
/// decodes normally, then re-encodes the value and checks that every key present in the input
/// also exists in the re-encoded value: a key the type does not model is reported with its JSON
/// path. (Keys whose value is `null` count as absent.) Decoding errors are turned into one line
/// naming the file, the JSON path, and what was expected versus found.
public enum StrictJSON {
    /// Decodes `T` from `data`, rejecting unknown keys.
    /// - Throws: `InputError` naming `file` and the JSON path.
    public static func decode<T: Codable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw InputError(file: file, "not valid JSON (\(syntaxHint(error, data: data)))")
        }
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw inputError(error, file: file)
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(file: file, "\(error)")
        }
        let reencoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        if let path = firstUnknownKey(input: raw, known: reencoded, path: "$") {
            throw InputError(file: file, location: path, "unknown key (not part of the schema; check the spelling)")
        }
        return value
    }

    /// Reads and decodes a file.
    public static func decode<T: Codable>(_ type: T.Type, contentsOf path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "file not found or not readable")
        }
        return try decode(type, from: data, file: path)
    }

    static func firstUnknownKey(input: Any, known: Any, path: String) -> String? {
        if let object = input as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let child = object[key]!
                if child is NSNull { continue }
                guard let knownChild = knownObject[key] else { return "\(path).\(key)" }
                if let found = firstUnknownKey(input: child, known: knownChild, path: "\(path).\(key)") { return found }
            }
        } else if let array = input as? [Any], let knownArray = known as? [Any] {
            for (index, element) in array.enumerated() where index < knownArray.count {
                if let found = firstUnknownKey(input: element, known: knownArray[index], path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    /// Renders a coding path as `$.a.b[3].c`.
    public static func render(_ codingPath: [any CodingKey]) -> String {
        var out = "$"
        for key in codingPath {
            if let index = key.intValue { out += "[\(index)]" } else { out += ".\(key.stringValue)" }
        }
        return out
    }

    static func inputError(_ error: DecodingError, file: String) -> InputError {
        switch error {
        case .keyNotFound(let key, let context):
            return InputError(file: file, location: render(context.codingPath + [key]), "missing required key")
        case .typeMismatch(let type, let context):
            return InputError(file: file, location: render(context.codingPath), "expected \(describe(type)); \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return InputError(file: file, location: render(context.codingPath), "expected \(describe(type)), found null")
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? InputError {
                return InputError(file: file, location: render(context.codingPath), underlying.message)
            }
            return InputError(file: file, location: render(context.codingPath), context.debugDescription)
        @unknown default:
            return InputError(file: file, "\(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return name
        }
    }

    static func syntaxHint(_ error: Error, data: Data) -> String {
        let text = "\(error)"
        if let range = text.range(of: "around line "), let end = text[range.upperBound...].firstIndex(where: { !$0.isNumber }) {
            return "syntax error near line \(text[range.upperBound..<end])"
        }
        if let range = text.range(of: "line ") {
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            if !digits.isEmpty { return "syntax error near line \(digits)" }
        }
        return "syntax error"
    }
}

extension KeyedDecodingContainer {
    /// Decodes a number that must be strictly positive, reporting the JSON path otherwise.
    public func decodePositive(_ key: Key) throws -> Double {
        let value = try decode(Double.self, forKey: key)
        guard value.isFinite, value > 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a number > 0, found \(value)")
        }
        return value
    }

    /// Decodes an integer that must be ≥ `minimum`.
    public func decodeInt(_ key: Key, atLeast minimum: Int) throws -> Int {
        let value = try decode(Int.self, forKey: key)
        guard value >= minimum else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected an integer >= \(minimum), found \(value)")
        }
        return value
    }

    /// Decodes a fraction in (0, 1].
    public func decodeFraction(_ key: Key) throws -> Double {
        let value = try decode(Double.self, forKey: key)
        guard value.isFinite, value > 0, value <= 1 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a fraction in (0, 1], found \(value)")
        }
        return value
    }
}
