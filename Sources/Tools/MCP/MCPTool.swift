import AgentCore

/// Connects to an MCP server (`mcp: {command, env, timeout}` in a spec) and returns one `Tool` per tool the
/// server lists. Handshake: `initialize` (protocol 2025-06-18), `notifications/initialized`, `tools/list`
/// (following `nextCursor`).
enum MCPClient {
    static func connect(_ spec: MCPServerSpec, sandbox: Sandbox) async throws -> [MCPTool] {
        let server = try MCPServer.start(spec, sandbox: sandbox)
        do {
            let initParams: JSONValue = [
                "protocolVersion": .string(MCPServer.protocolVersion),
                "capabilities": [:],
                "clientInfo": ["name": "loza", "version": "0.1"],
            ]
            let hello = try await server.request("initialize", params: initParams).get()
            guard hello["protocolVersion"]?.stringValue != nil else {
                throw MCPFailure("MCP server '\(server.label)' answered initialize without a protocolVersion")
            }
            server.notify("notifications/initialized")
            var tools: [MCPTool] = []
            var cursor: JSONValue?
            repeat {
                let params: JSONValue = cursor.map { ["cursor": $0] } ?? [:]
                let page = try await server.request("tools/list", params: params).get()
                guard let list = page["tools"]?.arrayValue else {
                    throw MCPFailure("MCP server '\(server.label)' answered tools/list without a tools array")
                }
                for t in list {
                    guard let name = t["name"]?.stringValue, !name.isEmpty else {
                        throw MCPFailure("MCP server '\(server.label)' listed a tool without a name")
                    }
                    var schema = t["inputSchema"] ?? ["type": "object", "properties": [:]]
                    if schema["type"] == nil, case .object(var m) = schema {
                        m.insert(JSONMember("type", "object"), at: 0)
                        schema = .object(m)
                    }
                    let description = t["description"]?.stringValue ?? t["title"]?.stringValue ?? name
                    tools.append(MCPTool(declaration: ToolDeclaration(name: name, description: description, parameters: schema),
                                         server: server, outputLimit: sandbox.policy.settings.outputBytes))
                }
                cursor = page["nextCursor"].flatMap { $0 == .null ? nil : $0 }
            } while cursor != nil && tools.count < 1000
            if tools.isEmpty { await server.stop() }
            return tools
        } catch {
            await server.stop()
            let stderr = server.stderrText.split(separator: "\n").last.map { " (stderr: \($0.prefix(200)))" } ?? ""
            if let f = error as? MCPFailure { throw ToolSetupError(f.message + (f.message.contains("stderr") ? "" : stderr)) }
            throw ToolSetupError("\(error)")
        }
    }
}

/// One tool of an MCP server. Results: the `content` items as text (`structuredContent` pretty-printed
/// when there is no text), `isError` as a tool error.
public struct MCPTool: Tool {
    public let declaration: ToolDeclaration
    let server: MCPServer
    let outputLimit: Int

    public func call(id: String, arguments: JSONValue) async -> ToolResult {
        let start = LibC.monotonicSeconds()
        let params: JSONValue = ["name": .string(declaration.name), "arguments": arguments]
        let metadata = ["transport": "mcp", "server": server.label]
        switch await server.request("tools/call", params: params) {
        case .failure(let f):
            return ToolResult(callID: id, name: declaration.name, ok: false, output: "", error: f.message,
                              durationSeconds: LibC.monotonicSeconds() - start, metadata: metadata)
        case .success(let result):
            var parts: [String] = []
            for item in result["content"]?.arrayValue ?? [] {
                switch item["type"]?.stringValue {
                case "text": parts.append(item["text"]?.stringValue ?? "")
                case "image", "audio":
                    let size = item["data"]?.stringValue?.count ?? 0
                    parts.append("[\(item["type"]!.stringValue!): \(item["mimeType"]?.stringValue ?? "?"), \(size) base64 characters]")
                case "resource":
                    let r = item["resource"]
                    parts.append(r?["text"]?.stringValue ?? "[resource \(r?["uri"]?.stringValue ?? "?")]")
                case "resource_link":
                    parts.append("[resource link \(item["uri"]?.stringValue ?? "?")]")
                default:
                    parts.append(item.serialized(.compact))
                }
            }
            if parts.isEmpty, let structured = result["structuredContent"] { parts.append(structured.serialized(.pretty)) }
            var text = parts.joined(separator: "\n")
            let isError = result["isError"]?.boolValue == true
            var capture = OutputCapture(limit: outputLimit)
            capture.append(Array(text.utf8))
            if capture.truncated { text = capture.text }
            let firstLine = text.split(separator: "\n").first.map { String($0.prefix(300)) } ?? "the tool reported an error"
            return ToolResult(callID: id, name: declaration.name, ok: !isError, output: text,
                              error: isError ? firstLine : nil, durationSeconds: LibC.monotonicSeconds() - start,
                              fullOutputSHA256: capture.truncated ? capture.sha256 : nil,
                              fullOutputBytes: capture.truncated ? capture.totalBytes : nil, metadata: metadata)
        }
    }

    public func shutdown() async {
        await server.stop()
    }
}
