import TestSupport
import Testing
@testable import Tokenizer

@Suite("streaming decoder")
struct StreamingDecoderTests {
    @Test func holdsBackPartialCharacters() throws {
        let tok = try TinyVocab.make()
        var d = tok.streamingDecoder()
        #expect(d.push(0x61) == "a")
        // é = C3 A9, one byte token each
        #expect(d.push(0xC3) == "")
        #expect(d.pendingByteCount == 1)
        #expect(d.push(0xA9) == "é")
        // 😀 = F0 9F 98 80
        #expect(d.push(0xF0) == "")
        #expect(d.push(0x9F) == "")
        #expect(d.push(0x98) == "")
        #expect(d.push(0x80) == "😀")
        #expect(d.flush() == "")
    }

    @Test func invalidBytesBecomeReplacementCharacters() throws {
        let tok = try TinyVocab.make()
        var d = tok.streamingDecoder()
        #expect(d.push(0xFF) == "\u{FFFD}")
        #expect(d.push(0xC3) == "")
        #expect(d.push(0x61) == "\u{FFFD}a")  // a lead byte followed by ASCII
        #expect(d.push(0xE2) == "")
        #expect(d.push(0x82) == "")
        #expect(d.flush() == "\u{FFFD}")  // the stream ended inside a character
        #expect(d.pendingByteCount == 0)
    }

    @Test func specialTokensFollowTheRenderFlag() throws {
        let tok = try TinyVocab.make()
        var shown = tok.streamingDecoder()
        var hidden = tok.streamingDecoder(renderSpecial: false)
        #expect(shown.push(TinyVocab.id("<|e|>")) == "<|e|>")
        #expect(hidden.push(TinyVocab.id("<|e|>")) == "")
        #expect(hidden.push(TinyVocab.id("<tool>")) == "<tool>")
    }

    /// Emoji, flags and ZWJ sequences whose bytes the real vocabularies split across tokens.
    @Test("real models: streamed text equals the text, and no chunk splits a character",
          .requiresModel(RealModels.qwen, RealModels.smol), arguments: [TestModels.qwen, TestModels.smollm])
    func realModel(_ model: String) throws {
        let tok = try TestModels.tokenizer(model)
        let text = "family 👨‍👩‍👧‍👦 flags 🇺🇸🇯🇵 🏴󠁧󠁢󠁳󠁣󠁴󠁿 rare 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀𓀁 ẞ ﷽ 🫠🪿 漢字テスト 한국어"
        let ids = tok.encode(text)
        var d = tok.streamingDecoder()
        var out = ""
        var heldBack = 0
        for id in ids {
            let chunk = d.push(id)
            if chunk.isEmpty { heldBack += 1 }
            #expect(!chunk.unicodeScalars.contains("\u{FFFD}"), "token \(id) produced a broken character")
            out += chunk
        }
        out += d.flush()
        #expect(out == text)
        #expect(heldBack > 0, "no token ended inside a character; the test text should make some do so")
    }
}
