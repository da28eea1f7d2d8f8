import Foundation
import GGUF
import TestSupport
import Testing

/// Bad input must throw a `GGUFError` that says where, never crash.
struct MalformedFileTests {
    static let small: [UInt8] = {
        var writer = TinyGGUFWriter()
        for (k, v) in RoundTripTests.everyValue { writer.add(k, v) }
        writer.addTensor(name: "w", shape: [32, 2], type: .q4_1, values: (0 ..< 64).map { Float($0) / 7 })
        writer.addTensor(name: "b", shape: [3], type: .f32, values: [1, 2, 3])
        return writer.bytes()
    }()

    @Test func badMagicIsReported() {
        let bytes = CorruptGGUF.withMagic(Self.small, 0x1234_5678)
        #expect(throws: GGUFError.badMagic(found: 0x1234_5678)) { try GGUFFile(bytes: bytes) }
        #expect(GGUFError.badMagic(found: 0x1234_5678).description.contains("0x12345678"))
    }

    @Test func version1IsRejectedClearly() {
        #expect(throws: GGUFError.unsupportedVersion(1)) { try GGUFFile(bytes: CorruptGGUF.version1Header()) }
        #expect(GGUFError.unsupportedVersion(1).description.contains("32-bit counts"))
        #expect(throws: GGUFError.unsupportedVersion(4)) { try GGUFFile(bytes: CorruptGGUF.withVersion(Self.small, 4)) }
    }

    @Test func everyTruncationThrowsEndOfFileOrBounds() throws {
        // Every prefix shorter than the end of the last tensor's data must be rejected (never crash);
        // only the trailing alignment padding may be cut.
        let file = try GGUFFile(bytes: Self.small)
        let dataEnd = file.tensors.map { $0.offset + $0.byteCount }.max()!
        #expect(dataEnd < Self.small.count)
        #expect(try GGUFFile(bytes: CorruptGGUF.truncated(Self.small, to: dataEnd)).tensors.count == 2)
        for length in 0 ..< dataEnd {
            let prefix = CorruptGGUF.truncated(Self.small, to: length)
            do {
                _ = try GGUFFile(bytes: prefix)
                Issue.record("prefix of \(length) bytes parsed")
            } catch let error as GGUFError {
                switch error {
                case .unexpectedEndOfFile(let offset, let needed):
                    #expect(offset <= length && offset + needed > length, "prefix \(length): \(error)")
                case .tensorOutOfBounds(_, _, _, let fileSize):
                    #expect(fileSize == length)
                case .implausibleCount:
                    break
                default:
                    Issue.record("prefix \(length): unexpected \(error)")
                }
            } catch {
                Issue.record("prefix \(length): non-GGUF error \(error)")
            }
        }
    }

    @Test func randomByteFlipsNeverCrash() {
        // Corrupt single bytes all over the header; each result must parse or throw a GGUFError.
        var rng = SplitMix64(seed: 99)
        var thrown = 0
        for _ in 0 ..< 2000 {
            var bytes = Self.small
            let i = Int(rng.next() % UInt64(min(bytes.count, 700)))
            bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            do { _ = try GGUFFile(bytes: bytes) } catch is GGUFError { thrown += 1 } catch { Issue.record("\(error)") }
        }
        #expect(thrown > 0)
    }

    @Test func unknownValueTypeNamesOffsetAndCode() {
        let (bytes, offset) = CorruptGGUF.unknownValueType(code: 13)
        #expect(throws: GGUFError.unknownValueType(offset: offset, code: 13)) { try GGUFFile(bytes: bytes) }
    }

    @Test func unknownArrayElementTypeIsRejected() {
        var w = ByteWriter()
        w.write(UInt32(0x4655_4747)); w.write(UInt32(3)); w.write(UInt64(0)); w.write(UInt64(1))
        w.writeString("k")
        w.write(UInt32(9))
        let elementOffset = w.bytes.count
        w.write(UInt32(77)); w.write(UInt64(1)); w.write(UInt64(0))
        #expect(throws: GGUFError.unknownValueType(offset: elementOffset, code: 77)) { try GGUFFile(bytes: w.bytes) }
    }

    @Test func hugeCountsAreRejectedWithoutAllocating() {
        var w = ByteWriter()
        w.write(UInt32(0x4655_4747)); w.write(UInt32(3)); w.write(UInt64(0)); w.write(UInt64(1))
        w.writeString("k")
        w.write(UInt32(9)); w.write(UInt32(6))
        let countOffset = w.bytes.count
        w.write(UInt64.max)
        #expect(throws: GGUFError.implausibleCount(offset: countOffset, what: "array element", count: UInt64.max)) {
            try GGUFFile(bytes: w.bytes)
        }
        var h = ByteWriter()
        h.write(UInt32(0x4655_4747)); h.write(UInt32(3)); h.write(UInt64(1) << 60); h.write(UInt64(0))
        #expect(throws: GGUFError.implausibleCount(offset: 8, what: "tensor", count: UInt64(1) << 60)) { try GGUFFile(bytes: h.bytes) }
    }

    @Test func invalidUTF8StringIsRejected() {
        var w = ByteWriter()
        w.write(UInt32(0x4655_4747)); w.write(UInt32(3)); w.write(UInt64(0)); w.write(UInt64(1))
        w.write(UInt64(2)); w.append([0xC3, 0x28])
        w.write(UInt32(4)); w.write(UInt32(0))
        #expect(throws: GGUFError.invalidString(offset: 24)) { try GGUFFile(bytes: w.bytes) }
    }

    @Test func unknownTensorTypeIsRejected() {
        var writer = TinyGGUFWriter()
        writer.addRawTensor(name: "odd", shape: [32], typeCode: 4, data: [UInt8](repeating: 0, count: 32))
        #expect(throws: GGUFError.unsupportedTensorType(name: "odd", typeCode: 4)) { try GGUFFile(bytes: writer.bytes()) }
    }

    @Test func knownButUndecodableTypeLoadsButRefusesToDequantize() throws {
        var writer = TinyGGUFWriter()
        writer.addRawTensor(name: "k5", shape: [256], typeCode: GGMLType.q5_K.rawValue, data: [UInt8](repeating: 0, count: 176))
        let file = try GGUFFile(bytes: writer.bytes())
        let t = try #require(file.tensor(named: "k5"))
        #expect(t.byteCount == 176)
        #expect(throws: GGUFError.dequantizationUnsupported(type: .q5_K)) { try file.dequantized(t) }
    }

    @Test func tensorDataPastEndOfFileIsRejected() {
        var writer = TinyGGUFWriter()
        writer.addRawTensor(name: "big", shape: [32, 4], typeCode: GGMLType.f32.rawValue, data: [UInt8](repeating: 0, count: 64))
        let bytes = writer.bytes()
        do {
            _ = try GGUFFile(bytes: bytes)
            Issue.record("parsed a file whose tensor needs 512 bytes but has 64")
        } catch let error as GGUFError {
            guard case .tensorOutOfBounds(let name, let offset, let byteCount, let fileSize) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(name == "big" && byteCount == 512 && fileSize == bytes.count && offset + byteCount > fileSize)
        } catch { Issue.record("\(error)") }
    }

    @Test func misalignedTensorOffsetIsRejected() throws {
        var writer = TinyGGUFWriter()
        writer.addTensor(name: "a", shape: [4], type: .f32, values: [1, 2, 3, 4])
        var bytes = writer.bytes()
        // The tensor's relative offset is the last u64 of the tensor info, just before the padding.
        let file = try GGUFFile(bytes: bytes)
        let infoEnd = 24 + 8 + 1 + 4 + 8 + 4 + 8  // header, name "a", n_dims, dim, type, offset
        #expect(file.dataOffset >= infoEnd)
        bytes[infoEnd - 8] = 4
        #expect(throws: GGUFError.misaligned(name: "a", offset: 4, alignment: 32)) { try GGUFFile(bytes: bytes) }
    }

    @Test func duplicateKeysAndTensorsAreRejected() {
        var writer = TinyGGUFWriter()
        writer.add("x", .uint8(1))
        writer.add("x", .uint8(2))
        #expect(throws: GGUFError.duplicateKey("x")) { try GGUFFile(bytes: writer.bytes()) }
        var tensors = TinyGGUFWriter()
        tensors.addTensor(name: "t", shape: [1], type: .f32, values: [1])
        tensors.addTensor(name: "t", shape: [1], type: .f32, values: [2])
        #expect(throws: GGUFError.duplicateTensor("t")) { try GGUFFile(bytes: tensors.bytes()) }
    }

    @Test func invalidAlignmentIsRejected() {
        var writer = TinyGGUFWriter()
        writer.add("general.alignment", .uint32(48))
        #expect(throws: GGUFError.invalidAlignment(found: "\(GGUFValue.uint32(48))")) { try GGUFFile(bytes: writer.bytes()) }
    }

    @Test func badShapesAreRejected() {
        var partialBlock = TinyGGUFWriter()
        partialBlock.addRawTensor(name: "q", shape: [16], typeCode: GGMLType.q8_0.rawValue, data: [UInt8](repeating: 0, count: 34))
        #expect(throws: GGUFError.invalidShape(name: "q", shape: [16], reason: "first dimension must be a multiple of the Q8_0 block size 32")) {
            try GGUFFile(bytes: partialBlock.bytes())
        }
        var zero = TinyGGUFWriter()
        zero.addRawTensor(name: "z", shape: [4, 0], typeCode: 0, data: [])
        #expect(throws: GGUFError.self) { try GGUFFile(bytes: zero.bytes()) }
        var fiveD = TinyGGUFWriter()
        fiveD.addRawTensor(name: "f", shape: [1, 1, 1, 1, 1], typeCode: 0, data: [0, 0, 0, 0])
        #expect(throws: GGUFError.self) { try GGUFFile(bytes: fiveD.bytes()) }
    }

    @Test func missingFileAndErrorsInFilesNameThePath() throws {
        let missing = "/nonexistent/dir/model.gguf"
        #expect(throws: GGUFError.fileNotFound(path: missing)) { try GGUFFile(path: missing) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-bad-\(getpid()).gguf").path
        try Data(CorruptGGUF.truncated(Self.small, to: 60)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GGUFFile(path: path)
            Issue.record("truncated file parsed")
        } catch let error as GGUFError {
            guard case .inFile(let p, let inner) = error else { Issue.record("\(error)"); return }
            #expect(p == path)
            #expect(inner == error.underlying)
            #expect(error.description.hasPrefix("GGUF: \(path): "))
            #expect(!error.description.dropFirst(6).contains("GGUF:"))
        }
    }

    @Test func dequantizeChecksBufferSizes() {
        let src = [UInt8](repeating: 0, count: 34)
        var dst = [Float](repeating: 0, count: 64)
        src.withUnsafeBytes { s in
            dst.withUnsafeMutableBufferPointer { d in
                #expect(throws: GGUFError.sizeMismatch(type: .q8_0, elements: 64, bytes: 34, expectedBytes: 68)) {
                    try dequantize(.q8_0, from: s, into: d)
                }
                let odd = UnsafeMutableBufferPointer(rebasing: d[0 ..< 31])
                #expect(throws: GGUFError.sizeMismatch(type: .q8_0, elements: 31, bytes: 34, expectedBytes: nil)) {
                    try dequantize(.q8_0, from: s, into: odd)
                }
            }
        }
    }
}
