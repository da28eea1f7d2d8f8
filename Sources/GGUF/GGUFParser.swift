/// The header/metadata/tensor-info parser behind `GGUFFile`. Pure: bytes in, values out.
enum GGUFParser {
    /// "GGUF" read as a little-endian u32.
    static let magic: UInt32 = 0x4655_4747
    static let defaultAlignment = 32
    static let maxArrayNesting = 8
    static let maxDimensions = 4

    struct Parsed {
        var version: Int
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(GGUFError) -> Parsed {
        var reader = ByteReader(bytes)
        let foundMagic: UInt32 = try reader.read()
        guard foundMagic == magic else { throw .badMagic(found: foundMagic) }
        let version = Int(try reader.read(UInt32.self))
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        let tensorCountOffset = reader.offset
        let tensorCount: UInt64 = try reader.read()
        let kvCountOffset = reader.offset
        let kvCount: UInt64 = try reader.read()
        // Each kv pair takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 4 + 8.
        guard kvCount <= UInt64(reader.remaining / 13) else {
            throw .implausibleCount(offset: kvCountOffset, what: "metadata key/value", count: kvCount)
        }
        guard tensorCount <= UInt64(reader.remaining / 24) else {
            throw .implausibleCount(offset: tensorCountOffset, what: "tensor", count: tensorCount)
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(Int(kvCount))
        keys.reserveCapacity(Int(kvCount))
        for _ in 0 ..< kvCount {
            let key = try reader.readString()
            let typeOffset = reader.offset
            let code: UInt32 = try reader.read()
            let value = try readValue(code: code, codeOffset: typeOffset, reader: &reader, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
            keys.append(key)
        }

        var alignment = defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a & (a - 1) == 0 else {
                throw .invalidAlignment(found: "\(value)")
            }
            alignment = a
        }

        struct RawInfo { var name: String; var shape: [Int]; var type: GGMLType; var relativeOffset: UInt64; var byteCount: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(Int(tensorCount))
        var seen = Set<String>()
        for _ in 0 ..< tensorCount {
            let name = try reader.readString()
            guard seen.insert(name).inserted else { throw .duplicateTensor(name) }
            let nDims: UInt32 = try reader.read()
            guard nDims >= 1, nDims <= UInt32(maxDimensions) else {
                throw .invalidShape(name: name, shape: [], reason: "n_dims is \(nDims), expected 1...\(maxDimensions)")
            }
            var dims: [UInt64] = []
            for _ in 0 ..< nDims { dims.append(try reader.read()) }
            let typeCode: UInt32 = try reader.read()
            let relativeOffset: UInt64 = try reader.read()
            guard let type = GGMLType(rawValue: typeCode) else {
                throw .unsupportedTensorType(name: name, typeCode: typeCode)
            }
            var shape: [Int] = []
            var elements = 1
            for d in dims {
                guard d >= 1, d <= UInt64(Int32.max) else {
                    throw .invalidShape(name: name, shape: dims, reason: "dimension \(d) is outside 1...\(Int32.max)")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(d))
                guard !overflow else { throw .invalidShape(name: name, shape: dims, reason: "element count overflows") }
                elements = product
                shape.append(Int(d))
            }
            guard shape[0] % type.blockElements == 0, let byteCount = type.byteCount(forElements: elements) else {
                throw .invalidShape(name: name, shape: dims,
                                    reason: "first dimension must be a multiple of the \(type) block size \(type.blockElements)")
            }
            raw.append(RawInfo(name: name, shape: shape, type: type, relativeOffset: relativeOffset, byteCount: byteCount))
        }

        // The data section starts at the next multiple of `alignment`. A file with no tensors may end here.
        let padding = (alignment - reader.offset % alignment) % alignment
        let dataOffset = reader.offset + padding
        if !raw.isEmpty { try reader.align(to: alignment) }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for info in raw {
            guard info.relativeOffset <= UInt64(bytes.count) else {
                throw .tensorOutOfBounds(name: info.name, offset: Int(clamping: info.relativeOffset),
                                         byteCount: info.byteCount, fileSize: bytes.count)
            }
            let relative = Int(info.relativeOffset)
            guard relative % alignment == 0 else {
                throw .misaligned(name: info.name, offset: relative, alignment: alignment)
            }
            let absolute = dataOffset + relative
            guard absolute <= bytes.count, info.byteCount <= bytes.count - absolute else {
                throw .tensorOutOfBounds(name: info.name, offset: absolute, byteCount: info.byteCount, fileSize: bytes.count)
            }
            tensors.append(GGUFTensorInfo(name: info.name, shape: info.shape, type: info.type,
                                          offset: absolute, byteCount: info.byteCount))
        }
        return Parsed(version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
                      alignment: alignment, dataOffset: dataOffset)
    }

    /// Smallest possible encoded size of one value of type `code` (used to reject absurd array counts).
    private static func minimumSize(code: UInt32) -> Int {
        switch code {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 10, 11, 12, 8: return 8
        case 9: return 12
        default: return 1
        }
    }

    static func readValue(code: UInt32, codeOffset: Int, reader: inout ByteReader, depth: Int) throws(GGUFError) -> GGUFValue {
        switch code {
        case 0: return .uint8(try reader.read())
        case 1: return .int8(try reader.read())
        case 2: return .uint16(try reader.read())
        case 3: return .int16(try reader.read())
        case 4: return .uint32(try reader.read())
        case 5: return .int32(try reader.read())
        case 6: return .float32(try reader.readFloat32())
        case 7:
            let byte: UInt8 = try reader.read()
            return .bool(byte != 0)
        case 8: return .string(try reader.readString())
        case 10: return .uint64(try reader.read())
        case 11: return .int64(try reader.read())
        case 12: return .float64(try reader.readFloat64())
        case 9:
            guard depth < maxArrayNesting else { throw .nestingTooDeep(offset: codeOffset) }
            let elementCodeOffset = reader.offset
            let elementCode: UInt32 = try reader.read()
            guard elementCode <= 12 else { throw .unknownValueType(offset: elementCodeOffset, code: elementCode) }
            let countOffset = reader.offset
            let count: UInt64 = try reader.read()
            guard count <= UInt64(reader.remaining / minimumSize(code: elementCode)) else {
                throw .implausibleCount(offset: countOffset, what: "array element", count: count)
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0 ..< count {
                values.append(try readValue(code: elementCode, codeOffset: elementCodeOffset, reader: &reader, depth: depth + 1))
            }
            return .array(values)
        default:
            throw .unknownValueType(offset: codeOffset, code: code)
        }
    }
}
