/// Keys and values of every layer for up to `sequences` sequences × `positions` positions.
///
/// Layout, element F16 or F32, positions rounded up to a multiple of 16: V is (layers, sequences,
/// kvHeads, positions, headDim) and K is (layers, sequences, kvHeads, positions / 16, headDim, 16):
/// tiles of sixteen positions, each dimension's sixteen values contiguous, so that `attendGroup`
/// scores sixteen positions per instruction from one contiguous block. Head-major, so attention
/// over one KV head streams one contiguous block instead of picking `headDim` elements out of every
/// `kvDim`-wide position row, which the hardware prefetchers followed poorly. (K transposed to
/// `headDim × positions` rows had each store and each read of a tile stride `positions` elements,
/// which put a tile's dimensions in one L1 set at 1024 positions.) Bytes per position =
/// `2 · layers · kvDim · elementBytes` (SmolLM2-135M, F16: 23 040 B).
final class KVCache: @unchecked Sendable {
    let type: InferenceSession.KVCacheType
    let layers, sequences, positions, kvDim, headDim: Int
    let kvHeads: Int
    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer
    var elementBytes: Int { type == .f16 ? 2 : 4 }

    init(type: InferenceSession.KVCacheType, layers: Int, sequences: Int, positions: Int, kvDim: Int, headDim: Int) {
        precondition(kvDim % headDim == 0, "kvDim \(kvDim) is not a multiple of headDim \(headDim)")
        self.type = type
        self.layers = layers; self.sequences = sequences; self.kvDim = kvDim; self.headDim = headDim
        self.positions = (positions + 15) / 16 * 16
        self.kvHeads = kvDim / headDim
        let bytes = layers * sequences * self.positions * kvDim * (type == .f16 ? 2 : 4)
        keys = .allocate(byteCount: max(bytes, 64), alignment: 64)
        values = .allocate(byteCount: max(bytes, 64), alignment: 64)
        keys.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
        values.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
    }

    deinit { keys.deallocate(); values.deallocate() }

    /// Element index of `position` of KV head `kvHead`.
    @inline(__always) private func index(layer: Int, sequence: Int, kvHead: Int, position: Int) -> Int {
        (((layer * sequences + sequence) * kvHeads + kvHead) * positions + position) * headDim
    }

    /// Element index of KV head `kvHead`'s block (K: `positions / 16` tiles of `headDim × 16`; V: `positions × headDim`).
    @inline(__always) private func block(layer: Int, sequence: Int, kvHead: Int) -> Int {
        index(layer: layer, sequence: sequence, kvHead: kvHead, position: 0)
    }

    /// Stores one position's keys and values (`kvDim` floats each, heads contiguous).
    func store(layer: Int, sequence: Int, position: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        for g in 0 ..< kvHeads {
            let k = block(layer: layer, sequence: sequence, kvHead: g) + (position / 16) * headDim * 16 + position % 16
            let v = index(layer: layer, sequence: sequence, kvHead: g, position: position)
            switch type {
            case .f16:
                let kp = keys.assumingMemoryBound(to: Float16.self)
                for d in 0 ..< headDim { kp[k + d * 16] = Float16(key[g * headDim + d]) }
                Float16.store(values.assumingMemoryBound(to: Float16.self) + v, value + g * headDim, count: headDim)
            case .f32:
                let kp = keys.assumingMemoryBound(to: Float.self)
                for d in 0 ..< headDim { kp[k + d * 16] = key[g * headDim + d] }
                Float.store(values.assumingMemoryBound(to: Float.self) + v, value + g * headDim, count: headDim)
            }
        }
    }

    /// `attendGroupRows` for the `group` query heads of KV head `kvHead`, for `rows` consecutive
    /// positions of `sequence` starting at `firstPosition` (queries and outputs `stride` floats apart).
    func attendGroupRows(into out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>, stride: Int, rows: Int,
                         layer: Int, sequence: Int, kvHead: Int, group: Int, firstPosition: Int,
                         scratch: UnsafeMutablePointer<Float>) {
        let i = block(layer: layer, sequence: sequence, kvHead: kvHead)
        switch type {
        case .f16:
            CPUExecutor.attendGroupRows(into: out, outStride: stride, queries: queries, queryStride: stride, rows: rows,
                                        firstLastPosition: firstPosition,
                                        keyTiles: UnsafePointer(keys.assumingMemoryBound(to: Float16.self) + i),
                                        values: UnsafePointer(values.assumingMemoryBound(to: Float16.self) + i),
                                        headDim: headDim, group: group, scratch: scratch)
        case .f32:
            CPUExecutor.attendGroupRows(into: out, outStride: stride, queries: queries, queryStride: stride, rows: rows,
                                        firstLastPosition: firstPosition,
                                        keyTiles: UnsafePointer(keys.assumingMemoryBound(to: Float.self) + i),
                                        values: UnsafePointer(values.assumingMemoryBound(to: Float.self) + i),
                                        headDim: headDim, group: group, scratch: scratch)
        }
    }
}
