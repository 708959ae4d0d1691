import AgentCore
import Foundation

/// Builds the tools of a task spec.
public enum ToolFactory {
    /// The built-in tool names.
    public static let builtinNames = ["shell"]

    /// One tool (or, for an MCP server, several) per entry. Relative paths resolve against `baseDirectory`.
    /// Throws `ToolSetupError` with one line naming the entry that is wrong.
    public static func makeTools(entries: [ToolEntry], sandbox: SandboxSettings, baseDirectory: String) async throws -> [any Tool] {
        try await makeToolSet(entries: entries, sandbox: sandbox, baseDirectory: baseDirectory).tools
    }

    /// The tools with the policy they share: after the run, `policy.removeTemporaryWorkdir()` removes the
    /// fresh work directory (unless the spec keeps it). On a setup error it is removed here.
    public static func makeToolSet(entries: [ToolEntry], sandbox: SandboxSettings, baseDirectory: String) async throws
        -> (tools: [any Tool], policy: SandboxPolicy) {
        let policy = try SandboxPolicy.resolve(sandbox, baseDirectory: baseDirectory)
        do {
            return (try await makeTools(entries: entries, policy: policy, baseDirectory: baseDirectory), policy)
        } catch {
            var discard = policy
            discard.settings.keepWorkdir = false
            discard.removeTemporaryWorkdir()
            throw error
        }
    }

    /// As above, with an already resolved sandbox policy (the same work directory for every tool of a run).
    public static func makeTools(entries: [ToolEntry], policy: SandboxPolicy, baseDirectory: String) async throws -> [any Tool] {
        var tools: [any Tool] = []
        var seen: [String: String] = [:]
        for (index, entry) in entries.enumerated() {
            let label = "tools[\(index)] (\(describe(entry)))"
            let made: [any Tool]
            do {
                made = try await make(entry, policy: policy, baseDirectory: baseDirectory)
            } catch let e as ToolSetupError {
                for t in tools { await t.shutdown() }
                throw ToolSetupError("\(label): \(e.description)")
            }
            for t in made {
                let name = t.declaration.name
                if let other = seen[name] {
                    for t in tools + made { await t.shutdown() }
                    throw ToolSetupError("\(label): tool name '\(name)' is already used by \(other)")
                }
                seen[name] = label
                tools.append(t)
            }
        }
        return tools
    }

    static func make(_ entry: ToolEntry, policy: SandboxPolicy, baseDirectory: String) async throws -> [any Tool] {
        switch entry {
        case .builtin(let name):
            switch name {
            case "shell": return [ShellTool(policy: policy)]
            default:
                throw ToolSetupError("unknown built-in tool '\(name)' (built-ins: \(builtinNames.joined(separator: ", ")))")
            }
        case .exec(let path):
            return [try PluginTool(path: path, baseDirectory: baseDirectory, policy: policy)]
        case .http(let spec):
            return [try HTTPTool(spec: spec, outputLimit: policy.settings.outputBytes)]
        case .mcp(let spec):
            return try await MCPClient.connect(spec, sandbox: Sandbox(policy: policy))
        case .declare(let declaration):
            return [DeclaredTool(declaration)]
        }
    }

    static func describe(_ entry: ToolEntry) -> String {
        switch entry {
        case .builtin(let name): return "builtin: \(name)"
        case .exec(let path): return "exec: \(path)"
        case .http(let spec): return "http: \(spec.name)"
        case .mcp(let spec): return "mcp: \(spec.command.joined(separator: " "))"
        case .declare(let declaration): return "declare: \(declaration.name)"
        }
    }
}
