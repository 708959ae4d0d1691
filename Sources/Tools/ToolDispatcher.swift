import AgentCore

/// Routes tool calls by name. Unknown names are answered with an error result, never a crash.
public struct ToolDispatcher: Sendable {
    public let tools: [any Tool]
    private let byName: [String: Int]

    public init(tools: [any Tool]) {
        self.tools = tools
        var map: [String: Int] = [:]
        for (i, t) in tools.enumerated() where map[t.declaration.name] == nil { map[t.declaration.name] = i }
        byName = map
    }

    public var declarations: [ToolDeclaration] { tools.map(\.declaration) }

    public func tool(named name: String) -> (any Tool)? {
        byName[name].map { tools[$0] }
    }

    public func call(_ call: ToolCall) async -> ToolResult {
        guard let tool = tool(named: call.name) else {
            let known = tools.map(\.declaration.name).joined(separator: ", ")
            return .failure(callID: call.id, name: call.name, error: "unknown tool '\(call.name)' (tools: \(known))")
        }
        var result = await tool.call(id: call.id, arguments: call.arguments)
        result.callID = call.id
        return result
    }

    public func shutdown() async {
        for t in tools { await t.shutdown() }
    }
}
