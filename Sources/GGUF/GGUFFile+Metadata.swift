/// Typed metadata look-ups that throw errors naming the key.
extension GGUFFile {
    /// `metadata[key]` as `Int`.
    /// - Throws: `GGUFError.missingKey` or `.typeMismatch(key:expected:"integer",found:)`.
    public func requiredInt(_ key: String) throws -> Int {
        let value = try requiredValue(key)
        guard let i = value.int else { throw GGUFError.typeMismatch(key: key, expected: "integer", found: value.typeName) }
        return i
    }

    /// `metadata[key]` (float or integer) as `Double`.
    public func requiredDouble(_ key: String) throws -> Double {
        let value = try requiredValue(key)
        guard let d = value.double else { throw GGUFError.typeMismatch(key: key, expected: "number", found: value.typeName) }
        return d
    }

    /// `metadata[key]` as `String`.
    public func requiredString(_ key: String) throws -> String {
        let value = try requiredValue(key)
        guard let s = value.string else { throw GGUFError.typeMismatch(key: key, expected: "string", found: value.typeName) }
        return s
    }

    /// `metadata[key]` as `[String]`.
    public func requiredStringArray(_ key: String) throws -> [String] {
        let value = try requiredValue(key)
        guard let s = value.stringArray else { throw GGUFError.typeMismatch(key: key, expected: "array of strings", found: value.typeName) }
        return s
    }

    /// `metadata[key]`, or `.missingKey`.
    public func requiredValue(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw GGUFError.missingKey(key) }
        return value
    }

    /// `general.architecture`, e.g. "llama".
    public var architecture: String? { metadata["general.architecture"]?.string }
}
