import Diagnostics
import CPUExecutor
import Foundation
import GGUF
import HardwareModel
import Serving

/// Loading the inputs of `validate --model` and `serve-trace`, with every failure reported as a
/// one-line `InputError` naming the file.
public enum ValidationInputs {
    /// Opens a GGUF Llama model.
    /// - Throws: `InputError(file: path, …)` for a missing file, a file that is not GGUF
    ///   (the GGUF error says what was found at which offset), or a model the executor cannot run.
    public static func loadModel(path: String) throws -> LlamaModel {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError(file: path, "model file not found")
        }
        do {
            return try LlamaModel(path: path)
        } catch {
            throw inputError(error, model: path)
        }
    }

    /// Any error from opening or running a GGUF model as one `InputError` naming the file: a
    /// GGUF error at its byte offset, an executor or tokenizer error on the file as a whole.
    public static func inputError(_ error: any Error, model path: String) -> InputError {
        switch error {
        case let e as InputError: return e
        case let e as GGUFError: return e.inputError(file: path)
        default: return InputError(file: path, "\(error)")
        }
    }

    /// Reads a trace: InferSim CSV (`arrival_s,prompt_tokens,output_tokens`) or, for a `.jsonl`
    /// file, InferSim JSONL.
    /// - Throws: `InputError` naming the file and line of the first bad row, or an empty trace.
    public static func loadTrace(path: String) throws -> [RequestSpec] {
        let format: TraceFormat = path.hasSuffix(".jsonl") ? .jsonl : .csv
        var reader = try TraceReader(path: path, format: format)
        let requests = try reader.collectAll()
        guard !requests.isEmpty else { throw InputError(file: path, "the trace has no requests") }
        return requests
    }

    /// Reads a CSV trace from text (a built-in trace), naming it `name` in errors.
    public static func loadTrace(text: String, name: String) throws -> [RequestSpec] {
        var reader = TraceReader(text: text, name: name, format: .csv)
        let requests = try reader.collectAll()
        guard !requests.isEmpty else { throw InputError(file: name, "the trace has no requests") }
        return requests
    }

    /// Checks that every request fits the model's context.
    /// - Throws: `InputError` naming the request (trace row) that does not fit.
    public static func checkFits(_ requests: [RequestSpec], model: LlamaModel, trace: String) throws {
        for r in requests where r.promptTokens + r.outputTokens > model.config.contextLength {
            throw InputError(file: trace, "request \(r.id): prompt + output = \(r.promptTokens + r.outputTokens) tokens exceeds the model's context of \(model.config.contextLength)")
        }
    }
}
