import Tokenizer

extension TokenTrie {
    /// The trie of a model's vocabulary: normal, user-defined (`<tool_call>`) and byte tokens by their bytes,
    /// end-of-generation tokens apart, control and unused tokens excluded.
    public convenience init(tokenizer: Tokenizer) {
        let eog = Set(tokenizer.endOfGenerationTokens)
        self.init(count: tokenizer.vocabularySize, bytes: { tokenizer.tokenBytes(Int32($0)) }, kind: { id in
            if eog.contains(Int32(id)) { return .endOfGeneration }
            switch tokenizer.tokenType(Int32(id)) {
            case .normal?, .userDefined?, .byte?: return .text
            default: return .excluded
            }
        })
    }
}
