import Foundation
import GGUF

/// Builds GGUF v3 files in memory: metadata of any value type and tensors quantized from `[Float]`.
///
/// Layout written: header (magic, version, tensor count, kv count), key/value pairs in insertion
/// order, tensor infos, zero padding to `alignment`, then each tensor's data at an offset that is
/// a multiple of `alignment` (relative to the data section), each padded to `alignment`.
/// When `alignment` is not 32 a `general.alignment` (u32) key is written unless one was added.
public struct TinyGGUFWriter: Sendable {
    public struct Tensor: Sendable {
        public var name: String
        /// ggml order, `shape[0]` contiguous.
        public var shape: [Int]
        public var typeCode: UInt32
        public var data: [UInt8]
    }

    public var version: UInt32
    public var alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [Tensor] = []

    public init(version: UInt32 = 3, alignment: Int = 32) {
        self.version = version
        self.alignment = alignment
    }

    /// Adds (or, for tests of duplicate keys, re-adds) a metadata pair.
    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    /// Adds a tensor, quantizing `values` (ggml order, `shape[0]` contiguous) to `type`.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        tensors.append(Tensor(name: name, shape: shape, typeCode: type.rawValue, data: Quantizer.quantize(values, as: type)))
    }

    /// Adds a tensor with raw bytes and any type code (for malformed-file tests).
    public mutating func addRawTensor(name: String, shape: [Int], typeCode: UInt32, data: [UInt8]) {
        tensors.append(Tensor(name: name, shape: shape, typeCode: typeCode, data: data))
    }

    /// Offsets of tensor data relative to the data section.
    public var relativeOffsets: [Int] {
        var offsets: [Int] = []
        var next = 0
        for t in tensors {
            offsets.append(next)
            next += t.data.count
            next += (alignment - next % alignment) % alignment
        }
        return offsets
    }

    /// The complete file.
    public func bytes() -> [UInt8] {
        var pairs = metadata
        if alignment != 32, !pairs.contains(where: { $0.key == "general.alignment" }) {
            pairs.insert(("general.alignment", .uint32(UInt32(alignment))), at: 0)
        }
        var w = ByteWriter()
        w.write(UInt32(0x4655_4747))
        w.write(version)
        w.write(UInt64(tensors.count))
        w.write(UInt64(pairs.count))
        for (key, value) in pairs {
            w.writeString(key)
            w.write(value.typeCode)
            w.writeValue(value)
        }
        let offsets = relativeOffsets
        for (t, offset) in zip(tensors, offsets) {
            w.writeString(t.name)
            w.write(UInt32(t.shape.count))
            for d in t.shape { w.write(UInt64(d)) }
            w.write(t.typeCode)
            w.write(UInt64(offset))
        }
        if !tensors.isEmpty { w.pad(to: alignment) }
        for t in tensors {
            w.append(t.data)
            w.pad(to: alignment)
        }
        return w.bytes
    }

    /// Writes `bytes()` to `path`.
    public func write(to path: String) throws {
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
    }
}
