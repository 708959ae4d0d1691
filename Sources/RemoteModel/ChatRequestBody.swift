import AgentCore

/// The JSON body of a `POST {url}/chat/completions` request in the OpenAI shape.
enum ChatRequestBody {
    static func make(model: String, messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice,
                     sampling: SamplingOptions, stream: Bool) -> JSONValue {
        // With reasoning on, the model is told about the thinking block (a server cannot be made to open
        // it), and templates with thinking turns are asked for them; the budget is not enforced remotely.
        let sent = sampling.reasoning.isOn ? Reasoning.instructed(messages, defaultSystem: nil) : messages
        var members: [JSONMember] = [
            JSONMember("model", .string(model)),
            JSONMember("messages", .array(wireMessages(sent))),
        ]
        if sampling.reasoning.isOn {
            members.append(JSONMember("chat_template_kwargs", .object([JSONMember("enable_thinking", .bool(true))])))
        }
        if !tools.isEmpty {
            members.append(JSONMember("tools", .array(tools.map(\.openAIFunction))))
            if toolChoice != .auto { members.append(JSONMember("tool_choice", .string(toolChoice.rawValue))) }
        }
        members.append(JSONMember("temperature", .double(sampling.temperature)))
        members.append(JSONMember("top_p", .double(sampling.topP)))
        members.append(JSONMember("max_tokens", .int(Int64(sampling.maxTokens))))
        // OpenAI-compatible servers take a signed 64-bit seed; keep the bits in that range.
        members.append(JSONMember("seed", .int(Int64(truncatingIfNeeded: sampling.seed & 0x7FFF_FFFF_FFFF_FFFF))))
        if !sampling.stop.isEmpty {
            members.append(JSONMember("stop", .array(sampling.stop.map { .string($0) })))
        }
        members.append(JSONMember("stream", .bool(stream)))
        if stream {
            // Ask for a final usage event (OpenAI, vLLM, SGLang, llama.cpp's server): token budgets need it.
            members.append(JSONMember("stream_options", .object([JSONMember("include_usage", .bool(true))])))
        }
        return .object(members)
    }

    /// Messages as the server expects them. A `tool` message that answers no call of a preceding assistant
    /// message (the runtime's answer to a malformed call, which never reaches `tool_calls`) is sent as a
    /// user message naming the call, since strict servers reject orphan tool messages.
    static func wireMessages(_ messages: [Message]) -> [JSONValue] {
        var knownCallIDs = Set<String>()
        var out: [JSONValue] = []
        for m in messages {
            switch m.role {
            case .system, .user:
                out.append(.object([JSONMember("role", .string(m.role.rawValue)), JSONMember("content", .string(m.content))]))
            case .assistant:
                // content is always a string: OpenAI takes "" or null next to tool_calls, but some servers
                // (llama-cpp-python's pydantic models) reject null.
                // A turn's reasoning goes back as the model wrote it, a block before the content.
                let content = m.reasoning.map { Reasoning.contentWithBlock($0, m.content) } ?? m.content
                var members = [JSONMember("role", "assistant"), JSONMember("content", .string(content))]
                if !m.toolCalls.isEmpty {
                    members.append(JSONMember("tool_calls", .array(m.toolCalls.map { call in
                        knownCallIDs.insert(call.id)
                        return .object([
                            JSONMember("id", .string(call.id)),
                            JSONMember("type", "function"),
                            JSONMember("function", .object([
                                JSONMember("name", .string(call.name)),
                                JSONMember("arguments", .string(call.arguments.serialized(.compact))),
                            ])),
                        ])
                    })))
                }
                out.append(.object(members))
            case .tool:
                if let id = m.toolCallID, knownCallIDs.contains(id) {
                    out.append(.object([
                        JSONMember("role", "tool"),
                        JSONMember("tool_call_id", .string(id)),
                        JSONMember("content", .string(m.content)),
                    ]))
                } else {
                    let who = [m.name, m.toolCallID.map { "call \($0)" }].compactMap { $0 }.filter { !$0.isEmpty }
                    let label = who.isEmpty ? "tool result" : "tool result (\(who.joined(separator: ", ")))"
                    out.append(.object([JSONMember("role", "user"), JSONMember("content", .string("[\(label)] \(m.content)"))]))
                }
            }
        }
        return out
    }
}
