import AgentCore
import Foundation
@testable import ChatTemplate
import TestSupport
import Testing

let constraintTools: [ToolDeclaration] = [
    ToolDeclaration(name: "shell", description: "Run a command.", parameters: [
        "type": "object", "properties": ["command": ["type": "string"], "timeout": ["type": "integer"]],
        "required": ["command"]]),
    ToolDeclaration(name: "read_file", description: "Read lines.", parameters: [
        "type": "object",
        "properties": [
            "path": ["type": "string"],
            "range": ["type": "object", "properties": ["start": ["type": "integer"], "count": ["type": "integer"]],
                      "required": ["start"]],
            "mode": ["enum": ["text", "hex", 1.5, nil]],
            "tags": ["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 3],
            "strict": ["type": "boolean"],
            "scale": ["type": ["number", "null"]],
            "extra": ["type": "object"],
        ],
        "required": ["path", "strict"]]),
    ToolDeclaration(name: "list_files", description: "List.", parameters: ["type": "object", "properties": [:]]),
    ToolDeclaration(name: "say", description: "Say.", parameters: [
        "type": "object", "properties": ["text": ["type": "string", "enum": ["hi \"there\"", "é😀", "\\"]]], "required": ["text"]]),
]

/// A small vocabulary with single bytes, JSON fragments, tags, multi-byte and partial UTF-8 tokens.
let testVocabulary: [[UInt8]] = {
    var v: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    let pieces = ["{\"", "\":", "\": \"", "\", \"", "\"name\"", "name", "arguments", "\"arguments\": {", "<tool_call>",
                  "</tool_call>", "\n", "}}", "}}\n</tool_call>", "true", "false", "null", "12", "3.5", "e+", "\\u", "D83D",
                  "\\ud83d", "\\ude00", "é", "世界", "ls -la", " ", "  ", "shell", "read_file", "\"shell\"", "path", "\"path\": \"",
                  "\", ", "\"}", "\"}}", "\\n", "\\\"", "\"command\"", "command", "\"tags\": [\"", "\"]", "\"strict\": true",
                  "<tool", "_call>", "_call>\n{\"", "list_files", "\"list_files\", \"arguments\": {}}", "mode", "hex", "1.", "5",
                  "-0", "0.0", "1e5", "[]", "{}", "range", "start", "count", "\"range\": {\"start\": 1}", "abc\"def", "x\"}, \"y",
                  "say", "hi \\\"there\\\"", "é😀", "\\\\", "\"\\\\\"", ", ", "\t", "\r\n", "    ", "Sure", " I", " will", " call"]
    v += pieces.map { Array($0.utf8) }
    v += [[0xE4], [0xB8, 0x96], [0xF0, 0x9F], [0x98, 0x80], [0xED, 0xA0, 0x80] /* surrogate: invalid */, [0xC0, 0x80]]
    return v
}()
let eogID = testVocabulary.count       // end of generation
let controlID = testVocabulary.count + 1  // excluded

func makeTestTrie() -> TokenTrie {
    TokenTrie(count: testVocabulary.count + 2, bytes: { $0 < testVocabulary.count ? testVocabulary[$0] : Array("<|x|>".utf8) },
              kind: { $0 == eogID ? .endOfGeneration : $0 == controlID ? .excluded : .text })
}

/// Whether the bytes are accepted from the constraint's current state, checked byte by byte (no trie).
func accepts(_ c: ToolCallConstraint, _ bytes: [UInt8]) -> Bool {
    // Re-run from a copy: replay the history into a fresh constraint.
    let copy = ToolCallConstraint(trie: c.trie, tools: constraintTools)
    copy.advance(bytes: c.history)
    copy.advance(bytes: bytes)
    return !copy.failed
}

extension ToolCallConstraint {
    var history: [UInt8] { recordedBytes }
}

@Suite struct ToolCallConstraintTests {
    let trie = makeTestTrie()

    func run(_ text: String, bare: Bool = false) -> ToolCallConstraint {
        let c = ToolCallConstraint(trie: trie, tools: constraintTools)
        c.advance(bytes: Array(text.utf8))
        return c
    }

    @Test func acceptsValidCalls() {
        let valid = [
            "<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls -la \\\"x\\\" \\u00e9 \\ud83d\\ude00 世界\"}}\n</tool_call>",
            "Let me see.<tool_call>{\"name\":\"list_files\",\"arguments\":{}}</tool_call> and more",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"strict\": false, \"path\": \"a\", \"range\": {\"count\": 3, \"start\": -10}, \"mode\": 1.5, \"tags\": [\"x\", \"y\"], \"scale\": -0.5e+3, \"extra\": {\"k\": [1, {\"z\": null}]}}}</tool_call>",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\", \"strict\": true, \"mode\": null, \"scale\": null}}</tool_call>",
            "<tool_call>{\"name\": \"say\", \"arguments\": {\"text\": \"hi \\\"there\\\"\"}}</tool_call><tool_call>{\"name\": \"say\", \"arguments\": {\"text\": \"\\\\\"}}</tool_call>",
            "  \n{\"name\": \"shell\", \"arguments\": {\"command\": \"pwd\", \"timeout\": 0}}",
        ]
        for text in valid {
            let c = run(text)
            #expect(!c.failed, "\(text)")
            #expect(!c.isInsideCall || c.mustEnd, "\(text)")
        }
        #expect(run(valid[4]).completedCalls == 2)
        #expect(run(valid[5]).mustEnd)
    }

    @Test func rejectsInvalidCalls() {
        let invalid = [
            "<tool_call>{\"name\": \"rm\"",                                            // unknown tool
            "<tool_call>{\"arguments\": {}}",                                        // name first
            "<tool_call>{\"name\": \"shell\", \"arguments\": {}}",                  // missing required
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": 1",      // wrong type
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"cmd\"",             // undeclared key
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a\", \"command\"",  // duplicate key
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a\", \"timeout\": 1.5",  // integer
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"\\udc00",  // lone low surrogate
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"\\ud800x",  // high surrogate alone
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a\nb",  // raw control character
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\", \"strict\": true, \"mode\": \"txt",  // enum
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\", \"strict\": true, \"tags\": []",  // minItems
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\", \"strict\": true, \"tags\": [\"1\", \"2\", \"3\",",  // maxItems
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\", \"strict\": true, \"range\": {}",  // nested required
            "<tool_call>{\"name\": \"list_files\", \"arguments\": {},",               // nothing after arguments
            "<tool_call>{\"name\": \"list_files\", \"arguments\": {}}}",              // extra brace
            "<tool_call>{\"name\": \"list_files\", \"arguments\": {}}</tool_cal!",    // close tag
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a\", \"timeout\": 01",  // leading zero
            "{\"name\": \"list_files\", \"arguments\": {}}x",                           // text after a bare call
            "<tool_call>x",
        ]
        for text in invalid { #expect(run(text).failed, "\(text)") }
        let bad = ToolCallConstraint(trie: trie, tools: constraintTools)
        bad.advance(bytes: Array("<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"".utf8) + [0xC0, 0x80])
        #expect(bad.failed)  // overlong UTF-8
    }

    @Test func endOfGenerationOnlyWhereTheReplyMayEnd() {
        let c = ToolCallConstraint(trie: trie, tools: constraintTools)
        #expect(c.allowedTokenIDs().contains(Int32(eogID)))
        #expect(!c.allowedTokenIDs().contains(Int32(controlID)))
        c.advance(bytes: Array("{\"name\": \"list_files\", \"arguments\": {}".utf8))
        #expect(!c.allowedTokenIDs().contains(Int32(eogID)))
        c.advance(bytes: Array("}".utf8))
        let ids = c.allowedTokenIDs()
        #expect(ids.contains(Int32(eogID)))
        #expect(ids.allSatisfy { $0 == Int32(eogID) || testVocabulary[Int($0)].allSatisfy(isJSONSpace) })
        c.advance(Int32(eogID))
        #expect(c.allowedTokenIDs().isEmpty)
    }

    @Test func fencedCallsAreConstrained() {
        let fenced = run("```json\n{\"name\": \"list_files\", \"arguments\": {}}")
        #expect(!fenced.failed && fenced.mustEnd && fenced.completedCalls == 0)
        #expect(run("```\n  {\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}").mustEnd)
        #expect(run("```json\n{\"name\": \"ls -la\"").failed)  // a command is not a tool name
        #expect(run("```json\n{\"name\": \"shell\", \"arguments\": {}}").failed)  // missing required argument
        for text in ["```bash\nls -la\n```", "```\nplain code\n```", "```json\n[1, 2]"] {
            let c = run(text)
            #expect(!c.failed && !c.isInsideCall, "\(text)")  // other fences stay text
        }
    }

    /// `parallel`: bare calls one after another, a fenced call's closing fence then another call; never
    /// text after a call; the reply may end after any complete call (and only there).
    @Test func parallelCallsFollowOneAnother() {
        func parallel(_ text: String, choice: ToolChoice = .auto) -> ToolCallConstraint {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: choice, parallel: true)
            c.advance(bytes: Array(text.utf8))
            return c
        }
        let a = "{\"name\": \"list_files\", \"arguments\": {}}", b = "{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}"
        for text in [a + "\n" + b, a + b, "```json\n" + a + "\n```\n```json\n" + b + "\n```", "```json\n" + a + "\n```\n" + b] {
            let c = parallel(text)
            #expect(!c.failed && !c.mustEnd && !c.repeatedCall, "\(text)")
            #expect(c.allowedTokenIDs().contains(Int32(eogID)), "\(text)")
        }
        // A call identical to an earlier one of the reply (whitespace aside) ends it, bare, fenced or tagged;
        // the same tool with other arguments does not.
        let a2 = "{\"name\":\"list_files\",\n \"arguments\": { }}"
        for text in [a + "\n" + b + "\n" + a, a + a2, "```json\n" + a + "\n```\n```json\n" + a + "\n```",
                     "<tool_call>\n" + b + "\n</tool_call>\n<tool_call>\n" + b + "\n</tool_call>"] {
            let c = parallel(text)
            #expect(!c.failed && c.repeatedCall && c.mustEnd, "\(text)")
        }
        let other = "{\"name\": \"shell\", \"arguments\": {\"command\": \"ls -la\"}}"
        #expect(!parallel(b + "\n" + other).mustEnd)
        let reset = parallel(a + a)
        reset.reset()
        reset.advance(bytes: Array(a.utf8))
        #expect(!reset.repeatedCall)
        #expect(parallel(a + "\n" + b).completedCalls == 1)  // the last bare call is complete but not counted until the reply ends
        for text in [a + " and then", a + "\n```", "```json\n" + a + "\n``` done", "```json\n" + a + "\n```\n```bash\nls", a + "\n{\"name\": \"rm\""] {
            #expect(parallel(text).failed, "\(text)")
        }
        // Inside the second call the end may not come; after it, it may.
        let open = parallel(a + "\n{\"name\": \"shell\"")
        #expect(!open.allowedTokenIDs().contains(Int32(eogID)))
        let fence = parallel("```json\n" + a + "\n``")
        #expect(!fence.failed && !fence.allowedTokenIDs().contains(Int32(eogID)))
        // Required: after one call the reply may end.
        #expect(parallel(a, choice: .required).allowedTokenIDs().contains(Int32(eogID)))
        // Without `parallel` a bare call must end the reply (the old behaviour, kept for old transcripts).
        #expect(run(a).mustEnd && run(a + "\n" + b).failed)
        // The mask agrees with byte-by-byte checking between and after calls.
        for prefix in [a, a + "\n", "```json\n" + a + "\n", "```json\n" + a + "\n`", "```json\n" + a + "\n```\n", "```json\n" + a + "\n```\n``"] {
            let c = parallel(prefix)
            #expect(!c.failed, "\(prefix)")
            let mask = Set(c.allowedTokenIDs())
            for id in 0..<testVocabulary.count {
                let copy = ToolCallConstraint(trie: trie, tools: constraintTools, parallel: true)
                copy.advance(bytes: Array(prefix.utf8) + testVocabulary[id])
                #expect(mask.contains(Int32(id)) == !copy.failed, "prefix \(prefix) token \(testVocabulary[id])")
            }
        }
    }

    /// Without `parallel` a tagged call ends the reply at its close tag, as a bare call does at its `}`;
    /// with it, another tagged call may follow.
    @Test func aTaggedCallEndsTheReplyWithoutParallel() {
        let call = "<tool_call>\n{\"name\": \"list_files\", \"arguments\": {}}\n</tool_call>"
        let open = run("Sure <tool_call>\n{\"name\": \"list_files\", \"arguments\": {}}\n</tool_call")
        #expect(!open.failed && !open.mustEnd)
        let one = run(call)
        #expect(!one.failed && one.mustEnd && one.completedCalls == 1)
        let parallel = ToolCallConstraint(trie: trie, tools: constraintTools, parallel: true)
        parallel.advance(bytes: Array(call.utf8))
        #expect(!parallel.failed && !parallel.mustEnd)
        // `endBeforeCloseTag`: the reply may end once the object is complete (the caller writes the tag).
        let object = "<tool_call>\n{\"name\": \"list_files\", \"arguments\": {}}"
        let held = run(object)
        #expect(held.awaitsCloseTag && !held.mustEnd && !held.allowedTokenIDs().contains(Int32(eogID)))
        let ending = ToolCallConstraint(trie: trie, tools: constraintTools)
        ending.endBeforeCloseTag = true
        ending.advance(bytes: Array(String(object.dropLast()).utf8))
        #expect(!ending.mustEnd)
        ending.advance(bytes: Array("}".utf8))
        #expect(ending.awaitsCloseTag && ending.mustEnd)
    }

    /// `stopAtUntaggedCall`: a call opened bare or fenced (under `auto` or `required`) ends the reply at its
    /// `{`, and says so; a tagged call, text and other fences do not; `reset` clears it and keeps the setting.
    @Test func anUntaggedOpeningStopsTheReplyWhenAsked() {
        func stopping(_ text: String, choice: ToolChoice = .auto) -> ToolCallConstraint {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: choice)
            c.stopAtUntaggedCall = true
            c.advance(bytes: Array(text.utf8))
            return c
        }
        for (text, choice) in [("{", ToolChoice.auto), ("\n{\"", .auto), ("```json\n{", .auto), ("{\"name", .required), ("```\n  {", .required)] {
            let c = stopping(text, choice: choice)
            #expect(!c.failed && c.openedUntagged && c.mustEnd, "\(text)")
        }
        for text in ["```json\n", "Sure, ", "```python\nprint(1)", "<tool_call>\n{\"name\": \"shell\"", "<tool_call>\n{"] {
            let c = stopping(text)
            #expect(!c.failed && !c.openedUntagged && !c.mustEnd, "\(text)")
        }
        let c = stopping("{")
        c.reset()
        #expect(!c.openedUntagged && c.stopAtUntaggedCall)
        c.advance(bytes: Array("```json\n{".utf8))
        #expect(c.openedUntagged)
        // Off (the default), an untagged call goes on to its end.
        #expect(!run("{\"name\": \"list_files\"").openedUntagged && !run("{").mustEnd)
    }

    @Test func requiredChoiceAdmitsOnlyACall() {
        func required(_ text: String) -> ToolCallConstraint {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: .required)
            c.advance(bytes: Array(text.utf8))
            return c
        }
        for call in ["{\"name\": \"list_files\", \"arguments\": {}}", "\n```json\n  {\"name\": \"list_files\", \"arguments\": {}}"] {
            #expect(!required(call).failed, "\(call)")
        }
        for text in ["Sure", "```python\n", "```json\nx", "<tool_call>", "[{"] { #expect(required(text).failed, "\(text)") }
        let start = ToolCallConstraint(trie: trie, tools: constraintTools, choice: .required)
        let ids = start.allowedTokenIDs()
        #expect(!ids.contains(Int32(eogID)))  // no empty reply
        #expect(ids.contains(Int32(testVocabulary.firstIndex(of: Array("{\"".utf8))!)))
        #expect(!ids.contains(Int32(testVocabulary.firstIndex(of: Array("Sure".utf8))!)))
        #expect(!ids.contains(Int32(testVocabulary.firstIndex(of: Array("<tool_call>".utf8))!)))
        start.reset()
        #expect(start.allowedTokenIDs() == ids)  // reset keeps the choice
    }

    @Test func noneChoiceAdmitsNoCall() {
        func none(_ text: String) -> ToolCallConstraint {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: .none)
            c.advance(bytes: Array(text.utf8))
            return c
        }
        #expect(!none("Sure, the answer is {42} and <b>bold</b> `code`.").failed)
        for text in ["{\"name\"", "  [", "```json", "Sure <tool_call>"] { #expect(none(text).failed, "\(text)") }
        let mid = none("Sure")
        #expect(mid.needsMask)
        let ids = mid.allowedTokenIDs()
        #expect(!ids.contains(Int32(testVocabulary.firstIndex(of: Array("<tool_call>".utf8))!)))
        #expect(ids.contains(Int32(testVocabulary.firstIndex(of: Array("<tool".utf8))!)) && ids.contains(Int32(eogID)))
    }

    /// `callThreshold`: at the first token, the probability of the tokens that open a call decides
    /// whether the reply is a call; below the threshold nothing changes.
    @Test func callThresholdDecidesByTheModelsOdds() {
        let brace = testVocabulary.firstIndex(of: Array("{\"".utf8))!
        let tag = testVocabulary.firstIndex(of: Array("<tool_call>".utf8))!
        let sure = testVocabulary.firstIndex(of: Array("Sure".utf8))!
        // "Sure" gets e^2 against e^0 for each call opener: a small call probability.
        func logits() -> [Float] {
            var l = [Float](repeating: -.infinity, count: trie.vocabularySize)
            l[brace] = 0; l[tag] = 0; l[sure] = 2
            return l
        }
        let expected = 2 / (2 + exp(2.0))
        for (threshold, chosen) in [(0.3, false), (0.2, true), (0.0, true)] {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools)
            c.callThreshold = threshold
            var l = logits()
            l.withUnsafeMutableBufferPointer { c.constrain(logits: $0) }
            #expect(abs((c.callProbability ?? -1) - expected) < 1e-6)
            #expect(c.callChosen == chosen)
            // Chosen: the reply is a bare call (required); not chosen: the logits are those of `auto`.
            #expect(l[sure] == (chosen ? -.infinity : 2) && l[brace] == 0 && l[tag] == (chosen ? -.infinity : 0))
            c.advance(Int32(chosen ? brace : sure))
            #expect(!c.failed)
            // Decided once, at the first token.
            var later = logits()
            later.withUnsafeMutableBufferPointer { c.constrain(logits: $0) }
            #expect(abs((c.callProbability ?? -1) - expected) < 1e-6)
            c.reset()
            #expect(c.callProbability == nil && !c.callChosen && c.callThreshold == threshold)
        }
        // Without a threshold nothing is measured.
        let plain = ToolCallConstraint(trie: trie, tools: constraintTools)
        var l = logits()
        l.withUnsafeMutableBufferPointer { plain.constrain(logits: $0) }
        #expect(plain.callProbability == nil && l[sure] == 2)
    }

    /// An excluded call: its stop point is the first bytes of its first string argument, and the tokens
    /// that would reach it are banned while the call follows the excluded one; other calls are free.
    @Test func excludedCallsAreBannedWhereTheyCommit() {
        let ls = ToolCall(id: "", name: "shell", arguments: ["command": "ls -la", "timeout": 5])
        #expect(String(decoding: ExcludedCall(ls).stop, as: UTF8.self) == #"{"name":"shell","arguments":{"command":"ls -"#)
        let numbers = ToolCall(id: "", name: "shell", arguments: ["timeout": 5])
        #expect(String(decoding: ExcludedCall(numbers, argumentsKey: "parameters").stop, as: UTF8.self)
                == #"{"name":"shell","parameters":{"timeout":5}}"#)
        let empty = ToolCall(id: "", name: "list_files", arguments: [:])
        #expect(String(decoding: ExcludedCall(empty).stop, as: UTF8.self) == #"{"name":"list_files","arguments":{}}"#)

        let lsla = testVocabulary.firstIndex(of: Array("ls -la".utf8))!
        let l = testVocabulary.firstIndex(of: Array("l".utf8))!
        let dash = testVocabulary.firstIndex(of: Array("-".utf8))!
        func logits(after text: String, excluding calls: [ToolCall]) -> [Float] {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools)
            c.excludedCalls = calls.map { ExcludedCall($0) }
            c.advance(bytes: Array(text.utf8))
            var l = [Float](repeating: 0, count: trie.vocabularySize)
            l.withUnsafeMutableBufferPointer { c.constrain(logits: $0) }
            return l
        }
        let start = "{\"name\": \"shell\",\n \"arguments\": {\"command\": \""
        let banned = logits(after: start, excluding: [ls])
        #expect(banned[lsla] == -.infinity && banned[l] == 0)
        #expect(logits(after: start, excluding: [])[lsla] == 0)
        // Byte by byte the ban falls on the byte that reaches the stop point.
        #expect(logits(after: start + "ls ", excluding: [ls])[dash] == -.infinity)
        #expect(logits(after: start + "ls", excluding: [ls])[dash] == 0)
        // Diverged, or another tool: nothing is banned.
        #expect(logits(after: start + "x", excluding: [ls]) == logits(after: start + "x", excluding: []))
        let read = "{\"name\": \"read_file\", \"arguments\": {\"path\": \""
        #expect(logits(after: read, excluding: [ls]) == logits(after: read, excluding: []))
        #expect(logits(after: read, excluding: [])[lsla] == 0)
    }

    @Test func noToolsMeansNoConstraint() {
        let c = ToolCallConstraint(trie: trie, tools: [])
        #expect(c.inert && !c.needsMask && !c.failed)
        c.advance(bytes: Array("{\"name\": \"anything\"".utf8))
        #expect(!c.failed && !c.isInsideCall)
        #expect(c.allowedTokenIDs().count == trie.vocabularySize)
        c.reset()
        #expect(c.inert && !c.needsMask)
    }

    @Test func constrainLogits() {
        let c = ToolCallConstraint(trie: trie, tools: constraintTools)
        c.advance(bytes: Array("Sure".utf8))
        #expect(!c.needsMask)
        var logits = [Float](repeating: 1, count: trie.vocabularySize + 3)
        logits.withUnsafeMutableBufferPointer { c.constrain(logits: $0) }
        #expect(logits.allSatisfy { $0 == 1 })  // free text: untouched
        c.advance(bytes: Array(" <tool_call>{\"name\": \"".utf8))
        #expect(c.needsMask && c.isInsideCall)
        logits.withUnsafeMutableBufferPointer { c.constrain(logits: $0) }
        let allowed = Set(c.allowedTokenIDs())
        for (i, l) in logits.enumerated() { #expect((l == 1) == allowed.contains(Int32(i))) }
        #expect(allowed.map { testVocabulary[Int($0)] }.allSatisfy { $0.first.map { "slr".utf8.contains($0) } ?? false })
    }

    /// The trie walk (with its subtree shortcuts) agrees with checking every token byte by byte.
    @Test func maskMatchesBruteForce() {
        let prefixes = [
            "", "  ", "Sure", "text <", "text <tool", "<tool_call>", "<tool_call>\n{\"", "<tool_call>{\"name\": \"",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"", "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"",
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"x\\", "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"\\ud83d",
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"\u{E4}", "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a\", \"timeout\": 1",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\", \"strict\": t", "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"mode\": 1",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"extra\": {\"", "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"extra\": {\"k\": [",
            "<tool_call>{\"name\": \"list_files\", \"arguments\": {}}", "<tool_call>{\"name\": \"list_files\", \"arguments\": {}}</tool",
            "{", "{\"name\": \"say\", \"arguments\": {\"text\": \"", "{\"name\": \"list_files\", \"arguments\": {}}",
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a <", "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a </",
            "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a <tool_cal", "{\"name\": \"shell\", \"arguments\": {\"command\": \"</tool_call",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"tags\": [\"x\", \"<",
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"extra\": {\"<t",
        ]
        for prefix in prefixes {
            var bytes = Array(prefix.utf8)
            if prefix.hasSuffix("\u{E4}") { bytes.removeLast(); bytes.removeLast(); bytes.append(0xE4) }  // partial UTF-8
            let c = ToolCallConstraint(trie: trie, tools: constraintTools)
            c.advance(bytes: bytes)
            #expect(!c.failed, "\(prefix)")
            let mask = Set(c.allowedTokenIDs())
            for id in 0..<testVocabulary.count {
                let expected = accepts(c, testVocabulary[id])
                #expect(mask.contains(Int32(id)) == expected, "prefix \(prefix) token \(testVocabulary[id])")
            }
        }
    }

    /// Random logits: every sequence sampled under the mask is a call that parses and validates.
    @Test(arguments: [false, true]) func fuzzedSamplingAlwaysYieldsValidCalls(bare: Bool) {
        var rng = SplitMix64(seed: bare ? 7 : 11)
        var completed = 0
        for round in 0..<150 {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools)
            var text: [UInt8] = []
            if bare {
                text = Array("\n{".utf8)
            } else {
                text = Array("Let me check.\n<tool_call>\n".utf8)
            }
            c.advance(bytes: text)
            var steps = 0
            while steps < 600 {
                let allowed = c.allowedTokenIDs()
                #expect(!allowed.isEmpty, "dead end after \(String(decoding: text, as: UTF8.self))")
                if allowed.isEmpty { break }
                // Random logits, with structure favoured as the sequence grows so that calls finish.
                var best = allowed[0], bestScore = -Double.infinity
                for id in allowed {
                    let bytes = id == Int32(eogID) ? [] : testVocabulary[Int(id)]
                    var score = rng.nextDouble()
                    if steps > 40, bytes.contains(where: { [0x22, 0x7D, 0x5D, 0x3C].contains($0) }) || bytes.isEmpty { score += 1 }
                    if score > bestScore { bestScore = score; best = id }
                }
                c.advance(best)
                #expect(!c.failed)
                steps += 1
                if best == Int32(eogID) { break }
                text += testVocabulary[Int(best)]
                if !bare && c.completedCalls == 1 { break }
            }
            let reply = String(decoding: text, as: UTF8.self)
            guard bare ? c.mustEnd || text.last == UInt8(ascii: "}") && steps < 600 : c.completedCalls == 1 else { continue }
            completed += 1
            var parser = ToolCallParser(tools: constraintTools, turn: round)
            parser.push(reply)
            let result = parser.finish()
            #expect(result.malformed.isEmpty, "\(reply): \(result.malformed)")
            #expect(result.calls.count == 1, "\(reply)")
            if let call = result.calls.first, let tool = constraintTools.first(where: { $0.name == call.name }) {
                #expect(JSONSchema(tool.parameters).firstError(call.arguments) == nil, "\(reply)")
                #expect(call.recovered == bare)
            }
        }
        #expect(completed >= 100)
    }
}
