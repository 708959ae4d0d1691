import AgentCore

/// The Llama 3.1 / 3.2 / 3.3 template (checked against jinja2 in `TemplateFixtureTests`), with the
/// template's defaults: no built-in tools, tools declared in the first user turn
/// (`tools_in_user_message`), and the date the template writes when it is given none, so a prompt does
/// not depend on the day it is rendered (Llama 3.2's template asks for today's date when the renderer
/// has a clock).
/// - Every turn is `<|start_header_id|>ROLE<|end_header_id|>\n\n` + content (trimmed as Python's
///   `str.strip`) + `<|eot_id|>`; the system turn always comes first, with the knowledge cutoff and the
///   date, and "Environment: ipython" when tools are declared.
/// - With tools, the first message after the system one (whatever its role) becomes a user turn that
///   lists the tools (`tojson(indent=4)`) before its text; a conversation with nothing after the system
///   message gets an empty one (the template raises an error there).
/// - A call is the whole assistant turn: `{"name": NAME, "parameters": ARGS}`. The template takes one call
///   per turn (it raises an error for more); here each further call is a turn of its own.
/// - A tool result is an `ipython` turn holding the result as a JSON string (the template's `tojson` of
///   any content).
/// - `bos_token` is left out: the tokenizer adds BOS (`add_bos_token`), as llama.cpp does.
extension ChatTemplate {
    static let llama3Date = "26 Jul 2024"

    func renderLlama3(messages: [Message], tools: [ToolDeclaration], addGenerationPrompt: Bool) -> String {
        var rest = messages[...]
        var system = ""
        if let first = rest.first, first.role == .system {
            system = first.content.pythonStripped
            rest = rest.dropFirst()
        }
        var out = "<|start_header_id|>system<|end_header_id|>\n\n"
        if !tools.isEmpty { out += "Environment: ipython\n" }
        out += "Cutting Knowledge Date: December 2023\nToday Date: " + ChatTemplate.llama3Date + "\n\n"
        out += system + "<|eot_id|>"
        if !tools.isEmpty {
            let firstUser = rest.first?.content.pythonStripped ?? ""
            rest = rest.dropFirst()
            out += "<|start_header_id|>user<|end_header_id|>\n\n"
            out += "Given the following functions, please respond with a JSON for a function call "
                + "with its proper arguments that best answers the given prompt.\n\n"
                + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}."
                + "Do not use variables.\n\n"
            for tool in tools { out += tool.openAIFunction.serialized(JSONFormat(indent: 4)) + "\n\n" }
            out += firstUser + "<|eot_id|>"
        }
        for message in rest {
            switch message.role {
            case .tool:
                out += "<|start_header_id|>ipython<|end_header_id|>\n\n"
                    + JSONValue.string(message.content).serialized(.python) + "<|eot_id|>"
            case .assistant where !message.toolCalls.isEmpty:
                for call in message.toolCalls {
                    out += "<|start_header_id|>assistant<|end_header_id|>\n\n" + ChatTemplate.llama3CallText(call) + "<|eot_id|>"
                }
            case .system, .user, .assistant:
                out += "<|start_header_id|>" + message.role.rawValue + "<|end_header_id|>\n\n"
                    + message.content.pythonStripped + "<|eot_id|>"
            }
        }
        if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        return out
    }

    /// `{"name": NAME, "parameters": ARGS}` as the Llama 3 template writes a call.
    public static func llama3CallText(_ call: ToolCall) -> String {
        "{\"name\": \"" + call.name + "\", \"parameters\": " + call.arguments.serialized(.python) + "}"
    }

    static func isLlama3(_ t: String) -> Bool {
        t.contains("<|start_header_id|>") && t.contains("<|eot_id|>") && t.contains("Cutting Knowledge Date")
            && t.contains("\"parameters\": ")
    }
}

extension String {
    /// Without leading and trailing whitespace as Python's `str.strip()` (Jinja's `trim`) sees it: the
    /// Unicode White_Space characters and the separators U+001C ... U+001F.
    var pythonStripped: String {
        var s = Substring(self).unicodeScalars
        while let c = s.first, c.isPythonSpace { s.removeFirst() }
        while let c = s.last, c.isPythonSpace { s.removeLast() }
        return String(s)
    }
}

extension Unicode.Scalar {
    var isPythonSpace: Bool { (0x1C...0x1F).contains(value) || properties.isWhitespace }
}
