import AgentCore

/// The Qwen3 template (checked against jinja2 in `TemplateFixtureTests`): ChatML turns, tools declared in
/// the system turn as Qwen2.5 does but with no default system prompt, and thinking turns:
/// - an assistant turn after the last user query (a user turn that is not only a `<tool_response>`) shows
///   its reasoning as `<think>\n...\n</think>\n\n` when it has some, or when it is the last message;
///   earlier assistant turns show their content only;
/// - an assistant turn's reasoning is `Message.reasoning` (the template's `reasoning_content`), else what
///   the content holds between `<think>` and `</think>` (and the content is what follows);
/// - with `enable_thinking` false the generation prompt opens with an empty thinking block.
extension ChatTemplate {
    func renderQwen3(messages: [Message], tools: [ToolDeclaration], addGenerationPrompt: Bool,
                     enableThinking: Bool) -> String {
        var out = ""
        let firstIsSystem = messages.first?.role == .system
        if !tools.isEmpty {
            out += "<|im_start|>system\n"
            if firstIsSystem { out += messages[0].content + "\n\n" }
            var block = ChatTemplate.toolBlock(tools)
            block.removeFirst(2)  // the block's leading blank line is the "\n\n" above
            out += block + "<|im_end|>\n"
        } else if firstIsSystem {
            out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n"
        }
        let lastQuery = messages.lastIndex { m in
            m.role == .user && !(m.content.hasPrefix("<tool_response>") && m.content.hasSuffix("</tool_response>"))
        } ?? messages.count - 1
        for (i, message) in messages.enumerated() {
            switch message.role {
            case .system where i == 0:
                continue
            case .user, .system:
                out += "<|im_start|>" + message.role.rawValue + "\n" + message.content + "<|im_end|>\n"
            case .assistant:
                let (reasoning, content) = ChatTemplate.qwen3Split(message)
                out += "<|im_start|>assistant\n"
                if i > lastQuery && (i == messages.count - 1 || !reasoning.isEmpty) {
                    out += "<think>\n" + reasoning.trimmingNewlines(leading: true, trailing: true) + "\n</think>\n\n"
                        + content.trimmingNewlines(leading: true, trailing: false)
                } else {
                    out += content
                }
                for (j, call) in message.toolCalls.enumerated() {
                    if j > 0 || !content.isEmpty { out += "\n" }
                    out += ChatTemplate.toolCallText(call)
                }
                out += "<|im_end|>\n"
            case .tool:
                if i == 0 || messages[i - 1].role != .tool { out += "<|im_start|>user" }
                out += "\n<tool_response>\n" + message.content + "\n</tool_response>"
                if i == messages.count - 1 || messages[i + 1].role != .tool { out += "<|im_end|>\n" }
            }
        }
        if addGenerationPrompt {
            out += "<|im_start|>assistant\n"
            if !enableThinking { out += "<think>\n\n</think>\n\n" }
        }
        return out
    }

    /// An assistant turn's (reasoning, content) as the Qwen3 template reads it: `reasoning` when set, else
    /// the text between the last `<think>` before the first `</think>` and that `</think>` (newlines
    /// trimmed), and the content after the last `</think>` without its leading newlines.
    static func qwen3Split(_ m: Message) -> (reasoning: String, content: String) {
        if let r = m.reasoning { return (r, m.content) }
        guard let firstEnd = m.content.range(of: "</think>"),
              let lastEnd = m.content.range(of: "</think>", options: .backwards) else { return ("", m.content) }
        let content = String(m.content[lastEnd.upperBound...]).trimmingNewlines(leading: true, trailing: false)
        var before = String(m.content[..<firstEnd.lowerBound]).trimmingNewlines(leading: false, trailing: true)
        if let open = before.range(of: "<think>", options: .backwards) { before = String(before[open.upperBound...]) }
        return (before.trimmingNewlines(leading: true, trailing: false), content)
    }

    static func isQwen3(_ t: String) -> Bool {
        t.contains("<|im_start|>") && t.contains("<tool_call>") && t.contains("<think>")
            && t.contains("reasoning_content") && t.contains("enable_thinking")
    }
}

extension String {
    /// Without the leading and/or trailing "\n" characters (Python's `strip('\n')` and its halves).
    func trimmingNewlines(leading: Bool, trailing: Bool) -> String {
        var s = Substring(self).unicodeScalars
        if leading { while s.first == "\n" { s.removeFirst() } }
        if trailing { while s.last == "\n" { s.removeLast() } }
        return String(s)
    }
}
