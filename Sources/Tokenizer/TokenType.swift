/// The kind of a vocabulary entry, as stored in `tokenizer.ggml.token_type` (llama.cpp's numbering).
public enum TokenType: UInt8, Sendable, CaseIterable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Chat and format markers such as `<|im_start|>`: recognized in text only when special
    /// tokens are parsed, rendered when decoding only when asked to.
    case control = 3
    /// Added tokens such as Qwen's `<tool_call>`: always recognized in text, always rendered.
    case userDefined = 4
    case unused = 5
    /// `<0xHH>` byte tokens (SentencePiece-style byte fallback).
    case byte = 6

    init(gguf value: Int) {
        self = TokenType(rawValue: UInt8(clamping: max(0, value))) ?? .undefined
    }
}
