/// A tool with no implementation (`declare:` in a spec): the loop validates and records a call of it, then
/// ends the run with status `calls` so that the caller executes it. `call` is never reached through the loop.
public struct DeclaredTool: Tool {
    public let declaration: ToolDeclaration

    public init(_ declaration: ToolDeclaration) {
        self.declaration = declaration
    }

    public func call(id: String, arguments: JSONValue) async -> ToolResult {
        .failure(callID: id, name: declaration.name, error: "\(declaration.name) is a declared tool: the caller runs it, not loza")
    }
}
