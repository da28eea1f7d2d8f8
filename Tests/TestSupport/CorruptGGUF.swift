import GGUF

/// Deliberately broken GGUF files for error-path tests.
public enum CorruptGGUF {
    /// The first `length` bytes of `bytes`.
    public static func truncated(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        Array(bytes.prefix(length))
    }

    /// `bytes` with the four magic bytes replaced by `magic` (little-endian).
    public static func withMagic(_ bytes: [UInt8], _ magic: UInt32) -> [UInt8] {
        var out = bytes
        for i in 0 ..< 4 { out[i] = UInt8(truncatingIfNeeded: magic >> (8 * i)) }
        return out
    }

    /// `bytes` with the version field replaced.
    public static func withVersion(_ bytes: [UInt8], _ version: UInt32) -> [UInt8] {
        var out = bytes
        for i in 0 ..< 4 { out[4 + i] = UInt8(truncatingIfNeeded: version >> (8 * i)) }
        return out
    }

    /// A v3 file with one metadata pair whose value type code is `code` (followed by 8 zero bytes).
    /// Returns the bytes and the offset of the type code.
    public static func unknownValueType(code: UInt32 = 13, key: String = "bad.key") -> (bytes: [UInt8], codeOffset: Int) {
        var w = ByteWriter()
        w.write(UInt32(0x4655_4747))
        w.write(UInt32(3))
        w.write(UInt64(0))
        w.write(UInt64(1))
        w.writeString(key)
        let offset = w.bytes.count
        w.write(code)
        w.write(UInt64(0))
        return (w.bytes, offset)
    }

    /// A v1-style header (u32 counts), which readers must reject by version.
    public static func version1Header() -> [UInt8] {
        var w = ByteWriter()
        w.write(UInt32(0x4655_4747))
        w.write(UInt32(1))
        w.write(UInt32(0))
        w.write(UInt32(0))
        return w.bytes
    }
}
