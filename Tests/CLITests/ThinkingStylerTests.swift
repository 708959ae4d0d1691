import Testing
@testable import loza

/// The terminal dims the thinking block however the stream cuts its tags.
@Suite struct ThinkingStylerTests {
    static let reply = "<think>\nfirst a\n</think>\nThe answer <is> 4."

    func styled(_ pieces: [String]) -> (thinking: String, rest: String) {
        var styler = ThinkingStyler()
        var thinking = "", rest = ""
        for piece in pieces {
            for out in styler.push(piece) { if out.thinking { thinking += out.text } else { rest += out.text } }
        }
        return (thinking, rest)
    }

    @Test func everyCutGivesTheSameSplit() {
        let whole = styled([Self.reply])
        #expect(whole.thinking == "<think>\nfirst a\n</think>" && whole.rest == "\nThe answer <is> 4.")
        let chars = Array(Self.reply)
        for cut in 0...chars.count {
            #expect(styled([String(chars[..<cut]), String(chars[cut...])]) == whole, "cut at \(cut)")
        }
        #expect(styled(chars.map { String($0) }) == whole)
    }

    @Test func aNewReplyStartsOutside() {
        var styler = ThinkingStyler()
        _ = styler.push("<think>\nunclosed")
        #expect(styler.inside)
        styler.reset()
        #expect(styler.push("plain").map(\.thinking) == [false])
    }
}
