import AgentCore

/// Routes the model's tool calls to the run's tools by name. A call that names no tool, or whose arguments
/// do not fit its tool's schema, is refused with a one-line reason and no tool runs; any other call runs,
/// and its result is paired with the call by id. Tools do not throw: a failing tool is a failed result.
public struct ToolDispatcher: Sendable {
    public let tools: [any Tool]
    /// Each name's tool with its argument schema; the first tool of a name wins.
    private let byName: [String: (tool: any Tool, schema: JSONSchema)]

    public init(tools: [any Tool]) {
        self.tools = tools
        var byName: [String: (tool: any Tool, schema: JSONSchema)] = [:]
        for tool in tools where byName[tool.declaration.name] == nil {
            byName[tool.declaration.name] = (tool, JSONSchema(tool.declaration.parameters))
        }
        self.byName = byName
    }

    /// The tools as declared to the model.
    public var declarations: [ToolDeclaration] { tools.map(\.declaration) }

    /// The argument schema `name` was declared with (nil for an unknown tool).
    public func parameters(of name: String) -> JSONValue? {
        byName[name]?.tool.declaration.parameters
    }

    /// Where a call goes: the tool to run, or why it must not run.
    public enum Route: Sendable {
        case run(any Tool)
        /// A declared tool (`declare:`), called with valid arguments: the caller runs it, the run stops.
        case declared
        /// Unknown tool, or arguments that do not fit the schema: the error the call is answered with.
        case rejected(String)
    }

    public func route(_ call: ToolCall) -> Route {
        guard let entry = byName[call.name] else {
            let names = tools.map(\.declaration.name)
            return .rejected("unknown tool '\(call.name)'"
                + (names.isEmpty ? "; no tools are available" : "; available: \(names.joined(separator: ", "))"))
        }
        if let problem = entry.schema.firstError(call.arguments) {
            return .rejected("invalid arguments for \(call.name): \(problem)")
        }
        return entry.tool is DeclaredTool ? .declared : .run(entry.tool)
    }

    /// Answer `call`: run its tool when it routes to one (`ran` true), else a failed result with the reason.
    public func dispatch(_ call: ToolCall) async -> (result: ToolResult, ran: Bool) {
        switch route(call) {
        case .rejected(let reason):
            return (.failure(callID: call.id, name: call.name, error: reason), false)
        case .declared:
            return (.failure(callID: call.id, name: call.name, error: "\(call.name) is a declared tool: the caller runs it"), false)
        case .run(let tool):
            var result = await tool.call(id: call.id, arguments: call.arguments)
            result.callID = call.id
            return (result, true)
        }
    }
}
