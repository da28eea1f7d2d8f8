import Diagnostics

/// Everything that can be wrong with a GGUF file, each case saying where.
///
/// Offsets are absolute byte offsets from the start of the file. Errors thrown by
/// `GGUFFile(path:)` are wrapped in `.inFile(path:_:)` so the message names the file.
public indirect enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path does not exist or cannot be opened (`errno` from `open(2)`).
    case fileNotFound(path: String)
    /// The path exists but could not be opened, inspected or mapped.
    case cannotRead(path: String, reason: String)
    /// An error in the file at `path`.
    case inFile(path: String, GGUFError)
    /// The first four bytes are not "GGUF" (read as a little-endian u32 0x46554747).
    case badMagic(found: UInt32)
    /// A version other than 2 or 3. Version 1 used 32-bit counts and is rejected.
    case unsupportedVersion(Int)
    /// Reading `needed` bytes at `offset` would run past the end of the file.
    case unexpectedEndOfFile(offset: Int, needed: Int)
    /// The string at `offset` is not valid UTF-8.
    case invalidString(offset: Int)
    /// A metadata value type code that the spec does not define.
    case unknownValueType(offset: Int, code: UInt32)
    /// A count (of tensors, keys, array elements or string bytes) that cannot fit in the file.
    case implausibleCount(offset: Int, what: String, count: UInt64)
    /// Arrays nested deeper than the reader allows.
    case nestingTooDeep(offset: Int)
    /// A metadata key that appears twice.
    case duplicateKey(String)
    /// A tensor name that appears twice.
    case duplicateTensor(String)
    /// `general.alignment` that is zero, not a power of two, or not an integer.
    case invalidAlignment(found: String)
    /// A tensor type code that ggml does not define.
    case unsupportedTensorType(name: String, typeCode: UInt32)
    /// A tensor with no dimensions, more than four, a zero/negative dimension,
    /// an element count that overflows, or a first dimension that is not a whole number of blocks.
    case invalidShape(name: String, shape: [UInt64], reason: String)
    /// A tensor's data offset (relative to the data section) not a multiple of the alignment.
    case misaligned(name: String, offset: Int, alignment: Int)
    /// A tensor whose bytes `[offset, offset + byteCount)` extend past the end of the file.
    case tensorOutOfBounds(name: String, offset: Int, byteCount: Int, fileSize: Int)
    /// `dequantize` was given a type it cannot decode.
    case dequantizationUnsupported(type: GGMLType)
    /// `dequantize` was given buffers whose sizes do not match the type's block layout.
    case sizeMismatch(type: GGMLType, elements: Int, bytes: Int, expectedBytes: Int?)
    /// A required metadata key is absent.
    case missingKey(String)
    /// A metadata key has a value of the wrong type.
    case typeMismatch(key: String, expected: String, found: String)

    /// The error without the `.inFile` wrapper.
    public var underlying: GGUFError {
        if case .inFile(_, let inner) = self { return inner.underlying }
        return self
    }

    /// One line: names and keys read from the file are quoted as they are, so control characters
    /// in them (a newline inside a tensor name) are escaped here.
    public var description: String { rawDescription.escapingControlCharacters }

    var rawDescription: String {
        switch self {
        case .fileNotFound(let path):
            return "GGUF: file not found: \(path)"
        case .cannotRead(let path, let reason):
            return "GGUF: cannot read \(path): \(reason)"
        case .inFile(let path, let inner):
            let text = inner.description
            let body = text.hasPrefix("GGUF: ") ? String(text.dropFirst(6)) : text
            return "GGUF: \(path): \(body)"
        case .badMagic(let found):
            let hex = String(found, radix: 16)
            return "GGUF: bad magic at offset 0: expected 0x46554747 (\"GGUF\"), found 0x\(hex)"
        case .unsupportedVersion(let v):
            return v == 1
                ? "GGUF: version 1 at offset 4 is not supported (it used 32-bit counts); expected version 2 or 3"
                : "GGUF: unsupported version \(v) at offset 4; expected 2 or 3"
        case .unexpectedEndOfFile(let offset, let needed):
            return "GGUF: unexpected end of file at offset \(offset): needed \(needed) bytes"
        case .invalidString(let offset):
            return "GGUF: string at offset \(offset) is not valid UTF-8"
        case .unknownValueType(let offset, let code):
            return "GGUF: unknown metadata value type \(code) at offset \(offset); expected 0...12"
        case .implausibleCount(let offset, let what, let count):
            return "GGUF: \(what) count \(count) at offset \(offset) cannot fit in the file"
        case .nestingTooDeep(let offset):
            return "GGUF: arrays nested too deeply at offset \(offset)"
        case .duplicateKey(let key):
            return "GGUF: metadata key \"\(key)\" appears more than once"
        case .duplicateTensor(let name):
            return "GGUF: tensor \"\(name)\" appears more than once"
        case .invalidAlignment(let found):
            return "GGUF: general.alignment must be a power-of-two integer, found \(found)"
        case .unsupportedTensorType(let name, let code):
            return "GGUF: tensor \"\(name)\" has unknown ggml type code \(code)"
        case .invalidShape(let name, let shape, let reason):
            return "GGUF: tensor \"\(name)\" has invalid shape \(shape): \(reason)"
        case .misaligned(let name, let offset, let alignment):
            return "GGUF: tensor \"\(name)\" data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let name, let offset, let byteCount, let fileSize):
            return "GGUF: tensor \"\(name)\" needs \(byteCount) bytes from offset \(offset) but the file has \(fileSize) bytes"
        case .dequantizationUnsupported(let type):
            return "GGUF: dequantization of \(type) is not supported (supported: F32 F16 BF16 Q4_0 Q4_1 Q8_0 Q4_K Q6_K)"
        case .sizeMismatch(let type, let elements, let bytes, let expected):
            let exp = expected.map { "\($0) bytes" } ?? "a multiple of \(type.blockElements) elements"
            return "GGUF: \(type) buffer of \(bytes) bytes for \(elements) elements; expected \(exp)"
        case .missingKey(let key):
            return "GGUF: metadata key \"\(key)\" is missing"
        case .typeMismatch(let key, let expected, let found):
            return "GGUF: metadata key \"\(key)\": expected \(expected), found \(found)"
        }
    }
}

extension GGUFError {
    /// The byte offset the problem is at, where the error knows one.
    public var offset: Int? {
        switch underlying {
        case .badMagic: return 0
        case .unexpectedEndOfFile(let o, _), .invalidString(let o), .unknownValueType(let o, _),
             .implausibleCount(let o, _, _), .nestingTooDeep(let o): return o
        case .misaligned(_, let o, _), .tensorOutOfBounds(_, let o, _, _): return o
        default: return nil
        }
    }

    /// The error as InferSim's one input-error type: at the byte offset of `file` where known,
    /// else the file as a whole. `file` is used unless the error names its own path.
    public func inputError(file: String) -> InputError {
        var path = file
        switch self {
        case .inFile(let p, _), .fileNotFound(let p), .cannotRead(let p, _): path = p
        default: break
        }
        var text = underlying.description
        if text.hasPrefix("GGUF: ") { text.removeFirst(6) }
        if case .fileNotFound = self { return InputError(file: path, "GGUF file not found") }
        if case .cannotRead(_, let reason) = self { return InputError(file: path, "cannot read the GGUF file: \(reason)") }
        if let offset { return InputError(file: path, offset: offset, text) }
        return InputError(file: path, text)
    }
}
