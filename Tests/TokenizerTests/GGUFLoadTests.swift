import Foundation
import GGUF
import Testing
@testable import Tokenizer

/// `Tokenizer(gguf:)` on tiny GGUF files written by the test: metadata is read as llama.cpp reads
/// it, and a file without a usable tokenizer gets a one-line error naming the file and the key.
@Suite("tokenizer from GGUF metadata")
struct GGUFLoadTests {
    func write(_ edit: (inout GGUFWriter) -> Void) throws -> String {
        var w = GGUFWriter()
        w.set("general.architecture", "llama")
        edit(&w)
        let path = NSTemporaryDirectory() + "loza-tok-\(UUID().uuidString).gguf"
        try w.write(to: path)
        return path
    }

    func tinyTokenizer(_ w: inout GGUFWriter, pre: String = "gpt-2") {
        w.set("tokenizer.ggml.model", "gpt2")
        w.set("tokenizer.ggml.pre", pre)
        w.set("tokenizer.ggml.tokens", strings: TinyVocab.tokens)
        w.set("tokenizer.ggml.merges", strings: TinyVocab.merges)
        w.set("tokenizer.ggml.token_type", .array(.int32, TinyVocab.types.map { .int32(Int32($0)) }))
        w.set("tokenizer.ggml.bos_token_id", .uint32(UInt32(TinyVocab.id("<|s|>"))))
        w.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(TinyVocab.id("<|e|>"))))
        w.set("tokenizer.ggml.add_bos_token", .bool(true))
    }

    @Test func readsVocabularyAndFlags() throws {
        let path = try write { tinyTokenizer(&$0) }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tok = try Tokenizer(path: path)
        #expect(tok.vocabularySize == TinyVocab.tokens.count)
        #expect(tok.preTokenizer == .gpt2)
        #expect(tok.bos == TinyVocab.id("<|s|>"))
        #expect(tok.eos == TinyVocab.id("<|e|>"))
        #expect(tok.addBOS && !tok.addEOS)
        #expect(tok.encode("aaa ab") == [TinyVocab.id("<|s|>"), TinyVocab.id("aa"), 0x61, 0x20, TinyVocab.id("ab")])
    }

    @Test func missingOrUnsupportedTokenizerIsAClearError() throws {
        let cases: [(String, (inout GGUFWriter) -> Void)] = [
            ("no tokenizer.ggml.model; the file has no tokenizer", { _ in }),
            ("tokenizer.ggml.model 'llama' is not supported (only byte-level BPE, 'gpt2')",
             { $0.set("tokenizer.ggml.model", "llama") }),
            ("tokenizer.ggml.tokens is missing or not an array of strings",
             { $0.set("tokenizer.ggml.model", "gpt2") }),
            ("tokenizer.ggml.eos_token_id is not a token id below 269", { w in
                tinyTokenizer(&w)
                w.set("tokenizer.ggml.eos_token_id", .uint32(100_000))
            }),
            ("unsupported pre-tokenizer 'tekken' (tokenizer.ggml.pre); supported: \(PreTokenizer.supportedNames)",
             { w in tinyTokenizer(&w, pre: "tekken") }),
        ]
        for (message, edit) in cases {
            let path = try write(edit)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: TokenizerError("\(path): \(message)")) { try Tokenizer(path: path) }
        }
    }
}
