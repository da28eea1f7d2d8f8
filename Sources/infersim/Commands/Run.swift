import Diagnostics
import ArgumentParser
import CPUExecutor
import Foundation
import GGUF
import HardwareModel
import Validation

/// `infersim run`: generate text with the CPU executor from a GGUF model.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a GGUF Llama model on the CPU.")

    @Option(help: "Path to a GGUF model file.") var model: String
    @Option(help: "Prompt text (special tokens such as <|im_start|> are parsed).") var prompt: String
    @Option(help: "Maximum tokens to generate.") var maxTokens: Int = 64
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
    @Option(help: "Worker threads.") var threads: Int = 1
    @Option(help: "Context length (default: the model's, at most 4096).") var contextLength: Int?
    @Flag(help: "Print one JSON object instead of streaming text.") var json = false

    func validate() throws {
        guard (1...1_000_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be in 1...1000000, got \(maxTokens)") }
        guard (1...1_024).contains(threads) else { throw ValidationError("--threads must be in 1...1024, got \(threads)") }
        guard temperature.isFinite && temperature >= 0 else { throw ValidationError("--temperature must be finite and ≥ 0, got \(temperature)") }
        if let contextLength {
            guard (1...1_048_576).contains(contextLength) else { throw ValidationError("--context-length must be in 1...1048576, got \(contextLength)") }
        }
    }

    func run() throws {
        do {
            let file = try GGUFFile(path: model)
            let llama = try LlamaModel(file: file)
            let tokenizer = try BPETokenizer(gguf: file)
            let text = chat ? tokenizer.applyChatTemplate(messages: [(role: "user", content: prompt)], addGenerationPrompt: true) : prompt
            let ids = tokenizer.encode(text, parseSpecial: true)
            let session = InferenceSession(model: llama, options: .init(contextLength: contextLength, threads: threads))
            let generator = TextGenerator(session: session, tokenizer: tokenizer)
            let streaming = !json
            let result = try generator.generate(promptTokens: ids, maxTokens: maxTokens,
                                                sampler: Sampler(temperature: temperature, seed: seed)) { id, _ in
                if streaming {
                    FileHandle.standardOutput.write(Data(tokenizer.decodeBytes([id], renderSpecial: false)))
                }
            }
            if json {
                let object: [String: Any] = [
                    "prompt_tokens": result.promptTokens.map(Int.init),
                    "generated_tokens": result.generatedTokens.map(Int.init),
                    "text": result.text,
                    "prefill_tokens_per_s": result.prefillTokensPerSecond,
                    "decode_tokens_per_s": result.decodeTokensPerSecond,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("")
                FileHandle.standardError.write(Data(String(format: "prefill %.1f tok/s, decode %.1f tok/s\n",
                    result.prefillTokensPerSecond, result.decodeTokensPerSecond).utf8))
            }
        } catch {
            // GGUF, model and tokenizer errors: one line naming the file.
            throw ValidationInputs.inputError(error, model: model)
        }
    }
}
