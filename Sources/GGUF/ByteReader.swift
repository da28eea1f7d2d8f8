/// A bounds-checked little-endian cursor over raw bytes.
///
/// Every read checks that the bytes exist first and throws
/// `GGUFError.unexpectedEndOfFile(offset:needed:)` otherwise. Multi-byte values
/// are copied with `loadUnaligned` and converted from little-endian, so neither
/// the host's byte order nor the offset's alignment matters.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int) throws(GGUFError) {
        if count < 0 || count > remaining {
            throw .unexpectedEndOfFile(offset: offset, needed: count)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        try require(size)
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    mutating func readFloat32() throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self))
    }

    mutating func readFloat64() throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self))
    }

    /// A GGUF string: u64 byte length, then that many UTF-8 bytes (no terminator).
    mutating func readString() throws(GGUFError) -> String {
        let start = offset
        let length: UInt64 = try read()
        guard length <= UInt64(remaining) else {
            throw .unexpectedEndOfFile(offset: offset, needed: length > UInt64(Int.max) ? Int.max : Int(length))
        }
        let count = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw .invalidString(offset: start)
        }
        offset += count
        return string
    }

    /// Advances to the next multiple of `alignment` (a power of two).
    mutating func align(to alignment: Int) throws(GGUFError) {
        let padding = (alignment - offset % alignment) % alignment
        try require(padding)
        offset += padding
    }
}
