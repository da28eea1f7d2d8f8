/// Keys and values of every layer for up to `sequences` sequences × `positions` positions.
///
/// Layout (layers, sequences, positions, kvDim) for K and for V, element F16 or F32.
/// Bytes per position = `2 · layers · kvDim · elementBytes` (SmolLM2-135M, F16: 23 040 B).
final class KVCache: @unchecked Sendable {
    let type: InferenceSession.KVCacheType
    let layers, sequences, positions, kvDim, headDim: Int
    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer
    var elementBytes: Int { type == .f16 ? 2 : 4 }

    init(type: InferenceSession.KVCacheType, layers: Int, sequences: Int, positions: Int, kvDim: Int, headDim: Int) {
        self.type = type
        self.layers = layers; self.sequences = sequences; self.positions = positions; self.kvDim = kvDim; self.headDim = headDim
        let bytes = layers * sequences * positions * kvDim * (type == .f16 ? 2 : 4)
        keys = .allocate(byteCount: max(bytes, 64), alignment: 64)
        values = .allocate(byteCount: max(bytes, 64), alignment: 64)
        keys.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
        values.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
    }

    deinit { keys.deallocate(); values.deallocate() }

    @inline(__always) private func rowIndex(layer: Int, sequence: Int, position: Int) -> Int {
        ((layer * sequences + sequence) * positions + position) * kvDim
    }

    func store(layer: Int, sequence: Int, position: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let i = rowIndex(layer: layer, sequence: sequence, position: position)
        switch type {
        case .f16:
            Float16.store(keys.assumingMemoryBound(to: Float16.self) + i, key, count: kvDim)
            Float16.store(values.assumingMemoryBound(to: Float16.self) + i, value, count: kvDim)
        case .f32:
            Float.store(keys.assumingMemoryBound(to: Float.self) + i, key, count: kvDim)
            Float.store(values.assumingMemoryBound(to: Float.self) + i, value, count: kvDim)
        }
    }

    /// `attendGroup` for the `group` query heads of KV head `kvHead` (queries and outputs contiguous).
    func attendGroup(into out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>, layer: Int, sequence: Int,
                     kvHead: Int, group: Int, lastPosition: Int, scratch: UnsafeMutablePointer<Float>) {
        let i = rowIndex(layer: layer, sequence: sequence, position: 0) + kvHead * headDim
        switch type {
        case .f16:
            CPUExecutor.attendGroup(into: out, queries: queries, keys: UnsafePointer(keys.assumingMemoryBound(to: Float16.self) + i),
                                    values: UnsafePointer(values.assumingMemoryBound(to: Float16.self) + i), rowStride: kvDim,
                                    lastPosition: lastPosition, headDim: headDim, group: group, scratch: scratch)
        case .f32:
            CPUExecutor.attendGroup(into: out, queries: queries, keys: UnsafePointer(keys.assumingMemoryBound(to: Float.self) + i),
                                    values: UnsafePointer(values.assumingMemoryBound(to: Float.self) + i), rowStride: kvDim,
                                    lastPosition: lastPosition, headDim: headDim, group: group, scratch: scratch)
        }
    }

    func attend(into out: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, layer: Int, sequence: Int,
                kvHead: Int, lastPosition: Int, scores: UnsafeMutablePointer<Float>) {
        let i = rowIndex(layer: layer, sequence: sequence, position: 0) + kvHead * headDim
        switch type {
        case .f16:
            attendHead(into: out, query: query, keys: UnsafePointer(keys.assumingMemoryBound(to: Float16.self) + i),
                       values: UnsafePointer(values.assumingMemoryBound(to: Float16.self) + i), rowStride: kvDim,
                       lastPosition: lastPosition, headDim: headDim, scores: scores)
        case .f32:
            attendHead(into: out, query: query, keys: UnsafePointer(keys.assumingMemoryBound(to: Float.self) + i),
                       values: UnsafePointer(values.assumingMemoryBound(to: Float.self) + i), rowStride: kvDim,
                       lastPosition: lastPosition, headDim: headDim, scores: scores)
        }
    }
}
