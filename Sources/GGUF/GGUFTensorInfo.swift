/// Where one tensor lives in a GGUF file and how it is encoded.
///
/// `shape` is in ggml order: `shape[0]` is the contiguous (fastest-varying)
/// dimension. A weight matrix `W` used as `y = W x` with `x` of length `n` and
/// `y` of length `m` is stored with `shape == [n, m]`: `m` rows of `n` elements.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order, `shape[0]` contiguous.
    public let shape: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the first element in the file.
    public let offset: Int
    /// Bytes occupied: `elementCount / type.blockElements × type.blockBytes`.
    public let byteCount: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int, byteCount: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Product of the dimensions.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Elements per row: `shape[0]`.
    public var rowElements: Int { shape.first ?? 1 }

    /// Number of rows: the product of `shape[1...]` (1 for a vector).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }

    /// Bytes per row: `shape[0] / blockElements × blockBytes`.
    public var rowByteCount: Int { rowElements / type.blockElements * type.blockBytes }
}
