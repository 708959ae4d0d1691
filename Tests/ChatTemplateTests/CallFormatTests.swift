import AgentCore
@testable import ChatTemplate
import Testing

/// The call shape of the model's own template: Llama 3 writes `{"name": ..., "parameters": {...}}` as the
/// whole reply, Qwen and ChatML models `{"name": ..., "arguments": {...}}` in `<tool_call>` tags.
@Suite struct CallFormatTests {
    let trie = makeTestTrie()
    static let llama3Template = "<|start_header_id|>{{ m }}<|end_header_id|><|eot_id|> Cutting Knowledge Date "
        + "{\"name\": function name, \"parameters\": dictionary of argument name and its value}"

    @Test func templatesGiveTheirFormat() {
        #expect(ChatTemplate(template: Self.llama3Template).callFormat == .llama3)
        #expect(ChatTemplate(template: nil).callFormat == .standard)
    }

    @Test func llama3ConstraintAdmitsParametersOnly() {
        let call = "{\"name\": \"shell\", \"parameters\": {\"command\": \"pwd\"}}"
        let llama = ToolCallConstraint(trie: trie, tools: constraintTools, format: .llama3)
        llama.advance(bytes: Array(call.utf8))
        #expect(!llama.failed && llama.mustEnd)

        let wrongKey = ToolCallConstraint(trie: trie, tools: constraintTools, format: .llama3)
        wrongKey.advance(bytes: Array("{\"name\": \"shell\", \"arguments\"".utf8))
        #expect(wrongKey.failed)

        // The standard format still refuses Llama 3's key.
        let standard = ToolCallConstraint(trie: trie, tools: constraintTools)
        standard.advance(bytes: Array("{\"name\": \"shell\", \"parameters\"".utf8))
        #expect(standard.failed)
    }

    @Test func aLlama3ReplyIsANativeCallNotARecoveredOne() throws {
        let template = ChatTemplate(template: Self.llama3Template)
        let reply = "{\"name\": \"shell\", \"parameters\": {\"command\": \"pwd\"}}"
        var parser = ToolCallParser(tools: constraintTools, turn: 0, template: template)
        _ = parser.push(reply)
        let native = try #require(parser.finish().calls.first)
        #expect(native.name == "shell" && native.arguments == ["command": "pwd"] && !native.recovered)

        // A fenced object is not the template's format: recovered, with either template.
        var fenced = ToolCallParser(tools: constraintTools, turn: 0, template: template)
        _ = fenced.push("```json\n" + reply + "\n```")
        #expect(try #require(fenced.finish().calls.first).recovered)
        var qwen = ToolCallParser(tools: constraintTools, turn: 0, template: ChatTemplate(template: nil))
        _ = qwen.push(reply)
        #expect(try #require(qwen.finish().calls.first).recovered)
    }
}
