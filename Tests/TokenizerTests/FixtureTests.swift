import Foundation
import TestSupport
import Testing
@testable import Tokenizer

/// Token ids must equal llama.cpp's for every fixture text, for both models and for the other
/// pre-tokenizers (SmolLM's vocabulary with another `tokenizer.ggml.pre`).
@Suite("llama.cpp reference fixtures", .requiresModel(RealModels.qwen, RealModels.smol))
struct FixtureTests {
    static let fixtures: [(fixture: String, model: String, pre: String?)] = [
        ("tokenizer-qwen2.5-coder-0.5b-instruct", TestModels.qwen, nil),
        ("tokenizer-smollm2-135m-instruct", TestModels.smollm, nil),
        ("tokenizer-smollm2-pre-gpt-2", TestModels.smollm, "gpt-2"),
        ("tokenizer-smollm2-pre-default", TestModels.smollm, "default"),
        ("tokenizer-smollm2-pre-llama3", TestModels.smollm, "llama3"),
        ("tokenizer-smollm2-pre-qwen2", TestModels.smollm, "qwen2"),
    ]

    /// Cases where loza differs from llama.cpp on purpose. llama.cpp turns every token whose text is
    /// `</s>` into an end-of-generation control token (a heuristic its source marks as added for
    /// PaddleOCR); in Qwen's vocabulary `</s>` is a normal token, so loza keeps it text (HTML
    /// strikethrough in code): with special tokens parsed, loza's ids equal llama.cpp's ids for the
    /// same text with special tokens *not* parsed (the plain BPE of `</s>`).
    static let plainBPECases: Set<String> = ["tokenizer-qwen2.5-coder-0.5b-instruct/html"]

    @Test("encode matches llama.cpp", arguments: fixtures.map(\.fixture))
    func encodeMatches(_ name: String) throws {
        let entry = try #require(Self.fixtures.first { $0.fixture == name })
        let fixture = try TokenizerFixture.load(name)
        let tok = try TestModels.tokenizer(entry.model, pre: entry.pre)
        #expect(tok.vocabularySize == fixture.vocab_size)
        var mismatches = 0
        for c in fixture.cases {
            let expected = Self.plainBPECases.contains("\(name)/\(c.name)") ? try #require(c.ids_no_special) : c.ids
            let ids = tok.encode(c.text, addSpecial: true, parseSpecial: true)
            if ids != expected {
                mismatches += 1
                let at = (0..<min(ids.count, expected.count)).first { ids[$0] != expected[$0] } ?? min(ids.count, expected.count)
                Issue.record("\(name)/\(c.name): first difference at token \(at): got \(Array(ids[at...].prefix(8))), llama.cpp \(Array(expected[at...].prefix(8)))")
            }
            let plain = tok.encode(c.text, addSpecial: false, parseSpecial: false)
            #expect(plain == (c.ids_no_special ?? c.ids), "\(name)/\(c.name) with special tokens not parsed")
        }
        #expect(mismatches == 0)
    }

    @Test("decode(encode(text)) == text", arguments: fixtures.map(\.fixture))
    func roundTrip(_ name: String) throws {
        let entry = try #require(Self.fixtures.first { $0.fixture == name })
        let fixture = try TokenizerFixture.load(name)
        let tok = try TestModels.tokenizer(entry.model, pre: entry.pre)
        for c in fixture.cases {
            #expect(tok.decode(tok.encode(c.text)) == c.text, "\(name)/\(c.name)")
            // and decoding llama.cpp's ids gives llama.cpp's bytes
            let expected = c.detokenized_hex.map(hexBytes) ?? Array(c.text.utf8)
            #expect(tok.decodeBytes(c.ids) == expected, "\(name)/\(c.name) decoding llama.cpp's ids")
        }
    }

    @Test("special token ids, BOS/EOS flags and end-of-generation set", arguments: fixtures.map(\.fixture))
    func specialIDs(_ name: String) throws {
        let entry = try #require(Self.fixtures.first { $0.fixture == name })
        let fixture = try TokenizerFixture.load(name)
        let tok = try TestModels.tokenizer(entry.model, pre: entry.pre)
        #expect(tok.bos == fixture.bos)
        #expect(tok.eos == fixture.eos)
        #expect(tok.addBOS == fixture.add_bos)
        #expect(tok.addEOS == fixture.add_eos)
        // llama.cpp also stops on Qwen's normal `</s>` token (see plainBPECases); loza does not
        let expectedEOG = fixture.eog.filter { tok.tokenType($0) != .normal }
        #expect(tok.endOfGenerationTokens == expectedEOG)
        if let eot = tok.eot { #expect(tok.isEndOfGeneration(eot)) }
    }

    @Test("token bytes match llama_token_to_piece", arguments: ["tokenizer-qwen2.5-coder-0.5b-instruct", "tokenizer-smollm2-135m-instruct"])
    func pieces(_ name: String) throws {
        let entry = try #require(Self.fixtures.first { $0.fixture == name })
        let fixture = try TokenizerFixture.load(name)
        let tok = try TestModels.tokenizer(entry.model, pre: entry.pre)
        let table = fixture.pieceTable
        #expect(table.count > 400)
        for (id, bytes) in table {
            // llama.cpp renders Qwen's `</s>` as a control token; its bytes are the same either way
            #expect(tok.tokenBytes(id) == bytes, "token \(id) \(tok.tokenText(id) ?? "?")")
        }
    }

    @Test("1 MB of pseudo-words: same ids as llama.cpp (count and hash)",
          arguments: ["tokenizer-qwen2.5-coder-0.5b-instruct", "tokenizer-smollm2-135m-instruct"])
    func bulk(_ name: String) throws {
        let entry = try #require(Self.fixtures.first { $0.fixture == name })
        let fixture = try TokenizerFixture.load(name)
        let bulk = try #require(fixture.bulk)
        let tok = try TestModels.tokenizer(entry.model, pre: entry.pre)
        let ids = tok.encode(PerformanceTests.pseudoWords(seed: bulk.seed, size: bulk.bytes), addSpecial: false)
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids { h = (h ^ UInt64(UInt32(bitPattern: id))) &* 0x100_0000_01B3 }
        #expect(ids.count == bulk.count)
        #expect(String(h, radix: 16).leftPadded(to: 16) == bulk.fnv64)
    }
}

extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
