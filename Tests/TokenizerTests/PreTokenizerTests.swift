import Testing
@testable import Tokenizer

/// The scanners against pieces worked out by hand from each regular expression.
@Suite("pre-tokenizer scanners")
struct PreTokenizerTests {
    func split(_ kind: PreTokenizer, _ s: String) -> [String] {
        var s = s
        return s.withUTF8 { bytes in
            var text = ScalarText(capacity: bytes.count)
            var pieces = Pieces(capacity: bytes.count)
            var scratch = Pieces(capacity: bytes.count)
            defer { text.deallocate(); pieces.deallocate(); scratch.deallocate() }
            CharClass.bmp.withUnsafeBufferPointer { text.load(bytes, 0, bytes.count, bmp: $0) }
            kind.split(text, 0, text.count, into: &pieces, scratch: &scratch)
            var out: [String] = []
            var previous = 0
            for p in 0..<pieces.count {
                let end = pieces.ends[p]
                out.append(String(decoding: bytes[text.offsets[previous]..<text.offsets[end]], as: UTF8.self))
                previous = end
            }
            return out
        }
    }

    @Test func gpt2() {
        #expect(split(.gpt2, "Hello world") == ["Hello", " world"])
        #expect(split(.gpt2, "it's IT'S") == ["it", "'s", " IT", "'", "S"])
        #expect(split(.gpt2, "  foo") == [" ", " foo"])
        #expect(split(.gpt2, "\t\tfoo") == ["\t", "\t", "foo"])
        #expect(split(.gpt2, "x   ") == ["x", "   "])
        #expect(split(.gpt2, "123abc 45 !?") == ["123", "abc", " 45", " !?"])
        #expect(split(.gpt2, "a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(split(.gpt2, "naïve café") == ["naïve", " café"])
        #expect(split(.gpt2, "") == [])
    }

    @Test func qwen2() {
        #expect(split(.qwen2, "Hello world") == ["Hello", " world"])
        #expect(split(.qwen2, "IT'S it'll") == ["IT", "'S", " it", "'ll"])
        #expect(split(.qwen2, "x86_64") == ["x", "8", "6", "_", "6", "4"])
        #expect(split(.qwen2, "foo\n\nbar") == ["foo", "\n\n", "bar"])
        #expect(split(.qwen2, "a.\n\nb") == ["a", ".\n\n", "b"])
        #expect(split(.qwen2, " \tfoo") == [" ", "\tfoo"])
        #expect(split(.qwen2, "((a $var") == ["((", "a", " $", "var"])
        #expect(split(.qwen2, "a  \n  b") == ["a", "  \n", " ", " b"])
        #expect(split(.qwen2, "你好，世界") == ["你好", "，世界"])
        #expect(split(.qwen2, "end ") == ["end", " "])
    }

    @Test func llama3() {
        #expect(split(.llama3, "1234567 x") == ["123", "456", "7", " x"])
    }

    @Test func smollm() {
        #expect(split(.smollm, "a1b22") == ["a", "1", "b", "2", "2"])
        #expect(split(.smollm, "x 12") == ["x", " ", "1", "2"])
    }

    @Test func fallback() {
        #expect(split(.default, "hello, world") == ["hello", ",", " world"])
        #expect(split(.default, "1234567") == ["123", "456", "7"])
        #expect(split(.default, " 12345") == [" ", "123", "45"])
        #expect(split(.default, "a+=b") == ["a", "+=", "b"])
    }

    @Test func names() {
        #expect(PreTokenizer(ggufName: "qwen2") == .qwen2)
        #expect(PreTokenizer(ggufName: "smollm") == .smollm)
        #expect(PreTokenizer(ggufName: "gpt-2") == .gpt2)
        #expect(PreTokenizer(ggufName: "default") == .default)
        #expect(PreTokenizer(ggufName: "") == .default)
        #expect(PreTokenizer(ggufName: "tekken") == nil)
    }
}
