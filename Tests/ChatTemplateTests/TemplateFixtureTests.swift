import AgentCore
import ChatTemplate
import Foundation
import GGUF
import TestSupport
import Testing

/// Fixtures rendered by Python's jinja2 from each model's own template (scripts/make-template-fixtures.py).
struct TemplateFixture {
    struct Case {
        var name: String
        var messages: [Message]
        var tools: [ToolDeclaration]
        var addGenerationPrompt: Bool
        var enableThinking: Bool
        var expected: String
    }

    var model: String
    var template: String
    var templateSHA256: String
    var nativeTools: Bool
    var cases: [Case]

    static func load(_ model: String) throws -> TemplateFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(model)", withExtension: "json"),
                               "missing fixture Fixtures/\(model).json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let json = try JSONValue.parse(text)
        var cases: [Case] = []
        for c in json["cases"]?.arrayValue ?? [] {
            cases.append(Case(
                name: try #require(c["name"]?.stringValue),
                messages: try (c["messages"]?.arrayValue ?? []).map(message),
                tools: try (c["tools"]?.arrayValue ?? []).map(tool),
                addGenerationPrompt: try #require(c["add_generation_prompt"]?.boolValue as Bool?),
                enableThinking: c["enable_thinking"]?.boolValue ?? true,
                expected: try #require(c["expected"]?.stringValue)))
        }
        return TemplateFixture(model: model, template: try #require(json["template"]?.stringValue),
                               templateSHA256: try #require(json["template_sha256"]?.stringValue),
                               nativeTools: try #require(json["native_tools"]?.boolValue as Bool?), cases: cases)
    }

    static func message(_ m: JSONValue) throws -> Message {
        let role = try #require(Message.Role(rawValue: m["role"]?.stringValue ?? ""))
        let calls = try (m["tool_calls"]?.arrayValue ?? []).map { c in
            ToolCall(id: try #require(c["id"]?.stringValue), name: try #require(c["function"]?["name"]?.stringValue),
                     arguments: try #require(c["function"]?["arguments"]))
        }
        return Message(role: role, content: m["content"]?.stringValue ?? "", toolCalls: calls,
                       toolCallID: m["tool_call_id"]?.stringValue, name: m["name"]?.stringValue,
                       reasoning: m["reasoning_content"]?.stringValue)
    }

    static func tool(_ t: JSONValue) throws -> ToolDeclaration {
        let f = try #require(t["function"])
        return ToolDeclaration(name: try #require(f["name"]?.stringValue), description: f["description"]?.stringValue ?? "",
                               parameters: try #require(f["parameters"]))
    }
}

@Suite struct TemplateFixtureTests {
    /// Fixtures from the models' own templates, and from template files of models not at hand
    /// (llama.cpp's models/templates: Qwen3-0.6B, Llama 3.1 8B and 3.2 3B Instruct).
    static let fixtures = ["qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct", "qwen3", "llama3.1", "llama3.2"]

    @Test(arguments: fixtures)
    func rendersLikeJinja(model: String) throws {
        let fixture = try TemplateFixture.load(model)
        let template = ChatTemplate(template: fixture.template)
        #expect(template.warning == nil)
        #expect(template.templateSHA256 == fixture.templateSHA256)
        #expect(template.nativeTools == fixture.nativeTools)
        #expect(fixture.cases.count >= 15)
        for c in fixture.cases {
            let got = template.render(messages: c.messages, tools: c.tools, addGenerationPrompt: c.addGenerationPrompt,
                                      enableThinking: c.enableThinking)
            #expect(Array(got.utf8) == Array(c.expected.utf8), "\(model) case \(c.name):\n\(got)\n--- expected ---\n\(c.expected)")
        }
    }

    @Test func recognizesFamilies() throws {
        let qwen = ChatTemplate(template: try TemplateFixture.load("qwen2.5-coder-0.5b-instruct").template)
        #expect(qwen.family == .qwen25)
        #expect(qwen.defaultSystemPrompt == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        let smol = ChatTemplate(template: try TemplateFixture.load("smollm2-135m-instruct").template)
        #expect(smol.family == .chatml)
        #expect(smol.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(qwen.endOfTurn == "<|im_end|>" && !qwen.nativeThinking)
        let qwen3 = ChatTemplate(template: try TemplateFixture.load("qwen3").template)
        #expect(qwen3.family == .qwen3 && qwen3.nativeThinking && qwen3.nativeTools && qwen3.warning == nil)
        #expect(qwen3.defaultSystemPrompt == nil && qwen3.endOfTurn == "<|im_end|>")
        for name in ["llama3.1", "llama3.2"] {
            let llama = ChatTemplate(template: try TemplateFixture.load(name).template)
            #expect(llama.family == .llama3 && !llama.nativeThinking && llama.nativeTools && llama.warning == nil, "\(name)")
            #expect(llama.endOfTurn == "<|eot_id|>", "\(name)")
        }
    }

    /// Qwen3 shows reasoning only after the last user query; Llama 3 has no thinking turns and drops it.
    @Test func reasoningIsShownWhereTheTemplateSays() throws {
        let qwen3 = ChatTemplate(template: try TemplateFixture.load("qwen3").template)
        let turn = Message(role: .assistant, content: "Two.", reasoning: "count")
        let last = qwen3.render(messages: [.user("n?"), turn], tools: [], addGenerationPrompt: false)
        #expect(last.hasSuffix("<|im_start|>assistant\n<think>\ncount\n</think>\n\nTwo.<|im_end|>\n"))
        let earlier = qwen3.render(messages: [.user("n?"), turn, .user("and?")], tools: [], addGenerationPrompt: true)
        #expect(!earlier.contains("count") && earlier.contains("<|im_start|>assistant\nTwo.<|im_end|>\n"))
        #expect(qwen3.render(messages: [.user("n?")], tools: [], addGenerationPrompt: true, enableThinking: false)
                .hasSuffix("<|im_start|>assistant\n<think>\n\n</think>\n\n"))
        let llama = ChatTemplate(template: try TemplateFixture.load("llama3.2").template)
        #expect(!llama.render(messages: [.user("n?"), turn], tools: [], addGenerationPrompt: false).contains("count"))
    }

    /// Llama 3 takes one call per assistant turn; several calls of one message become consecutive turns.
    @Test func llama3WritesEachCallAsATurn() throws {
        let llama = ChatTemplate(template: try TemplateFixture.load("llama3.1").template)
        let calls = [ToolCall(id: "a", name: "ls", arguments: ["dir": "x"]), ToolCall(id: "b", name: "pwd", arguments: [:])]
        let text = llama.render(messages: [.user("go"), .assistant("", toolCalls: calls)], tools: [], addGenerationPrompt: false)
        #expect(text.hasSuffix("<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"ls\", \"parameters\": {\"dir\": \"x\"}}<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"pwd\", \"parameters\": {}}<|eot_id|>"))
    }

    @Test func unknownTemplateFallsBackToChatMLWithWarning() {
        let llama3 = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"
        let t = ChatTemplate(template: llama3)
        #expect(t.family == .chatml)
        #expect(t.warning?.contains("unrecognized chat template") == true)
        #expect(t.render(messages: [.user("hi")], tools: [], addGenerationPrompt: true)
                == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        #expect(ChatTemplate(template: nil).warning?.contains("no chat template") == true)
    }

    @Test func plainChatMLTemplateWithoutDefaultSystem() {
        let generic = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        let t = ChatTemplate(template: generic)
        #expect(t.warning == nil)
        #expect(t.defaultSystemPrompt == nil)
        #expect(t.render(messages: [.user("a"), .assistant("b")], tools: [], addGenerationPrompt: false)
                == "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nb<|im_end|>\n")
    }
}

@Suite(.requiresModel(RealModels.qwen, RealModels.smol)) struct TemplateFromModelTests {
    /// The fixtures were rendered from the template stored in each model: the same text reaches the same
    /// renderer, and renders every fixture conversation identically.
    @Test(arguments: ["qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct"])
    func templateInTheModelMatchesTheFixture(model: String) throws {
        let gguf = try GGUFFile(path: try RealModels.require(model))
        let text = try #require(gguf.string("tokenizer.chat_template"), "\(model): no tokenizer.chat_template")
        let fixture = try TemplateFixture.load(model)
        let template = ChatTemplate(template: text)
        #expect(template.templateSHA256 == fixture.templateSHA256)
        #expect(template.warning == nil)
        for c in fixture.cases {
            #expect(template.render(messages: c.messages, tools: c.tools, addGenerationPrompt: c.addGenerationPrompt) == c.expected,
                    "\(model) case \(c.name)")
        }
    }
}
