import AgentCore
import Yams

// One function per section of the spec.
extension SpecParser {
    /// `model: NAME_OR_PATH` or `model: {url, name, api_key_env, timeout, retries}`.
    static func model(_ node: Node, _ c: SpecContext) throws -> ModelRef {
        if case .scalar = node {
            let text = try c.string(node, path: "model")
            guard !text.isEmpty else { throw c.error(node, "model: must not be empty") }
            let isPath = text.contains("/") || text.hasSuffix(".gguf")
            return .local(isPath ? c.path(text) : text)
        }
        let f = try c.fields(node, path: "model", allowed: ["url", "name", "api_key_env", "timeout", "retries"])
        let urlNode = try f.required("url")
        let url = try c.string(urlNode, path: "model.url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw c.error(urlNode, "model.url: expected an http:// or https:// URL, got \"\(url)\"")
        }
        var settings = RemoteModelSettings(url: url, name: try c.string(try f.required("name"), path: "model.name"))
        settings.apiKeyEnv = try f.string("api_key_env")
        settings.timeoutSeconds = try f.duration("timeout") ?? settings.timeoutSeconds
        settings.retries = try f.int("retries", min: 0) ?? settings.retries
        return .remote(settings)
    }

    /// `attention: full|loza` or `attention: {mode, plan, block_size, sink_blocks, local_blocks}`.
    static func attention(_ node: Node, _ c: SpecContext) throws -> AttentionSettings {
        func mode(_ node: Node, path: String) throws -> AttentionSettings.Mode {
            let text = try c.string(node, path: path)
            guard let mode = AttentionSettings.Mode(rawValue: text) else {
                throw c.error(node, "\(path): expected full or loza, got \"\(text)\"")
            }
            return mode
        }
        if case .scalar = node { return AttentionSettings(mode: try mode(node, path: "attention")) }
        let f = try c.fields(node, path: "attention", allowed: ["mode", "plan", "block_size", "sink_blocks", "local_blocks"])
        var settings = AttentionSettings(mode: try mode(try f.required("mode"), path: "attention.mode"))
        if let planNode = f["plan"] {
            let plan = try c.string(planNode, path: "attention.plan")
            let isPlanString = !plan.isEmpty && plan.allSatisfy { $0 == "F" || $0 == "S" }
            settings.plan = isPlanString ? plan : c.path(plan)
        }
        settings.blockSize = try f.int("block_size", min: 1) ?? settings.blockSize
        settings.sinkBlocks = try f.int("sink_blocks", min: 0) ?? settings.sinkBlocks
        settings.localBlocks = try f.int("local_blocks", min: 1) ?? settings.localBlocks
        return settings
    }

    static func sampling(_ node: Node, _ c: SpecContext) throws -> SamplingOptions {
        let f = try c.fields(node, path: "sampling", allowed: [
            "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "seed", "max_tokens", "stop", "call_threshold",
        ])
        var s = SamplingOptions()
        s.temperature = try f.double("temperature", in: 0...100) ?? s.temperature
        s.topP = try f.double("top_p", in: 0...1) ?? s.topP
        s.topK = try f.int("top_k", min: 0) ?? s.topK
        s.minP = try f.double("min_p", in: 0...1) ?? s.minP
        s.repetitionPenalty = try f.double("repetition_penalty", in: 0.01...100) ?? s.repetitionPenalty
        if let seed = try f.int("seed", min: 0) { s.seed = UInt64(seed) }
        s.maxTokens = try f.int("max_tokens", min: 1) ?? s.maxTokens
        if let stop = f["stop"] {
            if case .scalar = stop { s.stop = [try c.string(stop, path: "sampling.stop")] } else { s.stop = try c.stringList(stop, path: "sampling.stop") }
        }
        if let node = f["call_threshold"] {
            if case .scalar = node, node.string == "off" {
                s.callThreshold = nil
            } else {
                let value = try c.double(node, path: "sampling.call_threshold")
                guard (0...1).contains(value) else {
                    throw c.error(node, "sampling.call_threshold: expected a probability from 0 to 1 or off, got \(value)")
                }
                s.callThreshold = value
            }
        }
        return s
    }

    /// A list of `{builtin: NAME}` (or just `NAME`), `{exec: PATH}`, `{http: {...}}`, `{mcp: {...}}`,
    /// `{declare: {name, description, parameters}}`.
    static func tools(_ node: Node, _ c: SpecContext) throws -> [ToolEntry] {
        try c.list(node, path: "tools").enumerated().map { index, item in
            let path = "tools[\(index)]"
            if case .scalar = item { return .builtin(try c.string(item, path: path)) }
            let f = try c.fields(item, path: path, allowed: ["builtin", "exec", "http", "mcp", "declare"])
            guard f.pairs.count == 1, let (key, _, value) = f.pairs.first else {
                throw c.error(item, "\(path): expected exactly one of builtin, exec, http, mcp, declare")
            }
            switch key {
            case "builtin": return .builtin(try c.string(value, path: "\(path).builtin"))
            case "exec": return .exec(path: c.path(try c.string(value, path: "\(path).exec")))
            case "http": return .http(try http(value, c, path: "\(path).http"))
            case "declare": return .declare(try declaration(value, c, path: "\(path).declare"))
            default: return .mcp(try mcp(value, c, path: "\(path).mcp"))
            }
        }
    }

    /// `{name, description, parameters}`: a declared tool (OpenAI's function shape).
    static func declaration(_ node: Node, _ c: SpecContext, path: String) throws -> ToolDeclaration {
        let f = try c.fields(node, path: path, allowed: ["name", "description", "parameters"])
        let nameNode = try f.required("name")
        let name = try c.string(nameNode, path: "\(path).name")
        guard !name.isEmpty else { throw c.error(nameNode, "\(path).name: must not be empty") }
        var parameters: JSONValue = ["type": "object", "properties": [:]]
        if let node = f["parameters"] { parameters = try schema(node, c, path: "\(path).parameters") }
        return ToolDeclaration(name: name, description: try f.string("description") ?? "", parameters: parameters)
    }

    static func http(_ node: Node, _ c: SpecContext, path: String) throws -> HTTPToolSpec {
        let f = try c.fields(node, path: path, allowed: [
            "name", "description", "method", "url", "headers", "body", "parameters", "allow", "timeout", "max_bytes",
            "max_redirects",
        ])
        let urlNode = try f.required("url")
        let url = try c.string(urlNode, path: "\(path).url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw c.error(urlNode, "\(path).url: expected an http:// or https:// URL, got \"\(url)\"")
        }
        var spec = HTTPToolSpec(name: try c.string(try f.required("name"), path: "\(path).name"),
                                description: try f.string("description") ?? "", url: url)
        if let methodNode = f["method"] {
            let method = try c.string(methodNode, path: "\(path).method").uppercased()
            guard ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(method) else {
                throw c.error(methodNode, "\(path).method: expected GET, POST, PUT, PATCH, DELETE or HEAD, got \"\(method)\"")
            }
            spec.method = method
        }
        if let headers = f["headers"] {
            spec.headers = Dictionary(try c.stringMap(headers, path: "\(path).headers").map { ($0.key, $0.value) }) { a, _ in a }
        }
        spec.body = try f.string("body")
        if let params = f["parameters"] {
            spec.parameters = try schema(params, c, path: "\(path).parameters")
        }
        spec.allow = try f.stringList("allow") ?? []
        spec.timeoutSeconds = try f.duration("timeout") ?? spec.timeoutSeconds
        spec.maxBytes = try f.size("max_bytes") ?? spec.maxBytes
        spec.maxRedirects = try f.int("max_redirects", min: 0) ?? spec.maxRedirects
        return spec
    }

    /// A JSON Schema for tool arguments, written in YAML: it must describe an object.
    static func schema(_ node: Node, _ c: SpecContext, path: String) throws -> JSONValue {
        let value = try c.json(node, path: path)
        guard value.objectValue != nil else { throw c.error(node, "\(path): expected a JSON Schema mapping, got \(c.describe(node))") }
        if let type = value["type"], type != "object" {
            throw c.error(node, "\(path): the arguments schema must have type object, got \(type.serialized())")
        }
        return value
    }

    static func mcp(_ node: Node, _ c: SpecContext, path: String) throws -> MCPServerSpec {
        let f = try c.fields(node, path: path, allowed: ["command", "env", "timeout", "network"])
        let commandNode = try f.required("command")
        let command: [String]
        if case .scalar = commandNode {
            command = try c.string(commandNode, path: "\(path).command").split(whereSeparator: { $0 == " " }).map(String.init)
        } else {
            command = try c.stringList(commandNode, path: "\(path).command")
        }
        guard !command.isEmpty else { throw c.error(commandNode, "\(path).command: must not be empty") }
        var spec = MCPServerSpec(command: command)
        if let env = f["env"] {
            spec.env = Dictionary(try c.stringMap(env, path: "\(path).env").map { ($0.key, $0.value) }) { a, _ in a }
        }
        spec.timeoutSeconds = try f.duration("timeout") ?? spec.timeoutSeconds
        spec.network = try f.bool("network") ?? spec.network
        return spec
    }

    /// `sandbox: none` or `sandbox: {network, timeout, memory, processes, output, writable, env, cpu, file_size,
    /// open_files, workdir}`.
    static func sandbox(_ node: Node, _ c: SpecContext) throws -> SandboxSettings {
        if case .scalar(let s) = node {
            guard s.string == "none" else {
                throw c.error(node, "sandbox: expected a mapping or none, got \(c.describe(node))")
            }
            return SandboxSettings(disabled: true)
        }
        let f = try c.fields(node, path: "sandbox", allowed: [
            "network", "timeout", "memory", "processes", "output", "writable", "env", "cpu", "file_size", "open_files", "workdir",
            "workdir_from", "keep_workdir",
        ])
        var s = SandboxSettings()
        s.network = try f.bool("network") ?? s.network
        s.timeoutSeconds = try f.duration("timeout") ?? s.timeoutSeconds
        s.memoryBytes = try f.size("memory") ?? s.memoryBytes
        s.processes = try f.int("processes", min: 1) ?? s.processes
        s.outputBytes = try f.size("output") ?? s.outputBytes
        s.writable = (try f.stringList("writable") ?? []).map { c.path($0) }
        s.env = try f.stringList("env") ?? []
        if let cpu = try f.duration("cpu") { s.cpuSeconds = max(1, Int(cpu.rounded(.up))) }
        s.fileSizeBytes = try f.size("file_size") ?? s.fileSizeBytes
        s.openFiles = try f.int("open_files", min: 1) ?? s.openFiles
        s.workdir = try f.string("workdir").map { c.path($0) }
        s.workdirFrom = try f.string("workdir_from").map { c.path($0) }
        s.keepWorkdir = try f.bool("keep_workdir") ?? false
        if s.workdir != nil, let node = f["workdir_from"] {
            throw c.error(node, "sandbox.workdir_from: only without sandbox.workdir (it seeds the fresh temporary work directory)")
        }
        return s
    }

    static func limits(_ node: Node, _ c: SpecContext) throws -> Limits {
        let f = try c.fields(node, path: "limits", allowed: ["steps", "tokens", "wall", "max_tool_errors"])
        var l = Limits()
        l.steps = try f.int("steps", min: 1) ?? l.steps
        l.tokens = try f.int("tokens", min: 1) ?? l.tokens
        l.wallSeconds = try f.duration("wall") ?? l.wallSeconds
        l.maxConsecutiveToolErrors = try f.int("max_tool_errors", min: 1) ?? l.maxConsecutiveToolErrors
        return l
    }
}
