/// Byte-level BPE tokenizer (GGUF `tokenizer.ggml.model` = `gpt2`), built from a model's vocabulary,
/// merges and token types, with the pre-tokenizer `tokenizer.ggml.pre` names. Encoding matches
/// llama.cpp token for token (see Tests/TokenizerTests and scripts/make-tokenizer-fixtures.py).
/// Immutable after `init`; safe to share between threads.
public final class Tokenizer: Sendable {
    public let preTokenizer: PreTokenizer
    public let bos: Int32?
    public let eos: Int32?
    /// end of turn (`<|im_end|>` and the like): from metadata, else found by its text
    public let eot: Int32?
    public let pad: Int32?
    /// whether `encode(_:addSpecial: true)` puts BOS first / EOS last
    public let addBOS: Bool
    public let addEOS: Bool
    /// every token that ends generation, ascending
    public let endOfGenerationTokens: [Int32]

    let tables: Tables
    let specials: SpecialTokens
    /// a pre-token that is itself a token is not merged (Llama 3 style)
    let ignoreMerges: Bool
    let cache = WordCache()

    public var vocabularySize: Int { tables.count }

    /// Texts that mark the end of a turn or of a document in common vocabularies (llama.cpp's
    /// list), used when metadata does not name the token.
    static let endOfTurnTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                 "<EOT>", "<|end_of_text|>", "<|eom_id|>", "<end_of_utterance>"]
    /// Fill-in-the-middle pad / repository / file-separator markers, which also end generation.
    static let fimStopTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>",
                               "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>"]

    /// - Parameters:
    ///   - tokens: vocabulary texts, in the byte-level alphabet for normal tokens
    ///   - merges: `"left right"` pairs, highest priority first
    ///   - types: `tokenizer.ggml.token_type` values (empty: all normal)
    ///   - pre: `tokenizer.ggml.pre` (empty: missing, which means `default`)
    ///   - extraEndOfGeneration: further stop tokens from metadata (EOM, FIM pad/repo/separator)
    public init(tokens: [String], merges: [String], types: [Int], pre: String, bos: Int32?, eos: Int32?,
                eot: Int32?, addBOS: Bool, addEOS: Bool, pad: Int32? = nil,
                extraEndOfGeneration: [Int32] = []) throws {
        guard !tokens.isEmpty else { throw TokenizerError("the vocabulary is empty") }
        guard types.isEmpty || types.count == tokens.count else {
            throw TokenizerError("\(types.count) token types for \(tokens.count) tokens")
        }
        guard let kind = PreTokenizer(ggufName: pre) else {
            throw TokenizerError("unsupported pre-tokenizer '\(pre)' (tokenizer.ggml.pre); supported: \(PreTokenizer.supportedNames)")
        }
        let n = tokens.count
        for (name, id) in [("BOS", bos), ("EOS", eos), ("EOT", eot), ("PAD", pad)] {
            if let id, id < 0 || Int(id) >= n {
                throw TokenizerError("\(name) token id \(id) is outside the vocabulary of \(n) tokens")
            }
        }
        if let bad = extraEndOfGeneration.first(where: { $0 < 0 || Int($0) >= n }) {
            throw TokenizerError("end-of-generation token id \(bad) is outside the vocabulary of \(n) tokens")
        }
        if addBOS && bos == nil { throw TokenizerError("add_bos_token is set but there is no BOS token id") }
        if addEOS && eos == nil { throw TokenizerError("add_eos_token is set but there is no EOS token id") }

        let tokenTypes = types.isEmpty ? [TokenType](repeating: .normal, count: n) : types.map(TokenType.init(gguf:))
        tables = try Tables(tokens: tokens, types: tokenTypes, merges: merges)
        specials = SpecialTokens(tables: tables)
        preTokenizer = kind
        ignoreMerges = kind == .llama3
        self.bos = bos
        self.eos = eos
        self.pad = pad
        self.addBOS = addBOS
        self.addEOS = addEOS

        // end of turn and end of generation: metadata first, then known texts of non-normal tokens
        let tables = self.tables
        func special(_ text: String) -> Int32? {
            var t = text
            let id = t.withUTF8 { tables.find($0) }
            guard id >= 0, TokenType(rawValue: tables.types[Int(id)]) != .normal else { return nil }
            return id
        }
        let foundEOT = eot ?? Tokenizer.endOfTurnTexts.lazy.compactMap(special).first
        self.eot = foundEOT
        var stops = Set(extraEndOfGeneration)
        for t in Tokenizer.endOfTurnTexts + Tokenizer.fimStopTexts {
            if let id = special(t) { stops.insert(id) }
        }
        for id in [eos, foundEOT].compactMap({ $0 }) { stops.insert(id) }
        endOfGenerationTokens = stops.sorted()
    }

    // MARK: encoding

    /// Token ids of `text`. `addSpecial` adds BOS/EOS when the model's metadata asks for them;
    /// `parseSpecial` recognizes control tokens written in the text (`<|im_start|>`); user-defined
    /// tokens (`<tool_call>`) are recognized either way, as llama.cpp does.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        var out: [Int32] = []
        if addSpecial && addBOS, let bos { out.append(bos) }
        var text = text
        text.withUTF8 { encode(bytes: $0, parseSpecial: parseSpecial, into: &out) }
        if addSpecial && addEOS, let eos { out.append(eos) }
        return out
    }

    /// Appends the tokens of UTF-8 `bytes` (no BOS/EOS).
    public func encode(bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, into out: inout [Int32]) {
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return }
        out.reserveCapacity(out.count + n / 3 + 8)
        var text = ScalarText(capacity: n)
        var pieces = Pieces(capacity: n)
        var scratch = Pieces(capacity: preTokenizer == .default ? n : 0)
        defer { text.deallocate(); pieces.deallocate(); scratch.deallocate() }
        CharClass.bmp.withUnsafeBufferPointer { bmp in
            for fragment in specials.partition(bytes, parseSpecial: parseSpecial) {
                if fragment.token >= 0 {
                    out.append(fragment.token)
                    continue
                }
                text.load(bytes, fragment.start, fragment.end, bmp: bmp)
                pieces.count = 0
                preTokenizer.split(text, 0, text.count, into: &pieces, scratch: &scratch)
                var previous = 0
                for p in 0..<pieces.count {
                    let end = pieces.ends[p]
                    let from = text.offsets[previous], to = text.offsets[end]
                    encodeWord(base + from, to - from, into: &out)
                    previous = end
                }
            }
        }
    }

    @inline(__always)
    private func encodeWord(_ word: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
        if n == 1 {
            tables.bpe(word, n, into: &out)
            return
        }
        let cacheable = n <= WordCache.maxWordBytes
        let hash = cacheable ? WordCache.hash(word, n) : 0
        if cacheable && cache.lookup(word, n, hash: hash, into: &out) { return }
        let start = out.count
        if !(ignoreMerges && appendWholeWordToken(word, n, into: &out)) {
            tables.bpe(word, n, into: &out)
        }
        if cacheable { cache.insert(word, n, hash: hash, tokens: out[start...]) }
    }

    /// Llama 3 style: a pre-token that is a vocabulary token as a whole is that token.
    private func appendWholeWordToken(_ word: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) -> Bool {
        var encoded = [UInt8]()
        encoded.reserveCapacity(2 * n)
        for i in 0..<n { encoded.append(contentsOf: ByteLevel.utf8[Int(word[i])]) }
        let id = encoded.withUnsafeBufferPointer { tables.find($0) }
        guard id >= 0 else { return false }
        out.append(id)
        return true
    }

    // MARK: decoding

    /// Text of `ids`. Control tokens are written out unless `renderSpecial` is false; unused
    /// tokens render as nothing; bytes that do not form valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int32], renderSpecial: Bool = true) -> String {
        String(decoding: decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }

    /// Raw bytes of `ids` (the byte-level alphabet undone).
    public func decodeBytes(_ ids: [Int32], renderSpecial: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids { appendPiece(id, renderSpecial: renderSpecial, to: &out) }
        return out
    }

    /// The bytes token `id` stands for (empty for an id outside the vocabulary).
    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0 && Int(id) < tables.count else { return [] }
        return Array(tables.pieceBuffer(Int(id)))
    }

    @inline(__always)
    func appendPiece(_ id: Int32, renderSpecial: Bool, to out: inout [UInt8]) {
        guard id >= 0 && Int(id) < tables.count else { return }
        if !renderSpecial {
            let type = tables.types[Int(id)]
            if type == TokenType.control.rawValue || type == TokenType.unknown.rawValue { return }
        }
        out.append(contentsOf: tables.pieceBuffer(Int(id)))
    }

    // MARK: vocabulary

    /// The id of a token given its vocabulary text (`<|im_end|>`, `Ġthe`), or else the normal
    /// token whose decoded text is `piece` (`" the"`); nil when there is none.
    public func tokenID(_ piece: String) -> Int32? {
        var p = piece
        let direct = p.withUTF8 { tables.find($0) }
        if direct >= 0 { return direct }
        var encoded = ByteLevel.encode(piece.utf8)
        let id = encoded.withUTF8 { tables.find($0) }
        return id >= 0 && tables.types[Int(id)] == TokenType.normal.rawValue ? id : nil
    }

    /// The vocabulary text of token `id` as stored in the model (byte-level alphabet for normal tokens).
    public func tokenText(_ id: Int32) -> String? {
        guard id >= 0 && Int(id) < tables.count else { return nil }
        return String(decoding: tables.textBuffer(Int(id)), as: UTF8.self)
    }

    public func tokenType(_ id: Int32) -> TokenType? {
        guard id >= 0 && Int(id) < tables.count else { return nil }
        return TokenType(rawValue: tables.types[Int(id)]) ?? .undefined
    }

    /// True for EOS, EOT and the other tokens that end generation (`<|im_end|>`, `<|endoftext|>`, ...).
    public func isEndOfGeneration(_ id: Int32) -> Bool {
        endOfGenerationTokens.contains(id)
    }

    /// A decoder that turns generated ids into text as they come, never splitting a character.
    public func streamingDecoder(renderSpecial: Bool = true) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, renderSpecial: renderSpecial)
    }
}
