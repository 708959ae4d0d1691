import AgentCore
import Crypto

/// Renders a conversation and tool declarations into a model's prompt, exactly as the model's own Jinja
/// chat template (`tokenizer.chat_template` in the GGUF) does.
///
/// Four template families are recognized from the template text:
/// - `qwen25`: the Qwen2.5 template with native tools (`# Tools` system block, `<tool_call>` /
///   `<tool_response>`), default system prompt taken from the template;
/// - `qwen3`: the Qwen3 template: Qwen2.5's tools, no default system prompt, thinking turns
///   (`ChatTemplate+Qwen3.swift`);
/// - `llama3`: the Llama 3.1 / 3.2 / 3.3 template with tools (`ChatTemplate+Llama3.swift`); turns end with
///   `<|eot_id|>`;
/// - `chatml`: plain ChatML (SmolLM2 and others), with the template's default system prompt if it has one.
/// Anything else falls back to plain ChatML and says so in `warning`.
///
/// Templates without native tools (`nativeTools == false`) are given tools the way the Qwen2.5 format does,
/// through the messages: the tool block is appended to the system prompt, assistant tool calls are written
/// as `<tool_call>` text in the assistant content, and consecutive tool results become one user turn of
/// `<tool_response>` blocks. The template then renders those messages as it would any others.
public struct ChatTemplate: Sendable {
    public enum Family: String, Sendable {
        case qwen25 = "qwen2.5"
        case qwen3
        case llama3
        case chatml
    }

    public let family: Family
    /// The template text as stored in the model (empty when the model had none).
    public let source: String
    /// Hex SHA-256 of `source` (UTF-8), for transcript headers.
    public let templateSHA256: String
    /// The system prompt the template writes when the conversation has none.
    public let defaultSystemPrompt: String?
    /// True when the template itself renders tools and tool calls.
    public let nativeTools: Bool
    /// True when the template has thinking turns of its own (`<think>...</think>`, `enable_thinking`): it
    /// shows `Message.reasoning` where it chooses and drops it elsewhere. False: the runtime's think-then-act
    /// block is part of the assistant content the template renders.
    public let nativeThinking: Bool
    /// Set when the template was not recognized and plain ChatML is used instead.
    public let warning: String?

    /// How the template writes a call (the constraint admits that shape; the parser reads every shape).
    public var callFormat: CallFormat { family == .llama3 ? .llama3 : .standard }

    /// The text that ends an assistant turn.
    public var endOfTurn: String { family == .llama3 ? "<|eot_id|>" : "<|im_end|>" }

    /// Chooses the renderer for a template text (`tokenizer.chat_template`); nil or empty means the model
    /// has no template (plain ChatML, with a warning).
    public init(template: String?) {
        let text = template ?? ""
        source = text
        templateSHA256 = SHA256.hash(data: Array(text.utf8)).map { byte in
            let h = String(byte, radix: 16)
            return byte < 16 ? "0" + h : h
        }.joined()
        if ChatTemplate.isQwen3(text) {
            family = .qwen3
            nativeTools = true
            nativeThinking = true
            defaultSystemPrompt = nil
            warning = nil
        } else if ChatTemplate.isLlama3(text) {
            family = .llama3
            nativeTools = true
            nativeThinking = false
            defaultSystemPrompt = nil
            warning = nil
        } else if ChatTemplate.isQwen25(text) {
            family = .qwen25
            nativeTools = true
            nativeThinking = false
            defaultSystemPrompt = ChatTemplate.quotedDefaultSystem(in: text) ?? ChatTemplate.qwenDefaultSystem
            warning = nil
        } else if ChatTemplate.isChatML(text) {
            family = .chatml
            nativeTools = false
            nativeThinking = false
            defaultSystemPrompt = ChatTemplate.quotedDefaultSystem(in: text)
            warning = nil
        } else {
            family = .chatml
            nativeTools = false
            nativeThinking = false
            defaultSystemPrompt = nil
            warning = text.isEmpty
                ? "the model has no chat template (tokenizer.chat_template); using plain ChatML"
                : "unrecognized chat template (sha256 \(templateSHA256.prefix(12))); using plain ChatML"
        }
    }

    /// The prompt for `messages`, with `tools` declared, ending with the assistant header when
    /// `addGenerationPrompt` is true. `enableThinking` is the template's `enable_thinking` (templates with
    /// `nativeThinking` only; false opens the reply with an empty thinking block, as those templates do).
    public func render(messages: [Message], tools: [ToolDeclaration], addGenerationPrompt: Bool,
                       enableThinking: Bool = true) -> String {
        switch family {
        case .qwen25: return renderQwen25(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt)
        case .qwen3:
            return renderQwen3(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                               enableThinking: enableThinking)
        case .llama3: return renderLlama3(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt)
        case .chatml: return renderChatML(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt)
        }
    }

    // MARK: Qwen2.5

    static let qwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    static let toolsHeader = "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
    static let toolsFooter = "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
        + "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
        + "<args-json-object>}\n</tool_call>"

    static func toolBlock(_ tools: [ToolDeclaration]) -> String {
        var s = toolsHeader
        for tool in tools { s += "\n" + tool.openAIFunction.serialized(.python) }
        return s + toolsFooter
    }

    /// `<tool_call>\n{"name": NAME, "arguments": ARGS}\n</tool_call>` as the Qwen2.5 template writes it.
    public static func toolCallText(_ call: ToolCall) -> String {
        "<tool_call>\n{\"name\": \"" + call.name + "\", \"arguments\": " + call.arguments.serialized(.python) + "}\n</tool_call>"
    }

    private func renderQwen25(messages: [Message], tools: [ToolDeclaration], addGenerationPrompt: Bool) -> String {
        var out = ""
        let firstIsSystem = messages.first?.role == .system
        let system = firstIsSystem ? messages[0].content : (defaultSystemPrompt ?? ChatTemplate.qwenDefaultSystem)
        if !tools.isEmpty {
            out += "<|im_start|>system\n" + system + ChatTemplate.toolBlock(tools) + "<|im_end|>\n"
        } else {
            out += "<|im_start|>system\n" + system + "<|im_end|>\n"
        }
        for (i, message) in messages.enumerated() {
            switch message.role {
            case .system where i == 0:
                continue
            case .user, .system:
                out += "<|im_start|>" + message.role.rawValue + "\n" + message.content + "<|im_end|>\n"
            case .assistant where message.toolCalls.isEmpty:
                out += "<|im_start|>assistant\n" + ChatTemplate.shownContent(message) + "<|im_end|>\n"
            case .assistant:
                out += "<|im_start|>assistant"
                let content = ChatTemplate.shownContent(message)
                if !content.isEmpty { out += "\n" + content }
                for call in message.toolCalls { out += "\n" + ChatTemplate.toolCallText(call) }
                out += "<|im_end|>\n"
            case .tool:
                if i == 0 || messages[i - 1].role != .tool { out += "<|im_start|>user" }
                out += "\n<tool_response>\n" + message.content + "\n</tool_response>"
                if i == messages.count - 1 || messages[i + 1].role != .tool { out += "<|im_end|>\n" }
            }
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    // MARK: ChatML (SmolLM2 and fallback)

    private func renderChatML(messages: [Message], tools: [ToolDeclaration], addGenerationPrompt: Bool) -> String {
        let turns = toolsThroughMessages(messages, tools: tools)
        var out = ""
        for (i, turn) in turns.enumerated() {
            if i == 0, turn.role != "system", let system = defaultSystemPrompt {
                out += "<|im_start|>system\n" + system + "<|im_end|>\n"
            }
            out += "<|im_start|>" + turn.role + "\n" + turn.content + "<|im_end|>\n"
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    /// The messages a template without native tools is given (see the type's documentation).
    func toolsThroughMessages(_ messages: [Message], tools: [ToolDeclaration]) -> [(role: String, content: String)] {
        var turns: [(role: String, content: String)] = []
        var rest = messages[...]
        if !tools.isEmpty {
            var system = defaultSystemPrompt ?? ""
            if let first = messages.first, first.role == .system {
                system = first.content
                rest = messages.dropFirst()
            }
            var block = ChatTemplate.toolBlock(tools)
            if system.isEmpty { block.removeFirst(2) }
            turns.append(("system", system + block))
        }
        var lastWasTool = false
        for message in rest {
            switch message.role {
            case .assistant where !message.toolCalls.isEmpty:
                let content = ChatTemplate.shownContent(message)
                var parts = content.isEmpty ? [] : [content]
                parts += message.toolCalls.map(ChatTemplate.toolCallText)
                turns.append(("assistant", parts.joined(separator: "\n")))
            case .assistant:
                turns.append(("assistant", ChatTemplate.shownContent(message)))
            case .tool:
                let block = "<tool_response>\n" + message.content + "\n</tool_response>"
                if lastWasTool {
                    turns[turns.count - 1].content += "\n" + block
                } else {
                    turns.append(("user", block))
                }
            default:
                turns.append((message.role.rawValue, message.content))
            }
            lastWasTool = message.role == .tool
        }
        return turns
    }

    /// An assistant message's content as a template without thinking turns shows it: the runtime's
    /// thinking block (`Message.reasoning`) first, as the model wrote it, then the content.
    static func shownContent(_ message: Message) -> String {
        guard let reasoning = message.reasoning else { return message.content }
        return Reasoning.contentWithBlock(reasoning, message.content)
    }

    // MARK: Recognition

    static func isQwen25(_ t: String) -> Bool {
        t.contains("<|im_start|>") && t.contains("<tool_call>") && t.contains("<tool_response>")
            && t.contains("# Tools") && t.contains("tool_call.arguments | tojson")
    }

    static func isChatML(_ t: String) -> Bool {
        t.contains("<|im_start|>") && t.contains("<|im_end|>")
            && (t.contains("message['role']") || t.contains("message.role") || t.contains("message[\"role\"]"))
    }

    /// The default system prompt a template writes as a literal `'<|im_start|>system\n...<|im_end|>'` string
    /// (single- or double-quoted, with `\n` escapes or a literal newline), if it has one.
    static func quotedDefaultSystem(in t: String) -> String? {
        for marker in ["<|im_start|>system\\n", "<|im_start|>system\n"] {
            var search = t[...]
            while let r = search.range(of: marker) {
                let after = search[r.upperBound...]
                search = after
                // A literal default, not `'<|im_start|>system\n' + messages[0]['content']`.
                guard let end = after.range(of: "<|im_end|>") else { continue }
                let body = after[..<end.lowerBound]
                if body.isEmpty || body.contains("'") || body.contains("\"") || body.contains("{") || body.contains("+") {
                    continue
                }
                return body.split(separator: "\\n", omittingEmptySubsequences: false).joined(separator: "\n")
            }
        }
        return nil
    }
}

/// The shape of a tool call in a model's own chat format.
public struct CallFormat: Sendable, Hashable {
    /// The key of the call's arguments object.
    public var argumentsKey: String
    /// A call is the bare JSON object that makes up the whole reply (no `<tool_call>` tags).
    public var bareIsNative: Bool

    /// `{"name": ..., "arguments": {...}}`, in `<tool_call>` tags (Qwen, ChatML models).
    public static let standard = CallFormat(argumentsKey: "arguments", bareIsNative: false)
    /// `{"name": ..., "parameters": {...}}` as the whole reply (Llama 3.1-3.3).
    public static let llama3 = CallFormat(argumentsKey: "parameters", bareIsNative: true)
}
