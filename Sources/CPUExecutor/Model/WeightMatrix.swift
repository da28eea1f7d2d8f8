import GGUF

/// A weight matrix `W` (rows × columns) used as `y = W x`, held in a layout chosen for the
/// SIMD kernels.
///
/// GGUF stores each row as consecutive blocks of 32 elements. The kernels instead process
/// 16 rows at once, one row per SIMD lane, so at load time the blocks of 16 consecutive rows
/// are interleaved ("row groups", like llama.cpp's `REPACK` CPU buffers):
///
/// - `.q4` (from Q4_1, or Q4_0 with `m = −8·d`): per (group, block) 320 bytes —
///   byte `j` (0…15) of the 16 rows as `[j][row]` (256 B; low nibble is element `j`, high
///   nibble element `j + 16`), then the 16 scales `d` and the 16 minimums `m` as f16.
///   Element value `= d · nibble + m`. Same 5 bits per weight as the file.
/// - `.q8` (from Q8_0): per (group, block) 544 bytes — the 32 int8 of 16 rows as `[k][row]`,
///   then 16 f16 scales. Element value `= d · q`. Same 8.5 bits per weight.
/// - `.f32` (F32, F16, BF16, Q4_K, Q6_K, dequantized once): plain row-major floats.
///
/// Rows are padded with zero weights up to a multiple of 16; outputs of padding rows are never stored.
public final class WeightMatrix: @unchecked Sendable {
    public enum Layout: String, Sendable { case q4, q8, f32 }

    public let name: String
    public let rows: Int
    public let columns: Int
    public let layout: Layout
    /// The encoding in the GGUF file.
    public let sourceType: GGMLType
    /// Bytes of the repacked storage (what one matmul streams from memory).
    public let byteCount: Int
    let storage: UnsafeMutableRawPointer

    /// Rows per group (SIMD lanes).
    public static let groupRows = 16
    public var groupCount: Int { (rows + 15) / 16 }
    var blocksPerRow: Int { columns / 32 }
    /// Bytes per (group, block) for the quantized layouts.
    var groupBlockBytes: Int { layout == .q4 ? 320 : 544 }

    /// Repacks tensor `info` of `file`.
    /// - Throws: `ExecutorError.unsupportedTensorType` when the type cannot be decoded,
    ///   `.badTensorShape` when the tensor is not 2-D or its row length is not a multiple of 32
    ///   for block types.
    public init(file: GGUFFile, info: GGUFTensorInfo) throws {
        guard info.shape.count == 2 || (info.shape.count == 1) else {
            throw ExecutorError.badTensorShape(name: info.name, expected: "2 dimensions", found: info.shape)
        }
        name = info.name
        columns = info.rowElements
        rows = info.rowCount
        sourceType = info.type
        switch info.type {
        case .q4_0, .q4_1: layout = columns % 32 == 0 ? .q4 : .f32
        case .q8_0: layout = columns % 32 == 0 ? .q8 : .f32
        case .f32, .f16, .bf16, .q4_K, .q6_K: layout = .f32
        default:
            throw ExecutorError.unsupportedTensorType(name: info.name, type: String(describing: info.type))
        }
        let groups = (rows + 15) / 16
        let nb = columns / 32
        switch layout {
        case .q4: byteCount = groups * nb * 320
        case .q8: byteCount = groups * nb * 544
        case .f32: byteCount = rows * columns * 4
        }
        storage = .allocate(byteCount: max(byteCount, 64), alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
        let rows = self.rows, columns = self.columns, layout = self.layout, storage = self.storage
        try file.withData(info) { src in
            let base = src.baseAddress!
            let rowBytes = info.rowByteCount
            switch layout {
            case .q4:
                let isQ41 = info.type == .q4_1
                let blockBytes = isQ41 ? 20 : 18
                for r in 0 ..< rows {
                    let g = r / 16, lane = r % 16
                    for b in 0 ..< nb {
                        let s = base + r * rowBytes + b * blockBytes
                        let d = storage + (g * nb + b) * 320
                        let dBits = s.loadUnaligned(as: UInt16.self)
                        let mBits: UInt16 = isQ41 ? s.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
                            : Float16(-8 * Float(Float16(bitPattern: dBits))).bitPattern
                        let nibbles = s + (isQ41 ? 4 : 2)
                        for j in 0 ..< 16 {
                            d.storeBytes(of: nibbles.load(fromByteOffset: j, as: UInt8.self), toByteOffset: j * 16 + lane, as: UInt8.self)
                        }
                        d.storeBytes(of: dBits, toByteOffset: 256 + 2 * lane, as: UInt16.self)
                        d.storeBytes(of: mBits, toByteOffset: 288 + 2 * lane, as: UInt16.self)
                    }
                }
            case .q8:
                for r in 0 ..< rows {
                    let g = r / 16, lane = r % 16
                    for b in 0 ..< nb {
                        let s = base + r * rowBytes + b * 34
                        let d = storage + (g * nb + b) * 544
                        for k in 0 ..< 32 {
                            d.storeBytes(of: s.load(fromByteOffset: 2 + k, as: UInt8.self), toByteOffset: k * 16 + lane, as: UInt8.self)
                        }
                        d.storeBytes(of: s.loadUnaligned(as: UInt16.self), toByteOffset: 512 + 2 * lane, as: UInt16.self)
                    }
                }
            case .f32:
                let dst = UnsafeMutableBufferPointer(start: storage.assumingMemoryBound(to: Float.self), count: rows * columns)
                do {
                    try dequantize(info.type, from: src, into: dst)
                } catch {
                    throw ExecutorError.unsupportedTensorType(name: info.name, type: String(describing: info.type))
                }
            }
        }
    }

    deinit { storage.deallocate() }

    /// Row `row` dequantized to floats (slow; for tests and embedding lookups of repacked tables).
    public func dequantizedRow(_ row: Int) -> [Float] {
        precondition(row >= 0 && row < rows)
        var out = [Float](repeating: 0, count: columns)
        let g = row / 16, lane = row % 16, nb = blocksPerRow
        switch layout {
        case .f32:
            let p = storage.assumingMemoryBound(to: Float.self) + row * columns
            for i in 0 ..< columns { out[i] = p[i] }
        case .q4:
            for b in 0 ..< nb {
                let blk = storage + (g * nb + b) * 320
                let d = Float(Float16(bitPattern: blk.load(fromByteOffset: 256 + 2 * lane, as: UInt16.self)))
                let m = Float(Float16(bitPattern: blk.load(fromByteOffset: 288 + 2 * lane, as: UInt16.self)))
                for j in 0 ..< 16 {
                    let q = blk.load(fromByteOffset: j * 16 + lane, as: UInt8.self)
                    out[b * 32 + j] = d * Float(q & 0x0F) + m
                    out[b * 32 + j + 16] = d * Float(q >> 4) + m
                }
            }
        case .q8:
            for b in 0 ..< nb {
                let blk = storage + (g * nb + b) * 544
                let d = Float(Float16(bitPattern: blk.load(fromByteOffset: 512 + 2 * lane, as: UInt16.self)))
                for k in 0 ..< 32 { out[b * 32 + k] = d * Float(blk.load(fromByteOffset: k * 16 + lane, as: Int8.self)) }
            }
        }
        return out
    }
}
