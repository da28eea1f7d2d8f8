import Diagnostics
/// Everything that can go wrong loading a model or running it, each case saying where.
public enum ExecutorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The GGUF file lacks a tensor the architecture needs.
    case missingTensor(name: String)
    /// A tensor whose encoding the executor cannot compute with.
    case unsupportedTensorType(name: String, type: String)
    /// A tensor whose shape does not match the model configuration.
    case badTensorShape(name: String, expected: String, found: [Int])
    /// A metadata key is absent or has an unusable value.
    case badMetadata(key: String, reason: String)
    /// `general.architecture` is not one the executor implements.
    case unsupportedArchitecture(String)
    /// The request does not fit the session's context window.
    case contextOverflow(sequence: Int, needed: Int, capacity: Int)
    /// A batch larger than the session was built for.
    case batchTooLarge(requested: Int, capacity: Int)
    /// A sequence index outside `0..<maxSequences`.
    case badSequence(Int, count: Int)
    /// Positions that do not continue the sequence's cache.
    case badPositions(sequence: Int, expectedStart: Int, found: Int)
    /// A token id outside the vocabulary.
    case badToken(id: Int32, vocabularySize: Int)
    /// An empty token list.
    case emptyInput
    /// The same sequence twice in one step (its rows would race for the same cache positions).
    case duplicateSequence(Int)
    /// A step's logits came out infinite or NaN: the weights (or norms) hold non-finite values
    /// or overflow float32.
    case nonFiniteLogits(row: Int)

    /// One line: names read from the file are quoted as they are, with control characters escaped.
    public var description: String { rawDescription.escapingControlCharacters }

    var rawDescription: String {
        switch self {
        case .missingTensor(let name): return "model is missing tensor '\(name)'"
        case .unsupportedTensorType(let name, let type): return "tensor '\(name)' has unsupported type \(type)"
        case .badTensorShape(let name, let expected, let found): return "tensor '\(name)' has shape \(found), expected \(expected)"
        case .badMetadata(let key, let reason): return "metadata '\(key)': \(reason)"
        case .unsupportedArchitecture(let a): return "unsupported architecture '\(a)' (expected 'llama')"
        case .contextOverflow(let s, let needed, let capacity): return "sequence \(s) needs \(needed) positions but the context holds \(capacity)"
        case .batchTooLarge(let requested, let capacity): return "batch of \(requested) tokens exceeds capacity \(capacity)"
        case .badSequence(let s, let count): return "sequence \(s) out of range 0..<\(count)"
        case .badPositions(let s, let expected, let found): return "sequence \(s): positions must start at \(expected), found \(found)"
        case .badToken(let id, let vocab): return "token id \(id) outside vocabulary 0..<\(vocab)"
        case .emptyInput: return "no tokens given"
        case .nonFiniteLogits(let row): return "the forward pass produced non-finite logits (row \(row)): the model's weights hold NaN or infinite values, or overflow float32"
        case .duplicateSequence(let s): return "sequence \(s) appears more than once in one step"
        }
    }
}
