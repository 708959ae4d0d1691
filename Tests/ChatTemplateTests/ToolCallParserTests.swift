import AgentCore
import ChatTemplate
import Testing

private let shell = ToolDeclaration(name: "shell", description: "Run a command.",
                                    parameters: ["type": "object", "properties": ["command": ["type": "string"]]])
private let read = ToolDeclaration(name: "read_file", description: "Read a file.",
                                   parameters: ["type": "object", "properties": ["path": ["type": "string"]]])
private let tools = [shell, read]

private struct Outcome: Equatable {
    var content: String
    var calls: [ToolCall]
    var malformed: [MalformedToolCall]
    var textEvents: String
    var opened: Int
    var closed: Int
}

private func run(_ parser: inout ToolCallParser, chunks: [[UInt8]]) -> Outcome {
    var text = "", opened = 0, closed = 0
    for chunk in chunks {
        for event in parser.push(bytes: chunk) {
            switch event {
            case .text(let t): text += t
            case .callOpened: opened += 1
            case .callClosed: closed += 1
            }
        }
    }
    let r = parser.finish()
    return Outcome(content: r.content, calls: r.calls, malformed: r.malformed, textEvents: text, opened: opened, closed: closed)
}

/// Parses `reply` whole, one byte at a time, one character at a time, and split in two at every byte;
/// all must agree. Returns the whole-reply outcome.
private func parse(_ reply: String, turn: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
    let bytes = Array(reply.utf8)
    var p = ToolCallParser(tools: tools, turn: turn)
    let whole = run(&p, chunks: [bytes])
    var q = ToolCallParser(tools: tools, turn: turn)
    #expect(run(&q, chunks: bytes.map { [$0] }) == whole, "byte by byte", sourceLocation: sourceLocation)
    var r = ToolCallParser(tools: tools, turn: turn)
    #expect(run(&r, chunks: reply.map { Array(String($0).utf8) }) == whole, "char by char", sourceLocation: sourceLocation)
    for cut in 0...bytes.count {
        var s = ToolCallParser(tools: tools, turn: turn)
        let o = run(&s, chunks: [Array(bytes[..<cut]), Array(bytes[cut...])])
        #expect(o == whole, "split at byte \(cut)", sourceLocation: sourceLocation)
        if o != whole { break }
    }
    return whole
}

@Suite struct ToolCallParserTests {
    @Test func plainText() {
        let o = parse("  The answer is 42 — <b>bold</b> and <tool_ but not a tag.\n")
        #expect(o.content == "The answer is 42 — <b>bold</b> and <tool_ but not a tag.")
        #expect(o.calls.isEmpty && o.malformed.isEmpty)
        #expect(o.textEvents == "  The answer is 42 — <b>bold</b> and <tool_ but not a tag.\n")
        #expect(o.opened == 0 && o.closed == 0)
    }

    @Test func oneTaggedCall() {
        let o = parse("Let me look.\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls -la\"}}\n</tool_call>")
        #expect(o.content == "Let me look.")
        #expect(o.calls == [ToolCall(id: "call_0_0", name: "shell", arguments: ["command": "ls -la"])])
        #expect(o.malformed.isEmpty)
        #expect(o.textEvents == "Let me look.\n")
        #expect(o.opened == 1 && o.closed == 1)
    }

    @Test func severalCallsAndIDsInOrder() {
        let o = parse("""
            <tool_call>
            {"name": "read_file", "arguments": {"path": "a.txt"}}
            </tool_call>
            <tool_call>
            {"name": "nope", "arguments": {}}
            </tool_call>
            <tool_call>
            {"name": "shell", "arguments": {"command": "echo \\"</tool_call>\\""}}
            </tool_call>
            """, turn: 3)
        // The third call's command contains the closing tag inside a JSON string: the tag wins (as in
        // llama.cpp), so that call's JSON is cut and reported as malformed.
        #expect(o.calls.map(\.id) == ["call_3_0"])
        #expect(o.calls.first?.name == "read_file")
        #expect(o.malformed.map(\.id) == ["call_3_1", "call_3_2"])
        #expect(o.malformed[0].name == "nope")
        #expect(o.malformed[0].reason == "unknown tool 'nope' (declared: shell, read_file)")
        #expect(o.malformed[1].reason.hasPrefix("invalid JSON in <tool_call>"))
        #expect(o.opened == 3 && o.closed == 3)
    }

    /// Several bare calls one after another, plain or each in its fence (what the constraint admits with
    /// `parallel_calls`): every call, recovered, ids in order; anything else between them keeps it text.
    @Test func consecutiveBareCalls() {
        let a = #"{"name": "read_file", "arguments": {"path": "a {b} \"c\""}}"#, b = #"{"name": "shell", "arguments": {"command": "ls"}}"#
        for reply in [a + "\n" + b, a + b, "```json\n\(a)\n```\n```json\n\(b)\n```", "```json\n\(a)\n```\n\(b)"] {
            let o = parse(reply)
            #expect(o.calls.map(\.name) == ["read_file", "shell"], "\(reply)")
            #expect(o.calls.map(\.id) == ["call_0_0", "call_0_1"] && o.calls.allSatisfy(\.recovered) && o.content.isEmpty, "\(reply)")
            #expect(o.calls[0].arguments == ["path": "a {b} \"c\""])
        }
        for reply in [a + " then " + b, a + "\n```bash\nls\n```", a + "\n{\"x\": 1}"] {
            #expect(parse(reply).calls.isEmpty, "\(reply)")
        }
        // A call repeating an earlier one of the reply (what the constraint ends a reply on) is not a second call.
        let again = #"{"name":"shell","arguments":{ "command":"ls"}}"#
        for reply in [a + "\n" + b + "\n" + again, "<tool_call>\n\(b)\n</tool_call>\n<tool_call>\n\(again)\n</tool_call>"] {
            let o = parse(reply)
            #expect(o.calls.map(\.arguments) == (reply.hasPrefix("<") ? [["command": "ls"]] : [["path": "a {b} \"c\""], ["command": "ls"]]), "\(reply)")
        }
    }

    @Test func unterminatedTag() {
        let complete = parse("<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"pwd\"}}\n")
        #expect(complete.calls == [ToolCall(id: "call_0_0", name: "shell", arguments: ["command": "pwd"], recovered: true)])
        #expect(complete.opened == 1 && complete.closed == 0)
        let cut = parse("Checking.<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"comm")
        #expect(cut.calls.isEmpty)
        #expect(cut.content == "Checking.")
        #expect(cut.malformed.count == 1)
        #expect(cut.malformed.first?.reason.hasPrefix("unterminated <tool_call> (no </tool_call>)") == true)
        #expect(cut.malformed.first?.raw == "{\"name\": \"shell\", \"arguments\": {\"comm")
        let empty = parse("<tool_call>")
        #expect(empty.malformed.first?.reason == "unterminated <tool_call> with no content")
    }

    @Test func reopenedWithoutClosing() {
        let o = parse("<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"a\"}}<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"b\"}}</tool_call>")
        #expect(o.calls.map(\.arguments) == [["command": "a"], ["command": "b"]])
        #expect(o.calls.map(\.recovered) == [true, false])
        #expect(o.opened == 2 && o.closed == 2)
    }

    @Test func malformedShapes() {
        let cases: [(String, String)] = [
            ("<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": }}</tool_call>", "invalid JSON in <tool_call>: invalid JSON at byte"),
            ("<tool_call>{\"arguments\": {\"command\": \"ls\"}}</tool_call>", "tool call without \"name\""),
            ("<tool_call>{\"name\": 7, \"arguments\": {}}</tool_call>", "tool call \"name\" must be a string, got integer"),
            ("<tool_call>{\"name\": \"shell\"}</tool_call>", "tool call 'shell' without \"arguments\""),
            ("<tool_call>{\"name\": \"shell\", \"arguments\": [1]}</tool_call>", "\"arguments\" of 'shell' must be a JSON object, got array"),
            ("<tool_call>{\"name\": \"shell\", \"arguments\": \"ls -la\"}</tool_call>", "\"arguments\" of 'shell' is a string that is not a JSON object"),
            ("<tool_call>\"shell\"</tool_call>", "<tool_call> must hold a JSON object {\"name\": ..., \"arguments\": {...}}, got string"),
            ("<tool_call>  \n </tool_call>", "empty <tool_call>"),
        ]
        for (reply, reason) in cases {
            let o = parse(reply)
            #expect(o.calls.isEmpty, "\(reply)")
            #expect(o.malformed.count == 1 && o.malformed[0].reason.hasPrefix(reason), "\(reply): \(o.malformed)")
            #expect(o.malformed.first?.id == "call_0_0")
        }
    }

    @Test func argumentsAsJSONStringAndOtherShapes() {
        let s = parse("<tool_call>\n{\"name\": \"shell\", \"arguments\": \"{\\\"command\\\": \\\"ls\\\"}\"}\n</tool_call>")
        #expect(s.calls == [ToolCall(id: "call_0_0", name: "shell", arguments: ["command": "ls"])])
        let openAI = parse("<tool_call>{\"type\": \"function\", \"function\": {\"name\": \"read_file\", \"arguments\": {\"path\": \"x\"}}}</tool_call>")
        #expect(openAI.calls.first?.name == "read_file")
        let fenced = parse("<tool_call>\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"a\"}}\n```\n</tool_call>")
        #expect(fenced.calls.count == 1 && fenced.malformed.isEmpty)
        let list = parse("<tool_call>[{\"name\": \"shell\", \"arguments\": {\"command\": \"a\"}}, {\"name\": \"read_file\", \"parameters\": {\"path\": \"p\"}}]</tool_call>")
        #expect(list.calls.map(\.id) == ["call_0_0", "call_0_1"])
        #expect(list.calls.map(\.name) == ["shell", "read_file"])
    }

    @Test func bareJSONReplyIsARecoveredCall() {
        let o = parse("\n{\"name\": \"shell\", \"arguments\": {\"command\": \"cat 'x }{ y'\"}}\n")
        #expect(o.calls == [ToolCall(id: "call_0_0", name: "shell", arguments: ["command": "cat 'x }{ y'"], recovered: true)])
        #expect(o.content == "")
        #expect(o.textEvents == "")
        #expect(o.opened == 1 && o.closed == 1)
        let fenced = parse("```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"ü.txt\"}}\n```")
        #expect(fenced.calls == [ToolCall(id: "call_0_0", name: "read_file", arguments: ["path": "ü.txt"], recovered: true)])
        // A fence left open (a constrained fenced call stops at its closing brace) still holds the call.
        let open = parse("```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}")
        #expect(open.calls.count == 1 && open.calls.allSatisfy(\.recovered))
        #expect(parse("```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}} and then").calls.isEmpty)
        let list = parse("[{\"name\": \"shell\", \"arguments\": {\"command\": \"a\"}}, {\"name\": \"shell\", \"arguments\": {\"command\": \"b\"}}]")
        #expect(list.calls.count == 2 && list.calls.allSatisfy(\.recovered))
        let strayClose = parse("{\"name\": \"shell\", \"arguments\": {\"command\": \"a\"}}\n</tool_call>")
        #expect(strayClose.calls.count == 1)
        let stringArgs = parse("{\"name\": \"shell\", \"arguments\": \"{\\\"command\\\": \\\"x\\\"}\"}")
        #expect(stringArgs.calls.first?.arguments == ["command": "x"])
    }

    /// Llama 3's call is the whole reply, `{"name": ..., "parameters": {...}}`, as its template writes it.
    @Test func llama3CallShape() {
        let call = ToolCall(id: "x", name: "shell", arguments: ["command": "ls -l"])
        let o = parse(ChatTemplate.llama3CallText(call))
        #expect(o.calls == [ToolCall(id: "call_0_0", name: "shell", arguments: ["command": "ls -l"], recovered: true)])
        #expect(o.content == "" && o.malformed.isEmpty)
        let unknown = parse("{\"name\": \"python\", \"parameters\": {\"code\": \"1\"}}")
        #expect(unknown.calls.isEmpty)
        #expect(unknown.malformed.first?.reason == "unknown tool 'python' (declared: shell, read_file)")
    }

    /// A model that explains first and writes its call last, on lines of its own: the call is recovered and
    /// the explanation is the content. Only at the end of the reply, and only calls of declared tools.
    @Test func callsAfterTextAtTheEnd() {
        let fenced = parse("I need the file first.\n\n```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"t.csv\"}}\n```\n")
        #expect(fenced.calls == [ToolCall(id: "call_0_0", name: "read_file", arguments: ["path": "t.csv"], recovered: true)])
        #expect(fenced.content == "I need the file first." && fenced.malformed.isEmpty)
        let bare = parse("Steps:\n1. list\n2. read\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}")
        #expect(bare.calls.map(\.name) == ["shell"] && bare.content == "Steps:\n1. list\n2. read")
        let two = parse("First:\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"a\"}}\n```\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"b\"}}\n```")
        #expect(two.calls.map(\.arguments) == [["command": "a"], ["command": "b"]] && two.content == "First:")
        // A fenced call with more explanation after it is a call too; the text around it is the content.
        let explained = parse("Use this:\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}\n```\nThat lists files.")
        #expect(explained.calls.map(\.name) == ["shell"] && explained.content == "Use this:\nThat lists files.")
        // Other fences (code, data) stay in the content.
        let mixed = parse("Code:\n```python\nprint(1)\n```\nThen:\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}\n```\nDone.")
        #expect(mixed.calls.count == 1 && mixed.content == "Code:\n```python\nprint(1)\n```\nThen:\nDone.")
        // Not on a line of its own, or an object in prose: not a call.
        #expect(parse("Run ```{\"name\": \"shell\", \"arguments\": {}}``` now.").calls.isEmpty)
        // A tool that is not declared, or JSON that is not a call: text.
        let undeclared = parse("Like so:\n```json\n{\"name\": \"python\", \"arguments\": {\"code\": \"1\"}}\n```")
        #expect(undeclared.calls.isEmpty && undeclared.malformed.isEmpty)
        let data = parse("The result:\n```json\n{\"total\": 15}\n```")
        #expect(data.calls.isEmpty && data.content.hasSuffix("{\"total\": 15}\n```"))
    }

    @Test func bareJSONThatIsNotACall() {
        let data = parse("{\"answer\": 42}")
        #expect(data.calls.isEmpty && data.malformed.isEmpty)
        #expect(data.content == "{\"answer\": 42}")
        let prose = parse("Here is the call: {\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}")
        #expect(prose.calls.isEmpty && prose.malformed.isEmpty)
        let unknown = parse("{\"name\": \"python\", \"arguments\": {\"code\": \"1\"}}")
        #expect(unknown.calls.isEmpty)
        #expect(unknown.malformed.first?.reason == "unknown tool 'python' (declared: shell, read_file)")
        let trailing = parse("{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}} and then some words")
        #expect(trailing.calls.isEmpty && trailing.malformed.isEmpty)
        #expect(trailing.opened == 1 && trailing.closed == 1)  // streaming saw an object open and close
        let missingArgs = parse("{\"name\": \"shell\"}")
        #expect(missingArgs.malformed.first?.reason == "tool call 'shell' without \"arguments\"")
    }

    @Test func unicodeTextAndArguments() {
        let o = parse("Voilà 🎉 — 计算:\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"echo 世界 \\u00e9 \\ud83d\\ude00\"}}\n</tool_call>\nFini ✓")
        #expect(o.content == "Voilà 🎉 — 计算:\n\nFini ✓")
        #expect(o.calls.first?.arguments == ["command": "echo 世界 é 😀"])
        #expect(o.textEvents == "Voilà 🎉 — 计算:\n\nFini ✓")
    }

    @Test func insideCallStateWhileStreaming() {
        var p = ToolCallParser(tools: tools)
        #expect(p.push("Sure.\n<tool_") == [.text("Sure.\n")])
        #expect(!p.isInsideCall)
        #expect(p.push("call>\n{\"name\"") == [.callOpened(bare: false)])
        #expect(p.isInsideCall)
        #expect(p.push(": \"shell\", \"arguments\": {\"command\": \"x\"}}\n</tool_call") == [])
        #expect(p.push(">") == [.callClosed(bare: false)])
        #expect(!p.isInsideCall && p.closedCallCount == 1)
        #expect(p.push("\nDone") == [.text("\nDone")])

        var b = ToolCallParser(tools: tools)
        #expect(b.push(" \n{\"name\": \"shell\", \"arguments\": {\"command\": \"}\"") == [.callOpened(bare: true)])
        #expect(b.isInsideCall)
        #expect(b.push("}") == [])
        #expect(b.push("}") == [.callClosed(bare: true)])
        #expect(!b.isInsideCall && b.closedCallCount == 1)
    }

    @Test func customIDPrefix() {
        var p = ToolCallParser(tools: tools, idPrefix: "t7-")
        p.push("<tool_call>{\"name\": \"shell\", \"arguments\": {}}</tool_call><tool_call>{}</tool_call>")
        let r = p.finish()
        #expect(r.calls.map(\.id) == ["t7-0"])
        #expect(r.malformed.map(\.id) == ["t7-1"])
        #expect(r.malformed.first?.reason == "tool call without \"name\"")
    }

    /// A reply cut inside its call (max_tokens inside a string the model never closed) is a malformed call
    /// of that tool, not an answer; a cut reply that is not a call of a declared tool stays text.
    @Test func aReplyCutInsideItsCallIsMalformed() {
        for reply in ["{\"name\": \"shell\", \"arguments\": {\"command\": \"echo 1, 2, 3, 4, 5, 6",
                      "```json\n{\"name\":\"read_file\", \"arguments\": {\"path\": ",
                      "  {\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}",
                      "```json\n{\n  \"name\" : \"shell\",\n  \"arguments\": {\n    \"command\": \"ls"] {
            let r = parse(reply)
            #expect(r.calls.isEmpty && r.content.isEmpty, "\(reply)")
            #expect(r.malformed.count == 1 && r.malformed.first?.reason.hasPrefix("unterminated call of '") == true, "\(reply)")
            #expect(r.malformed.first?.name == (reply.contains("read_file") ? "read_file" : "shell"))
        }
        for text in ["{\"total\": 3, \"items\": [1, 2", "{\"name\": \"web_search\", \"arguments\": {\"q\": \"x",
                     "The call would be {\"name\": \"shell\", \"arguments\": {"] {
            let r = parse(text)
            #expect(r.malformed.isEmpty && r.calls.isEmpty && r.content == text, "\(text)")
        }
    }
}
