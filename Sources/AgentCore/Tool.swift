/// How a tool is shown to the model: the OpenAI function shape
/// `{type: function, function: {name, description, parameters}}`.
public struct ToolDeclaration: Sendable, Hashable {
    public var name: String
    public var description: String
    /// JSON Schema of the arguments object.
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }

    /// `{"type": "function", "function": {"name": ..., "description": ..., "parameters": ...}}`
    public var openAIFunction: JSONValue {
        .object([
            JSONMember("type", "function"),
            JSONMember("function", .object([
                JSONMember("name", .string(name)),
                JSONMember("description", .string(description)),
                JSONMember("parameters", parameters),
            ])),
        ])
    }
}

/// A tool the agent loop can call. Implementations must never throw for a failing call:
/// every failure is a `ToolResult` with `ok == false` and a one-line `error`.
public protocol Tool: Sendable {
    var declaration: ToolDeclaration { get }
    /// Run the call. `arguments` has already been validated against `declaration.parameters`.
    func call(id: String, arguments: JSONValue) async -> ToolResult
    /// Release resources (servers, processes). Called once when the run ends.
    func shutdown() async
}

extension Tool {
    public func shutdown() async {}
}
