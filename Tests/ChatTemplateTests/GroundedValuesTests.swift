import AgentCore
import Foundation
@testable import ChatTemplate
import Testing

/// `prefer_copied_values`: at a string argument's first token, a copied opening the model finds about as
/// likely as an invented one takes its place; nothing else changes.
@Suite struct GroundedValuesTests {
    let trie = makeTestTrie()

    func id(_ piece: String) -> Int { testVocabulary.firstIndex(of: Array(piece.utf8))! }

    /// The token chosen greedily after `text`, with `scores` for some tokens (0 for the others).
    func top(after text: String, _ scores: [String: Float], evidence: String?) -> String {
        let c = ToolCallConstraint(trie: trie, tools: constraintTools)
        c.groundedValues = evidence.map { GroundedValues(evidence: $0) }
        c.advance(bytes: Array(text.utf8))
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: trie.vocabularySize)
        defer { logits.deallocate() }
        logits.initialize(repeating: 0)
        for (piece, score) in scores { logits[id(piece)] = score }
        c.constrain(logits: logits)
        var best = 0
        for i in 0..<trie.vocabularySize where logits[i] > logits[best] { best = i }
        return String(decoding: testVocabulary[best], as: UTF8.self)
    }

    static let command = "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \""

    @Test func aCopiedOpeningAboutAsLikelyAsAnInventedOneWins() {
        let user = "Please run LS -la in the data folder."
        // p(ls -la) / p(start) = e^-0.5 = 0.61: copied (case aside) wins; e^-1 = 0.37: the model's choice stays.
        #expect(top(after: Self.command, ["start": 5, "ls -la": 4.5], evidence: user) == "ls -la")
        #expect(top(after: Self.command, ["start": 5, "ls -la": 4], evidence: user) == "start")
        // Without the key, or when the favourite is copied, nothing changes.
        #expect(top(after: Self.command, ["start": 5, "ls -la": 4.5], evidence: nil) == "start")
        #expect(top(after: Self.command, ["start": 5, "ls -la": 4.5], evidence: "start it, or ls -la") == "start")
        // Only the value's first token: once the value has begun, the model writes it.
        #expect(top(after: Self.command + "x", ["start": 5, "ls -la": 4.5], evidence: user) == "start")
        // A name inside a word is no copy ("restart"), and a short piece is in any text.
        #expect(top(after: Self.command, ["start": 5, "path": 4.9], evidence: "restart the path") == "path")
        #expect(top(after: Self.command, ["hex": 5, "start": 4.9], evidence: "restart the path") == "hex")
        // A short favourite that begins a word of the evidence may be the start of a copy: it stays.
        #expect(top(after: Self.command, ["l": 5, "path": 4.9], evidence: "ls -la in the path") == "l")
    }

    @Test func copiesAreWordStartsInTheEvidenceCaseAndEscapesAside() {
        let g = GroundedValues(evidence: "Read \"Config/App.toml\" and C:\\Users, then restart.")
        #expect(g.isCopied(Array("config/app".utf8)))
        #expect(g.isCopied(Array("\\\"config".utf8)))   // an escaped quote is the quote
        #expect(g.isCopied(Array("C:\\\\Users".utf8)))  // an escaped backslash is one
        #expect(!g.isCopied(Array("start".utf8)))       // inside "restart"
        #expect(!g.isCopied(Array("re".utf8)))          // too short to tell for another token
        #expect(g.isCopied(Array("re".utf8), minimum: 1))  // but the model's own may begin a copy
        #expect(!g.isCopied(Array("/path".utf8)))
    }

    /// The scan tells keys from values, and values inside the arguments from the tool's name.
    @Test func onlyStringValuesInsideTheArgumentsAreConcerned() {
        var scan = ValueScan()
        for b in Array("{\"name\":\"shell\",\"arguments\":{\"command\":".utf8) { scan.push(b) }
        #expect(scan.awaitsValue)
        scan.push(UInt8(ascii: "\""))
        #expect(scan.openString?.isValue == true && scan.openString?.depth == 2)
        var key = ValueScan()
        for b in Array("{\"name\":\"shell\",\"arguments\":{\"com".utf8) { key.push(b) }
        #expect(key.openString?.isValue == false && !key.awaitsValue)
        var name = ValueScan()
        for b in Array("{\"name\":".utf8) { name.push(b) }
        #expect(!name.awaitsValue)
        var list = ValueScan()
        for b in Array("{\"name\":\"x\",\"arguments\":{\"tags\":[\"a\",".utf8) { list.push(b) }
        #expect(list.awaitsValue && list.lastClosed?.isValue == true)
    }
}
