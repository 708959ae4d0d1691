/// One message of a conversation, in the shape chat templates and OpenAI-compatible servers use.
public struct Message: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case system, user, assistant, tool
    }

    public var role: Role
    public var content: String
    /// Tool calls made in an assistant message.
    public var toolCalls: [ToolCall]
    /// For a `tool` message: the call it answers.
    public var toolCallID: String?
    /// For a `tool` message: the tool's name.
    public var name: String?
    /// For an `assistant` message: the reasoning written before the content (a thinking block, without its
    /// tags), kept apart from `content`; templates with native thinking decide where it is shown again.
    public var reasoning: String?

    public init(role: Role, content: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil, name: String? = nil,
                reasoning: String? = nil) {
        self.role = role
        self.reasoning = reasoning
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    public static func system(_ text: String) -> Message { Message(role: .system, content: text) }
    public static func user(_ text: String) -> Message { Message(role: .user, content: text) }
    public static func assistant(_ text: String, toolCalls: [ToolCall] = []) -> Message {
        Message(role: .assistant, content: text, toolCalls: toolCalls)
    }
    public static func tool(_ result: ToolResult) -> Message {
        Message(role: .tool, content: result.modelText, toolCallID: result.callID, name: result.name)
    }
}
