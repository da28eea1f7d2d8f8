import Foundation
import GGUF
import TestSupport
import Testing

/// Writer → reader round trips: every metadata value type and every writable tensor type.
struct RoundTripTests {
    static let everyValue: [(String, GGUFValue)] = [
        ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60_000)), ("t.i16", .int16(-30_000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(3.25)),
        ("t.bool.true", .bool(true)), ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo, wörld ✓ 🚀")), ("t.empty", .string("")),
        ("t.u64", .uint64(UInt64.max)), ("t.i64", .int64(Int64.min)), ("t.f64", .float64(-1.0e-300)),
        ("t.array.i32", .array([.int32(1), .int32(-2), .int32(3)])),
        ("t.array.string", .array([.string("a"), .string(""), .string("Ġthe")])),
        ("t.array.empty", .array([])),
        ("t.array.nested", .array([.array([.uint8(1), .uint8(2)]), .array([.uint8(3)])])),
        ("t.array.f64", .array([.float64(0.5), .float64(-2)])),
    ]

    @Test func everyMetadataValueTypeRoundTrips() throws {
        var writer = TinyGGUFWriter()
        for (k, v) in Self.everyValue { writer.add(k, v) }
        let file = try GGUFFile(bytes: writer.bytes())
        #expect(file.version == 3)
        #expect(file.metadataKeys == Self.everyValue.map(\.0))
        for (k, v) in Self.everyValue { #expect(file.metadata[k] == v, "key \(k)") }
        #expect(file.tensors.isEmpty)
    }

    @Test func accessorsConvertBetweenNumericTypes() throws {
        #expect(GGUFValue.uint8(7).int == 7)
        #expect(GGUFValue.int64(-5).int == -5)
        #expect(GGUFValue.uint64(UInt64.max).int == nil)
        #expect(GGUFValue.float32(1.5).double == 1.5)
        #expect(GGUFValue.uint32(3).double == 3)
        #expect(GGUFValue.string("x").int == nil)
        #expect(GGUFValue.array([.string("a"), .string("b")]).stringArray == ["a", "b"])
        #expect(GGUFValue.array([.string("a"), .int32(1)]).stringArray == nil)
        #expect(GGUFValue.array([.int32(1), .uint8(2)]).intArray == [1, 2])
    }

    @Test func requiredLookupsNameTheKey() throws {
        var writer = TinyGGUFWriter()
        writer.add("llama.block_count", .uint32(30))
        writer.add("general.name", .string("x"))
        let file = try GGUFFile(bytes: writer.bytes())
        #expect(try file.requiredInt("llama.block_count") == 30)
        #expect(throws: GGUFError.missingKey("llama.embedding_length")) { try file.requiredInt("llama.embedding_length") }
        #expect(throws: GGUFError.typeMismatch(key: "general.name", expected: "integer", found: "string")) {
            try file.requiredInt("general.name")
        }
    }

    @Test(arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1])
    func tensorsRoundTripWithinQuantizationError(type: GGMLType) throws {
        var rng = SplitMix64(seed: 42 &+ UInt64(type.rawValue))
        let shape = [64, 3]
        let values = rng.floats(count: 192, bound: 2)
        var writer = TinyGGUFWriter()
        writer.add("general.architecture", .string("test"))
        writer.addTensor(name: "a", shape: [32], type: .f32, values: rng.floats(count: 32, bound: 1))
        writer.addTensor(name: "w", shape: shape, type: type, values: values)
        let file = try GGUFFile(bytes: writer.bytes())
        let info = try #require(file.tensor(named: "w"))
        #expect(info.shape == shape)
        #expect(info.type == type)
        #expect(info.byteCount == 192 / type.blockElements * type.blockBytes)
        #expect(info.offset % file.alignment == 0)
        #expect(info.rowCount == 3 && info.rowElements == 64)
        let decoded = try file.dequantized(info)
        #expect(decoded.count == values.count)
        for block in stride(from: 0, to: values.count, by: 32) {
            let x = values[block ..< block + 32]
            let amax = x.map(abs).max()!
            let range = x.max()! - x.min()!
            // Worst-case error per element: half a step, plus f16 rounding of the scales.
            let tolerance: Float = switch type {
            case .f32: 0
            case .f16: amax * 0x1p-11
            case .bf16: amax * 0x1p-8
            case .q8_0: amax / 254 * 1.01 + amax * 0x1p-11
            // Q4_0 spans [-8d, 7d]: a value opposite in sign to the largest clamps to 7d (error up to amax/8).
            case .q4_0: amax / 8 * 1.01 + amax * 0x1p-10
            case .q4_1: range / 30 * 1.01 + amax * 0x1p-10
            default: .infinity
            }
            for j in block ..< block + 32 {
                #expect(abs(decoded[j] - values[j]) <= tolerance, "\(type) element \(j): \(decoded[j]) vs \(values[j])")
            }
        }
        let row1 = try file.dequantizedRow(info, row: 1)
        #expect(row1 == Array(decoded[64 ..< 128]))
    }

    @Test(arguments: [1, 8, 32, 64, 256])
    func customAlignmentIsHonoured(alignment: Int) throws {
        var writer = TinyGGUFWriter(alignment: alignment)
        writer.addTensor(name: "a", shape: [3], type: .f32, values: [1, 2, 3])
        writer.addTensor(name: "b", shape: [5], type: .f32, values: [4, 5, 6, 7, 8])
        let file = try GGUFFile(bytes: writer.bytes())
        #expect(file.alignment == alignment)
        #expect(file.dataOffset % alignment == 0)
        for t in file.tensors { #expect((t.offset - file.dataOffset) % alignment == 0) }
        #expect(try file.dequantized(file.tensor(named: "b")!) == [4, 5, 6, 7, 8])
        #expect(try file.dequantized(file.tensor(named: "a")!) == [1, 2, 3])
    }

    @Test func version2IsAccepted() throws {
        var writer = TinyGGUFWriter(version: 2)
        writer.add("k", .uint32(1))
        #expect(try GGUFFile(bytes: writer.bytes()).version == 2)
    }

    @Test func fileOnDiskIsMappedAndMatchesInMemoryParse() throws {
        let bytes = TinyLlama.make(seed: 7, config: TinyLlamaConfig(weightType: .q4_1, embeddingType: .q8_0))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-roundtrip-\(getpid()).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try GGUFFile(path: path)
        let copied = try GGUFFile(bytes: bytes)
        #expect(mapped.path == path)
        #expect(mapped.fileSize == bytes.count)
        #expect(mapped.tensors == copied.tensors)
        #expect(mapped.metadata == copied.metadata)
        for t in mapped.tensors {
            #expect(try mapped.dequantized(t) == copied.dequantized(t))
        }
    }

    @Test func tinyLlamaHasSmolLM2KeysAndTensorNames() throws {
        let config = TinyLlamaConfig()
        let file = try GGUFFile(bytes: TinyLlama.make(seed: 1, config: config))
        #expect(file.architecture == "llama")
        for key in ["llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                    "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count"] {
            #expect(file.metadata[key]?.int != nil, "\(key)")
        }
        #expect(try file.requiredDouble("llama.rope.freq_base") == 10_000)
        #expect(try file.requiredDouble("llama.attention.layer_norm_rms_epsilon").isApproximatelyEqual(1e-5))
        #expect(file.tensors.count == 2 + 9 * config.blockCount)
        #expect(file.tensor(named: "token_embd.weight")?.shape == [64, TinyLlama.tokens.count])
        #expect(file.tensor(named: "blk.1.attn_k.weight")?.shape == [64, 32])
        #expect(file.tensor(named: "blk.0.ffn_down.weight")?.shape == [128, 64])
        #expect(file.tensor(named: "output.weight") == nil)
        #expect(Set(TinyLlama.tokens).count == TinyLlama.tokens.count)
        #expect((290 ... 310).contains(TinyLlama.tokens.count))
    }

    @Test func tinyLlamaIsDeterministicPerSeed() {
        let a = TinyLlama.make(seed: 3, config: TinyLlamaConfig(weightType: .q8_0))
        let b = TinyLlama.make(seed: 3, config: TinyLlamaConfig(weightType: .q8_0))
        let c = TinyLlama.make(seed: 4, config: TinyLlamaConfig(weightType: .q8_0))
        #expect(a == b)
        #expect(a != c)
    }
}

extension Double {
    func isApproximatelyEqual(_ other: Double, relativeTolerance: Double = 1e-6) -> Bool {
        abs(self - other) <= relativeTolerance * max(abs(self), abs(other))
    }
}
