/// ChatML prompt rendering for the chat models this executor runs.
extension BPETokenizer {
    /// The default system prompt embedded in the file's chat template, if the template has one.
    ///
    /// SmolLM2's template inserts
    /// `<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n`
    /// when the first message is not a system message; this returns the text between
    /// `<|im_start|>system\n` and `<|im_end|>` in that literal.
    public var defaultSystemPrompt: String? {
        guard let template = chatTemplate,
              let start = template.firstRange(of: "<|im_start|>system\n"),
              let end = template[start.upperBound...].firstRange(of: "<|im_end|>") else { return nil }
        let prompt = template[start.upperBound ..< end.lowerBound]
        // Only a literal string counts (not a template expression such as `{{ message['content'] }}`).
        guard !prompt.contains("{{"), !prompt.contains("{%") else { return nil }
        return String(prompt)
    }

    /// Renders `messages` in ChatML, the format of SmolLM2's `tokenizer.chat_template`:
    /// ```
    /// <|im_start|>{role}\n{content}<|im_end|>\n     (per message)
    /// <|im_start|>assistant\n                         (if addGenerationPrompt)
    /// ```
    /// preceded by a system message with `defaultSystemPrompt` when the first message is not
    /// from "system" and the template defines a default. This is a fixed renderer for ChatML
    /// templates, not a Jinja interpreter.
    public func applyChatTemplate(messages: [(role: String, content: String)], addGenerationPrompt: Bool) -> String {
        var out = ""
        if messages.first?.role != "system", let system = defaultSystemPrompt {
            out += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for message in messages {
            out += "<|im_start|>\(message.role)\n\(message.content)<|im_end|>\n"
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }
}
