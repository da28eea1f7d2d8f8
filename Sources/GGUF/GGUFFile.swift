/// A parsed GGUF v2/v3 file: header, metadata, tensor directory, and read-only access to tensor bytes.
///
/// Layout (GGUF spec, ggml/docs/gguf.md), all little-endian:
/// ```
/// magic "GGUF" (u32 0x46554747) | version u32 | tensor_count u64 | kv_count u64
/// kv_count × (key: string, value_type: u32, value)
/// tensor_count × (name: string, n_dims: u32, dims: n_dims × u64, type: u32, offset: u64)
/// padding to `general.alignment` (default 32) | tensor data (each offset relative to here, aligned)
/// ```
/// A string is a u64 byte count followed by UTF-8 bytes. Version 1 used u32 counts and is rejected.
///
/// The file is memory-mapped (read-only, private); `withData(_:_:)` hands out views into the
/// mapping that are valid inside the closure while this object lives. Parsing copies only the
/// metadata and tensor infos, so opening a 100 MB model costs a few milliseconds plus the
/// metadata (tokenizer vocabularies dominate).
public final class GGUFFile: @unchecked Sendable {
    /// 2 or 3.
    public let version: Int
    /// All key/value pairs.
    public let metadata: [String: GGUFValue]
    /// Keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32 when absent.
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// Total file size in bytes.
    public var fileSize: Int { storage.buffer.count }
    /// The path this file was opened from, or nil for in-memory bytes.
    public let path: String?

    private let storage: MappedBytes
    private let tensorIndex: [String: Int]

    /// Memory-maps and parses the file at `path`.
    /// - Throws: `GGUFError.fileNotFound`, `.cannotRead`, or `.inFile(path:, error)` wrapping a format error.
    public convenience init(path: String) throws {
        let storage = try MappedBytes(mappingFileAt: path)
        do {
            try self.init(storage: storage, path: path)
        } catch let error as GGUFError {
            throw GGUFError.inFile(path: path, error)
        }
    }

    /// Parses an in-memory copy of `bytes` (for tests and generated models).
    /// - Throws: a `GGUFError` naming the offset of the first problem.
    public convenience init(bytes: [UInt8]) throws {
        try self.init(storage: MappedBytes(copying: bytes), path: nil)
    }

    private init(storage: MappedBytes, path: String?) throws {
        self.storage = storage
        self.path = path
        let parsed = try GGUFParser.parse(storage.buffer)
        version = parsed.version
        metadata = parsed.metadata
        metadataKeys = parsed.metadataKeys
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        for (i, t) in parsed.tensors.enumerated() { index[t.name] = i }
        tensorIndex = index
    }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Calls `body` with the raw bytes of `t` (`t.byteCount` bytes, starting `alignment`-aligned
    /// relative to a page-aligned mapping). The pointer must not escape `body`.
    public func withData<R>(_ t: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(t.offset >= 0 && t.byteCount >= 0 && t.offset + t.byteCount <= storage.buffer.count,
                     "tensor \(t.name) is not from this file")
        return try body(UnsafeRawBufferPointer(rebasing: storage.buffer[t.offset ..< t.offset + t.byteCount]))
    }

    /// Calls `body` with the whole file's bytes.
    public func withFileBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(storage.buffer)
    }

    /// All elements of `t` as `Float`, in ggml order (`shape[0]` contiguous).
    /// - Throws: `GGUFError.dequantizationUnsupported` for types other than F32 F16 BF16 Q4_0 Q4_1 Q8_0 Q4_K Q6_K.
    public func dequantized(_ t: GGUFTensorInfo) throws -> [Float] {
        try withData(t) { src in
            try [Float](unsafeUninitializedCapacity: t.elementCount) { dst, count in
                try dequantize(t.type, from: src, into: dst)
                count = t.elementCount
            }
        }
    }

    /// Row `row` of `t` (`shape[0]` elements) as `Float`.
    public func dequantizedRow(_ t: GGUFTensorInfo, row: Int) throws -> [Float] {
        precondition(row >= 0 && row < t.rowCount, "row \(row) out of range 0..<\(t.rowCount) for \(t.name)")
        let rowBytes = t.rowByteCount
        return try withData(t) { src in
            let slice = UnsafeRawBufferPointer(rebasing: src[row * rowBytes ..< (row + 1) * rowBytes])
            return try [Float](unsafeUninitializedCapacity: t.rowElements) { dst, count in
                try dequantize(t.type, from: slice, into: dst)
                count = t.rowElements
            }
        }
    }
}
