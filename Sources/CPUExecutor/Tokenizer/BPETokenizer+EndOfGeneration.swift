/// Which tokens end a generated reply.
extension BPETokenizer {
    /// Control-token texts that llama.cpp also treats as end of generation when the vocabulary
    /// has them (`llama_vocab::impl::load`, the `special_eog_ids` set).
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
    ]

    /// `eos`, `tokenizer.ggml.eot_token_id` / `eom_token_id` when present, and the control tokens in
    /// `endOfGenerationTexts`. For SmolLM2 this is {0 `<|endoftext|>`, 2 `<|im_end|>`}.
    public var endOfGenerationTokenIDs: Set<Int32> {
        var ids = Set<Int32>()
        if let eos = eosTokenID { ids.insert(eos) }
        for id in extraEndOfGenerationIDs { ids.insert(id) }
        for (i, type) in tokenTypes.enumerated() where type == .control || type == .userDefined {
            if Self.endOfGenerationTexts.contains(tokens[i]) { ids.insert(Int32(i)) }
        }
        return ids
    }

    /// Whether generation should stop after `id`.
    public func isEndOfGeneration(_ id: Int32) -> Bool {
        if id == eosTokenID || extraEndOfGenerationIDs.contains(id) { return true }
        guard id >= 0, Int(id) < tokens.count else { return false }
        let type = tokenTypes[Int(id)]
        return (type == .control || type == .userDefined) && Self.endOfGenerationTexts.contains(tokens[Int(id)])
    }
}
