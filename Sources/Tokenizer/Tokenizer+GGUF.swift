import GGUF

extension Tokenizer {
    /// Builds the tokenizer a GGUF model file describes (`tokenizer.ggml.*`). Only byte-level BPE
    /// vocabularies (`tokenizer.ggml.model` = `gpt2`) are supported; anything else is refused with
    /// a one-line error naming the file and the key.
    public convenience init(gguf: GGUFFile) throws {
        func fail(_ message: String) -> TokenizerError { TokenizerError("\(gguf.path): \(message)") }
        guard let model = gguf.string("tokenizer.ggml.model") else {
            throw fail("no tokenizer.ggml.model; the file has no tokenizer")
        }
        guard model == "gpt2" else {
            throw fail("tokenizer.ggml.model '\(model)' is not supported (only byte-level BPE, 'gpt2')")
        }
        guard let tokens = gguf.stringArray("tokenizer.ggml.tokens") else {
            throw fail("tokenizer.ggml.tokens is missing or not an array of strings")
        }
        guard let merges = gguf.stringArray("tokenizer.ggml.merges") else {
            throw fail("tokenizer.ggml.merges is missing or not an array of strings")
        }
        var types: [Int] = []
        if gguf.metadata["tokenizer.ggml.token_type"] != nil {
            guard let t = gguf.intArray("tokenizer.ggml.token_type") else {
                throw fail("tokenizer.ggml.token_type is not an array of integers")
            }
            types = t
        }
        func id(_ key: String) throws -> Int32? {
            guard gguf.metadata["tokenizer.ggml.\(key)"] != nil else { return nil }
            guard let v = gguf.int("tokenizer.ggml.\(key)"), v >= 0, v < tokens.count else {
                throw fail("tokenizer.ggml.\(key) is not a token id below \(tokens.count)")
            }
            return Int32(v)
        }
        func flag(_ key: String, default value: Bool) throws -> Bool {
            guard gguf.metadata["tokenizer.ggml.\(key)"] != nil else { return value }
            guard let v = gguf.bool("tokenizer.ggml.\(key)") else { throw fail("tokenizer.ggml.\(key) is not a bool") }
            return v
        }
        let pre = gguf.string("tokenizer.ggml.pre") ?? ""
        // llama.cpp turns BOS on for the Llama 3 family unless the file says otherwise
        let defaultBOS = PreTokenizer(ggufName: pre) == .llama3
        let extra = try ["eom_token_id", "fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id"].compactMap(id)
        let bos = try id("bos_token_id"), eos = try id("eos_token_id"), eot = try id("eot_token_id")
        let pad = try id("padding_token_id")
        let addBOS = try flag("add_bos_token", default: defaultBOS)
        let addEOS = try flag("add_eos_token", default: false)
        do {
            try self.init(tokens: tokens, merges: merges, types: types, pre: pre, bos: bos, eos: eos, eot: eot,
                          addBOS: addBOS, addEOS: addEOS, pad: pad, extraEndOfGeneration: extra)
        } catch let e as TokenizerError {
            throw fail(e.message)
        }
    }

    /// Opens a GGUF file and builds its tokenizer.
    public convenience init(path: String) throws {
        try self.init(gguf: try GGUFFile(path: path))
    }
}
