import Foundation

/// Strict JSON decoding for every file InferSim reads: profiles, scenarios, JSONL traces.
///
/// `Decodable` alone ignores keys it does not know, so a typo such as
/// `"memoryBandwithBytesPerSecond"` would silently fall back to a default. `StrictJSON.decode`
/// decodes normally, then re-encodes the value and checks that every key present in the input
/// also exists in the re-encoded value: a key the type does not model is reported with its JSON
/// path. (Keys whose value is `null` count as absent, and a root `"$schema"` string, which names
/// the file's JSON Schema for editors, is allowed everywhere.) Decoding errors are turned into one line
/// naming the file, the JSON path, and what was expected versus found.
public enum StrictJSON {
    /// Decodes `T` from `data`, rejecting unknown keys.
    /// - Throws: `InputError` naming `file` and the JSON path.
    public static func decode<T: Codable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        try JSONSyntax.check(data, file: file)
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            // The syntax passed JSONSyntax: what is left is, e.g., text that is not UTF-8.
            throw InputError(file: file, "not valid JSON (\(syntaxHint(error, data: data)))")
        }
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw inputError(error, file: file, raw: raw, type: T.self)
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(file: file, "\(error)")
        }
        let reencoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        if let (path, key, siblings) = firstUnknownKey(input: raw, known: reencoded, path: "$") {
            let hint = NearestName.suggestion(for: key, among: siblings).map { "; did you mean \"\($0)\"?" } ?? "; check the spelling"
            throw InputError(file: file, jsonPath: path, "unknown key (not part of the schema\(hint))")
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

    /// The path of the first key in `input` that `known` lacks, the key, and the keys `known`
    /// has at that level (for a suggestion).
    static func firstUnknownKey(input: Any, known: Any, path: String) -> (String, String, [String])? {
        if let object = input as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let child = object[key]!
                if child is NSNull { continue }
                // The editor's pointer to the file's JSON Schema (schemas/), at the root only.
                if path == "$", key == "$schema", child is String { continue }
                guard let knownChild = knownObject[key] else { return ("\(path).\(key)", key, knownObject.keys.sorted()) }
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
        inputError(error, file: file, raw: nil, type: nil)
    }

    /// Maps a decoding error to one line naming the JSON path, what was expected and what was
    /// found. `raw` (the input as `JSONSerialization` read it) supplies the value found; with it
    /// and `type`, the decoder's pathless "not valid JSON" error for a number the target integer
    /// type cannot hold (`-1` for an unsigned field, `2.5` or `1e30` for an integer) is traced
    /// back to its path.
    static func inputError(_ error: DecodingError, file: String, raw: Any?, type: (any Decodable.Type)?) -> InputError {
        switch error {
        case .keyNotFound(let key, let context):
            // A misspelled required key shows up as a missing one: name the near miss found beside it.
            let present = (raw.flatMap { value(at: context.codingPath, in: $0) } as? [String: Any]).map { Array($0.keys).sorted() } ?? []
            let nearMiss = present.first { $0 != key.stringValue && NearestName.suggestion(for: $0, among: [key.stringValue]) != nil }
            return InputError(file: file, jsonPath: render(context.codingPath + [key]),
                              "missing required key" + (nearMiss.map { " (found \"\($0)\": a misspelling of \"\(key.stringValue)\"?)" } ?? ""))
        case .typeMismatch(let expected, let context):
            let found = raw.flatMap { value(at: context.codingPath, in: $0) }.map(describeFound)
            return InputError(file: file, jsonPath: render(context.codingPath),
                              "expected \(describe(expected)), found \(found ?? mismatchNoun(context.debugDescription))")
        case .valueNotFound(let type, let context):
            return InputError(file: file, jsonPath: render(context.codingPath), "expected \(describe(type)), found null")
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? InputError {
                return InputError(file: file, jsonPath: render(context.codingPath), underlying.message)
            }
            if context.codingPath.isEmpty, context.underlyingError == nil, let raw, let type {
                if let located = locateUnrepresentableNumber(raw: raw, type: type, file: file) { return located }
                if context.debugDescription.contains("not valid JSON") {
                    // The input parsed, so this is the decoder's pathless number error.
                    return InputError(file: file, jsonPath: "$",
                                      "a number does not fit the type expected at its key (a negative or fractional number where a non-negative integer is expected?)")
                }
            }
            return InputError(file: file, jsonPath: render(context.codingPath), context.debugDescription)
        @unknown default:
            return InputError(file: file, "\(error)")
        }
    }

    /// A path step in the raw JSON tree.
    enum Step { case key(String), index(Int) }

    /// Finds the number that made `JSONDecoder` give up without a path: each number in the
    /// input is replaced, in document order, by a string; when decoding then fails with a type
    /// mismatch for an integer at that number's own path, that number is the culprit (the
    /// decoder reached it and wanted an integer). Only runs on the error path; scenario and
    /// profile files hold at most a few hundred numbers.
    static func locateUnrepresentableNumber<T: Decodable>(raw: Any, type: T.Type, file: String) -> InputError? {
        var numbers: [([Step], NSNumber)] = []
        collectNumbers(raw, path: [], into: &numbers)
        // Numbers no integer type takes come first: they are the likely culprits.
        func suspicious(_ n: NSNumber) -> Bool {
            let d = n.doubleValue
            return d < 0 || d != d.rounded() || abs(d) >= 9.2e18
        }
        let ordered = numbers.filter { suspicious($0.1) } + numbers.filter { !suspicious($0.1) }
        for (path, number) in ordered.prefix(2000) {
            let probe = replacing(raw, at: path[...], with: "\u{1}infersim-probe")
            guard let data = try? JSONSerialization.data(withJSONObject: probe, options: [.fragmentsAllowed]) else { continue }
            do {
                _ = try JSONDecoder().decode(T.self, from: data)
            } catch DecodingError.typeMismatch(let expected, let context) {
                guard render(context.codingPath) == render(path), let integer = describeInteger(expected),
                      !fits(number, in: expected) else { continue }
                return InputError(file: file, jsonPath: render(path), "expected \(integer), found \(numberText(number))")
            } catch {
                continue
            }
        }
        return nil
    }

    static func collectNumbers(_ value: Any, path: [Step], into numbers: inout [([Step], NSNumber)]) {
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() { collectNumbers(object[key]!, path: path + [.key(key)], into: &numbers) }
        } else if let array = value as? [Any] {
            for (i, element) in array.enumerated() { collectNumbers(element, path: path + [.index(i)], into: &numbers) }
        } else if let number = value as? NSNumber, !isBool(number) {
            numbers.append((path, number))
        }
    }

    static func replacing(_ value: Any, at path: ArraySlice<Step>, with replacement: Any) -> Any {
        guard let step = path.first else { return replacement }
        switch step {
        case .key(let key):
            guard var object = value as? [String: Any], let child = object[key] else { return value }
            object[key] = replacing(child, at: path.dropFirst(), with: replacement)
            return object
        case .index(let i):
            guard var array = value as? [Any], array.indices.contains(i) else { return value }
            array[i] = replacing(array[i], at: path.dropFirst(), with: replacement)
            return array
        }
    }

    static func render(_ path: [Step]) -> String {
        var out = "$"
        for step in path {
            switch step {
            case .key(let k): out += ".\(k)"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// The raw value at a decoder's coding path, or nil if the path does not lead to one.
    static func value(at codingPath: [any CodingKey], in raw: Any) -> Any? {
        var current = raw
        for key in codingPath {
            if let object = current as? [String: Any], let child = object[key.stringValue] {
                current = child
            } else if let index = key.intValue, let array = current as? [Any], array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    static func isBool(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c" || String(describing: type(of: n)).contains("Boolean")
    }

    /// A number as it would be written back: integers without a fraction, others in Swift's shortest form.
    static func numberText(_ n: NSNumber) -> String {
        let type = String(cString: n.objCType)
        if type != "d" && type != "f" { return "\(n.int64Value)" }
        let d = n.doubleValue
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// What was found, for a message: a number or boolean as written, a string quoted
    /// (shortened past 40 characters), or the kind of container.
    public static func describeFound(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let n as NSNumber: return isBool(n) ? (n.boolValue ? "true" : "false") : numberText(n)
        case let s as String:
            let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "the string " + JSONText.quoted(shown)
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(value)"
        }
    }

    /// "Expected to decode Int but found a string instead." → "a string".
    static func mismatchNoun(_ debugDescription: String) -> String {
        if let range = debugDescription.range(of: "but found ") {
            var rest = String(debugDescription[range.upperBound...])
            if rest.hasSuffix(" instead.") { rest.removeLast(" instead.".count) }
            return rest
        }
        return debugDescription
    }

    /// Whether `n` is a whole number within the range of the integer type `type` (so it cannot
    /// be what the decoder choked on).
    static func fits(_ n: NSNumber, in type: Any.Type) -> Bool {
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded() else { return false }
        switch type {
        case is UInt64.Type, is UInt.Type: return d >= 0 && d < 18_446_744_073_709_551_616.0
        case is UInt32.Type: return d >= 0 && d <= Double(UInt32.max)
        case is UInt16.Type: return d >= 0 && d <= Double(UInt16.max)
        case is UInt8.Type: return d >= 0 && d <= Double(UInt8.max)
        case is Int32.Type: return d >= Double(Int32.min) && d <= Double(Int32.max)
        case is Int16.Type: return d >= Double(Int16.min) && d <= Double(Int16.max)
        case is Int8.Type: return d >= Double(Int8.min) && d <= Double(Int8.max)
        default: return d >= -9_223_372_036_854_775_808.0 && d < 9_223_372_036_854_775_808.0
        }
    }

    /// The integer types' wording, or nil for a non-integer type.
    static func describeInteger(_ type: Any.Type) -> String? {
        switch type {
        case is UInt64.Type, is UInt.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type: return "a non-negative integer"
        case is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type, is Int8.Type: return "an integer"
        default: return nil
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is UInt64.Type, is UInt.Type, is UInt32.Type: return "a non-negative integer"
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
    /// Decodes a name from a closed list (an enum), and on a miss lists every known name, so
    /// `"kind": "chunked"` fails with `unknown value "chunked"; known: staticBatching, …`.
    public func decodeKnown<T: RawRepresentable & CaseIterable>(_ type: T.Type, forKey key: Key) throws -> T where T.RawValue == String {
        let raw = try decode(String.self, forKey: key)
        guard let value = T(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription:
                NearestName.unknown(raw, what: "value", known: T.allCases.map(\.rawValue)))
        }
        return value
    }

    /// The largest physical quantity any profile or scenario states (bytes, bytes/s, FLOP/s,
    /// watts, seconds): 1e21. Larger values are refused where they are read, so that sums and
    /// products of a few of them stay finite.
    public static var largestQuantity: Double { 1e21 }

    /// Decodes a number that must be strictly positive and at most `maximum`, reporting the JSON
    /// path otherwise.
    public func decodePositive(_ key: Key, atMost maximum: Double = KeyedDecodingContainer.largestQuantity) throws -> Double {
        let value = try decode(Double.self, forKey: key)
        guard value.isFinite, value > 0, value <= maximum else {
            let expected = value > 0 ? "a number in (0, \(JSONText.shortNumber(maximum))]" : "a number > 0"
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected \(expected), found \(JSONText.shortNumber(value))")
        }
        return value
    }

    /// The default ceiling of integer fields: 2^40, far above any count a profile or scenario
    /// holds, so that products of a few stay inside Int.
    public static var largestCount: Int { 1 << 40 }

    /// Decodes an integer in `minimum...maximum`.
    public func decodeInt(_ key: Key, atLeast minimum: Int, atMost maximum: Int = KeyedDecodingContainer.largestCount) throws -> Int {
        let value = try decode(Int.self, forKey: key)
        guard value >= minimum, value <= maximum else {
            let expected = value > maximum ? "an integer in \(minimum)...\(maximum)" : "an integer >= \(minimum)"
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected \(expected), found \(value)")
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
