import TestSupport
import Testing
@testable import Tokenizer

@Suite("BPE, special tokens and errors on a tiny vocabulary")
struct TokenizerUnitTests {
    let tok: Tokenizer
    init() throws { tok = try TinyVocab.make() }

    func ids(_ texts: String...) -> [Int32] { texts.map(TinyVocab.id) }

    @Test func bytesAreTheirOwnTokens() {
        #expect(tok.encode("xyz") == [0x78, 0x79, 0x7A])
        #expect(tok.encode("é") == [0xC3, 0xA9])
        #expect(tok.decode([0xC3, 0xA9]) == "é")
        #expect(tok.tokenBytes(0x20) == [0x20])
    }

    @Test func lowestRankMergesFirst() {
        // "b c" (rank 1) beats "a b" (rank 2): a + bc, although "abc" exists via "ab c"
        #expect(tok.encode("abc") == [0x61] + ids("bc"))
        #expect(tok.encode("ab") == ids("ab"))
    }

    @Test func equalRanksMergeLeftmostFirst() {
        #expect(tok.encode("aaa") == ids("aa") + [0x61])
        #expect(tok.encode("aaaa") == ids("aa", "aa"))
    }

    @Test func mergesStayInsidePreTokens() {
        // " a" merges with its space; "a a" (rank 0) never merges across the space
        #expect(tok.encode("a a") == [0x61] + ids("Ġa"))
        // in " ab", "a b" (rank 2) comes before "Ġ a" (rank 4), and "Ġ ab" is no merge
        #expect(tok.encode("a ab") == [0x61, 0x20] + ids("ab"))
        #expect(tok.encode("  a") == [0x20] + ids("Ġa"))
    }

    @Test func specialTokensInText() {
        #expect(tok.encode("<|s|>ab<|e|>") == ids("<|s|>", "ab", "<|e|>"))
        #expect(tok.encode("<|s|>", parseSpecial: false) == Array("<|s|>".utf8).map { Int32($0) })
        // user-defined tokens are recognized even when special tokens are not parsed
        #expect(tok.encode("<tool>", parseSpecial: false) == ids("<tool>"))
        // unused tokens are never recognized
        #expect(tok.encode("[unused]") == Array("[unused]".utf8).map { Int32($0) })
    }

    @Test func longerSpecialTokensClaimTextFirst() {
        // "<|x" starts earlier but "x|>y" is longer, so it wins and "<|" stays text
        #expect(tok.encode("<|x|>y") == [0x3C, 0x7C] + ids("x|>y"))
    }

    @Test func addSpecialFollowsTheFlags() throws {
        #expect(tok.encode("a", addSpecial: true) == [0x61])
        let both = try TinyVocab.make(addBOS: true, addEOS: true)
        #expect(both.encode("a") == ids("<|s|>") + [0x61] + ids("<|e|>"))
        #expect(both.encode("a", addSpecial: false) == [0x61])
    }

    @Test func decodeRendersOrHidesControlTokens() {
        let x = ids("<|s|>", "ab", "<tool>", "<|e|>", "[unused]")
        #expect(tok.decode(x) == "<|s|>ab<tool><|e|>")
        #expect(tok.decode(x, renderSpecial: false) == "ab<tool>")
        #expect(tok.decode([-1, 999_999]) == "")
        #expect(tok.tokenBytes(-5) == [])
    }

    @Test func lookups() {
        #expect(tok.tokenID("<|e|>") == TinyVocab.id("<|e|>"))
        #expect(tok.tokenID("Ġab") == TinyVocab.id("Ġab"))
        #expect(tok.tokenID(" ab") == TinyVocab.id("Ġab"))
        #expect(tok.tokenID("nope") == nil)
        #expect(tok.tokenText(TinyVocab.id("Ġa")) == "Ġa")
        #expect(tok.tokenType(TinyVocab.id("<tool>")) == .userDefined)
        #expect(tok.vocabularySize == 256 + TinyVocab.extra.count)
        #expect(tok.isEndOfGeneration(TinyVocab.id("<|e|>")))
        #expect(!tok.isEndOfGeneration(TinyVocab.id("<|s|>")))
    }

    @Test func linearAndHeapMergingAgree() {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("aabbc ".utf8)
        for _ in 0..<500 {
            let n = 2 + Int(rng.next() % 120)
            let word = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            var linear: [Int32] = [], heap: [Int32] = []
            word.withUnsafeBufferPointer {
                tok.tables.bpeLinear($0.baseAddress!, n, into: &linear)
                tok.tables.bpeHeap($0.baseAddress!, n, into: &heap)
            }
            #expect(linear == heap, "\(String(decoding: word, as: UTF8.self))")
        }
    }

    @Test func badInputIsAClearError() {
        #expect(throws: TokenizerError("unsupported pre-tokenizer 'bogus' (tokenizer.ggml.pre); supported: \(PreTokenizer.supportedNames)")) {
            try TinyVocab.make(pre: "bogus")
        }
        #expect(throws: TokenizerError("BOS token id 5000 is outside the vocabulary of 269 tokens")) {
            try Tokenizer(tokens: TinyVocab.tokens, merges: [], types: TinyVocab.types, pre: "gpt-2", bos: 5000,
                          eos: nil, eot: nil, addBOS: false, addEOS: false)
        }
        #expect(throws: TokenizerError("3 token types for 269 tokens")) {
            try Tokenizer(tokens: TinyVocab.tokens, merges: [], types: [1, 1, 1], pre: "gpt-2", bos: nil,
                          eos: nil, eot: nil, addBOS: false, addEOS: false)
        }
        #expect(throws: TokenizerError("merge 1 'q zz' is not two vocabulary tokens whose concatenation is a token")) {
            try Tokenizer(tokens: TinyVocab.tokens, merges: ["a a", "q zz"], types: TinyVocab.types, pre: "gpt-2",
                          bos: nil, eos: nil, eot: nil, addBOS: false, addEOS: false)
        }
        #expect(throws: TokenizerError("the vocabulary is empty")) {
            try Tokenizer(tokens: [], merges: [], types: [], pre: "gpt-2", bos: nil, eos: nil, eot: nil,
                          addBOS: false, addEOS: false)
        }
        #expect(throws: TokenizerError("add_bos_token is set but there is no BOS token id")) {
            try Tokenizer(tokens: TinyVocab.tokens, merges: [], types: TinyVocab.types, pre: "gpt-2", bos: nil,
                          eos: nil, eot: nil, addBOS: true, addEOS: false)
        }
    }
}
