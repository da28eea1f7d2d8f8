import CostModel
import Diagnostics

/// One arbitrary engine step, written as `explain --step` takes it: comma-separated terms
/// `prefill=S` (a prompt chunk of S tokens from context 0), `prefill=S@C` (S tokens after C tokens
/// already in the KV cache: a later chunk of a chunked prefill) and `decode=B@C` (B sequences each
/// decoding one token at context C). `prefill=512@1024,decode=64@1024` is a chunked-prefill step
/// that mixes one chunk with 64 decodes.
public enum StepSpec {
    /// Largest tokens, sequences or context a term may name.
    public static let largest = 10_000_000

    /// - Throws: `InputError` at `option` naming the term at fault.
    public static func parse(_ text: String, option: String = "--step") throws -> (workload: StepWorkload, maxContext: Int) {
        var step = StepWorkload()
        var maxContext = 0
        var decodes = 0
        for term in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let parts = term.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, parts[0] == "prefill" || parts[0] == "decode" else {
                throw InputError(option: option, "expected prefill=S[@C] or decode=B@C, found \"\(term)\"")
            }
            let numbers = parts[1].split(separator: "@", omittingEmptySubsequences: false).map(String.init)
            func number(_ s: String, _ what: String, atLeast minimum: Int) throws -> Int {
                guard let v = Int(s), v >= minimum, v <= largest else {
                    throw InputError(option: option, "\(term): expected \(what) in \(minimum)...\(largest), found \"\(s)\"")
                }
                return v
            }
            if parts[0] == "prefill" {
                guard numbers.count <= 2 else { throw InputError(option: option, "expected prefill=S or prefill=S@C, found \"\(term)\"") }
                let tokens = try number(numbers[0], "the chunk's tokens", atLeast: 1)
                let before = numbers.count == 2 ? try number(numbers[1], "the context before the chunk", atLeast: 0) : 0
                step.addPrefillChunk(tokens: tokens, contextBefore: before)
                maxContext = max(maxContext, before + tokens)
            } else {
                guard numbers.count == 2 else { throw InputError(option: option, "expected decode=B@C (sequences @ context), found \"\(term)\"") }
                let batch = try number(numbers[0], "the decoding sequences", atLeast: 1)
                let context = try number(numbers[1], "the context", atLeast: 1)
                decodes += batch
                guard decodes <= 1_048_576 else { throw InputError(option: option, "expected at most 1048576 decoding sequences in a step, found \(decodes)") }
                for _ in 0..<batch { step.addDecode(contextLength: context) }
                maxContext = max(maxContext, context)
            }
        }
        return (step, maxContext)
    }
}
