import AgentCore

/// A `TaskSpec` as JSON, for transcript headers (keys as in the YAML spec; durations in seconds, sizes in bytes).
public enum SpecJSON {
    public static func encode(_ spec: TaskSpec) -> JSONValue {
        var members: [JSONMember] = [
            JSONMember("name", .string(spec.name)),
            JSONMember("model", model(spec.model)),
        ]
        if let a = spec.attention {
            members.append(JSONMember("attention", [
                "mode": .string(a.mode.rawValue), "plan": .optional(a.plan), "block_size": .int(Int64(a.blockSize)),
                "sink_blocks": .int(Int64(a.sinkBlocks)), "local_blocks": .int(Int64(a.localBlocks)),
            ]))
        }
        members += [
            JSONMember("sampling", sampling(spec.sampling)),
            JSONMember("system", .optional(spec.system)),
            JSONMember("prompt", .string(spec.prompt)),
            JSONMember("parameters", .sortedObject(spec.parameters)),
            JSONMember("tools", .array(spec.tools.map(tool))),
            JSONMember("sandbox", sandbox(spec.sandbox)),
            JSONMember("limits", [
                "steps": .int(Int64(spec.limits.steps)), "tokens": .int(Int64(spec.limits.tokens)),
                "wall": .number(spec.limits.wallSeconds),
                "max_tool_errors": .int(Int64(spec.limits.maxConsecutiveToolErrors)),
            ]),
            JSONMember("transcript", .optional(spec.transcript)),
            JSONMember("constrain_tool_calls", .bool(spec.constrainToolCalls)),
            JSONMember("base_directory", .string(spec.baseDirectory)),
        ]
        // Written only when set, so transcripts of specs without them keep their shape.
        // Recorded only when on: a header without it (recorded before it existed) replays with one call per turn.
        if spec.parallelCalls { members.append(JSONMember("parallel_calls", .bool(true))) }
        // Recorded only when on: a header without it (recorded before it existed) replays untagged.
        if spec.tagCalls { members.append(JSONMember("tag_calls", .bool(true))) }
        if spec.preferCopiedValues { members.append(JSONMember("prefer_copied_values", .bool(true))) }
        if spec.declaredCalls != .end { members.append(JSONMember("declared_calls", .string(spec.declaredCalls.rawValue))) }
        if spec.speculation != .lookup { members.append(JSONMember("speculation", .string(spec.speculation.rawValue))) }
        if let hint = spec.toolResultHint { members.append(JSONMember("tool_result_hint", .string(hint))) }
        switch spec.repeatedCalls {
        case .anyStep: members.append(JSONMember("reject_repeated_calls", .bool(true)))
        case .previousStep: members.append(JSONMember("reject_repeated_calls", .string(RepeatedCallRule.previousStep.rawValue)))
        case .never: break   // a header without the key: the rule of transcripts recorded before it existed
        }
        // Recorded only when on: a header without it (recorded before it existed) replays with it off.
        if spec.groundOptionalArguments { members.append(JSONMember("ground_optional_arguments", .bool(true))) }
        if spec.excludeFailedRepeats { members.append(JSONMember("exclude_failed_repeats", .bool(true))) }
        if !spec.answerAfter.isEmpty { members.append(JSONMember("answer_after", .array(spec.answerAfter.map { .string($0) }))) }
        if spec.firstToolChoice != .auto { members.append(JSONMember("first_tool_choice", .string(spec.firstToolChoice.rawValue))) }
        if !spec.followUps.isEmpty {
            members.append(JSONMember("prompts", .array(([spec.prompt] + spec.followUps).map { .string($0) })))
        }
        if !spec.history.isEmpty {
            members.append(JSONMember("history", .array(spec.history.map {
                ["role": .string($0.role.rawValue), "content": .string($0.content)]
            })))
        }
        return .object(members)
    }

    public static func sampling(_ s: SamplingOptions) -> JSONValue {
        var value: JSONValue = [
            "temperature": .number(s.temperature), "top_p": .number(s.topP), "top_k": .int(Int64(s.topK)),
            "min_p": .number(s.minP), "repetition_penalty": .number(s.repetitionPenalty),
            "seed": .int(Int64(bitPattern: s.seed)), "max_tokens": .int(Int64(s.maxTokens)),
            "stop": .array(s.stop.map { .string($0) }),
        ]
        // Written only when on, so headers of runs without reasoning keep their shape.
        if s.reasoning.isOn, case .object(var members) = value {
            members.append(JSONMember("reasoning", ["mode": .string(s.reasoning.mode.rawValue),
                                                    "budget": .int(Int64(s.reasoning.budget))]))
            value = .object(members)
        }
        // Written only when set, so headers of runs before it keep their shape (and replay without it).
        if let threshold = s.callThreshold, case .object(var members) = value {
            members.append(JSONMember("call_threshold", .number(threshold)))
            value = .object(members)
        }
        return value
    }

    static func model(_ m: ModelRef) -> JSONValue {
        switch m {
        case .local(let name): return .string(name)
        case .remote(let r):
            return ["url": .string(r.url), "name": .string(r.name), "api_key_env": .optional(r.apiKeyEnv),
                    "timeout": .number(r.timeoutSeconds), "retries": .int(Int64(r.retries))]
        }
    }

    static func tool(_ t: ToolEntry) -> JSONValue {
        switch t {
        case .builtin(let name): return ["builtin": .string(name)]
        case .exec(let path): return ["exec": .string(path)]
        case .http(let h):
            return ["http": [
                "name": .string(h.name), "description": .string(h.description), "method": .string(h.method),
                "url": .string(h.url), "headers": .sortedObject(h.headers), "body": .optional(h.body),
                "parameters": h.parameters, "allow": .array(h.allow.map { .string($0) }),
                "timeout": .number(h.timeoutSeconds), "max_bytes": .int(Int64(h.maxBytes)),
                "max_redirects": .int(Int64(h.maxRedirects)),
            ]]
        case .declare(let d):
            return ["declare": ["name": .string(d.name), "description": .string(d.description), "parameters": d.parameters]]
        case .mcp(let m):
            return ["mcp": [
                "command": .array(m.command.map { .string($0) }), "env": .sortedObject(m.env),
                "timeout": .number(m.timeoutSeconds), "network": .bool(m.network),
            ]]
        }
    }

    static func sandbox(_ s: SandboxSettings) -> JSONValue {
        if s.disabled { return "none" }
        var value: JSONValue = [
            "network": .bool(s.network), "timeout": .number(s.timeoutSeconds), "memory": .int(Int64(s.memoryBytes)),
            "processes": .int(Int64(s.processes)), "output": .int(Int64(s.outputBytes)), "cpu": .int(Int64(s.cpuSeconds)),
            "file_size": .int(Int64(s.fileSizeBytes)), "open_files": .int(Int64(s.openFiles)),
            "writable": .array(s.writable.map { .string($0) }), "env": .array(s.env.map { .string($0) }),
            "workdir": .optional(s.workdir),
        ]
        // Written only when set, so transcripts of specs without them keep their shape.
        if case .object(var members) = value {
            if let from = s.workdirFrom { members.append(JSONMember("workdir_from", .string(from))) }
            if s.keepWorkdir { members.append(JSONMember("keep_workdir", .bool(true))) }
            value = .object(members)
        }
        return value
    }

    // MARK: decoding

    /// The spec recorded by `encode`. Throws a one-line description on a malformed value.
    public static func decode(_ value: JSONValue) throws -> TaskSpec {
        do {
            return try decodeSpec(try JSONFields(value, "spec"))
        } catch let e as FieldError {
            throw TranscriptError(file: nil, line: nil, message: e.description)
        }
    }

    static func decodeSpec(_ f: JSONFields) throws -> TaskSpec {
        let model: ModelRef
        if let name = try f.raw("model").stringValue {
            model = .local(name)
        } else {
            let m = try f.object("model")
            model = .remote(RemoteModelSettings(url: try m.string("url"), name: try m.string("name"), apiKeyEnv: try m.optionalString("api_key_env"),
                                                timeoutSeconds: try m.double("timeout"), retries: try m.int("retries")))
        }
        var spec = TaskSpec(name: try f.string("name"), model: model, prompt: try f.string("prompt"))
        if f.has("attention") {
            let a = try f.object("attention")
            guard let mode = AttentionSettings.Mode(rawValue: try a.string("mode")) else { throw a.fail("mode", "full or loza") }
            spec.attention = AttentionSettings(mode: mode, plan: try a.optionalString("plan"), blockSize: try a.int("block_size"),
                                               sinkBlocks: try a.int("sink_blocks"), localBlocks: try a.int("local_blocks"))
        }
        spec.sampling = try decodeSampling(try f.object("sampling"))
        spec.system = try f.optionalString("system")
        spec.parameters = try f.stringMap("parameters")
        spec.tools = try f.array("tools").map { try decodeTool(try JSONFields($0, "spec.tools[]")) }
        if f.value["sandbox"] == "none" {
            spec.sandbox = SandboxSettings(disabled: true)
        } else {
            let s = try f.object("sandbox")
            spec.sandbox = SandboxSettings(
                network: try s.bool("network"), timeoutSeconds: try s.double("timeout"), memoryBytes: try s.int("memory"),
                processes: try s.int("processes"), outputBytes: try s.int("output"), cpuSeconds: try s.int("cpu"),
                fileSizeBytes: try s.int("file_size"), openFiles: try s.int("open_files"), writable: try s.stringArray("writable"),
                env: try s.stringArray("env"), workdir: try s.optionalString("workdir"))
            spec.sandbox.workdirFrom = try s.optionalString("workdir_from")
            if s.has("keep_workdir") { spec.sandbox.keepWorkdir = try s.bool("keep_workdir") }
        }
        let l = try f.object("limits")
        spec.limits = Limits(steps: try l.int("steps"), tokens: try l.int("tokens"), wallSeconds: try l.double("wall"),
                             maxConsecutiveToolErrors: try l.int("max_tool_errors"))
        spec.transcript = try f.optionalString("transcript")
        spec.constrainToolCalls = try f.bool("constrain_tool_calls")
        spec.baseDirectory = try f.string("base_directory")
        if f.has("tool_result_hint") { spec.toolResultHint = try f.string("tool_result_hint") }
        spec.repeatedCalls = .never
        spec.parallelCalls = f.has("parallel_calls") ? try f.bool("parallel_calls") : false
        spec.tagCalls = f.has("tag_calls") ? try f.bool("tag_calls") : false
        spec.preferCopiedValues = f.has("prefer_copied_values") ? try f.bool("prefer_copied_values") : false
        if f.has("declared_calls") {
            guard let mode = DeclaredCallsMode(rawValue: try f.string("declared_calls")) else {
                throw TranscriptError(file: nil, line: nil, message: "declared_calls: expected end or collect")
            }
            spec.declaredCalls = mode
        }
        if f.has("speculation") {
            guard let mode = SpeculationMode(rawValue: try f.string("speculation")) else {
                throw TranscriptError(file: nil, line: nil, message: "speculation: expected off or lookup")
            }
            spec.speculation = mode
        }
        if f.has("reject_repeated_calls") {
            if case .string(let s)? = f.value["reject_repeated_calls"] {
                guard let rule = RepeatedCallRule(rawValue: s) else {
                    throw TranscriptError(file: nil, line: nil, message: "reject_repeated_calls: unknown value '\(s)'")
                }
                spec.repeatedCalls = rule
            } else {
                spec.repeatedCalls = try f.bool("reject_repeated_calls") ? .anyStep : .never
            }
        }
        spec.groundOptionalArguments = f.has("ground_optional_arguments") ? try f.bool("ground_optional_arguments") : false
        spec.excludeFailedRepeats = f.has("exclude_failed_repeats") ? try f.bool("exclude_failed_repeats") : false
        if f.has("answer_after") { spec.answerAfter = try f.stringArray("answer_after") }
        if f.has("first_tool_choice") {
            let value = try f.string("first_tool_choice")
            guard let choice = ToolChoice(rawValue: value) else { throw TranscriptError(file: nil, line: nil, message: "first_tool_choice: unknown value '\(value)'") }
            spec.firstToolChoice = choice
        }
        if f.has("prompts") { spec.followUps = Array(try f.stringArray("prompts").dropFirst()) }
        if f.has("history") {
            spec.history = try f.array("history").map { item in
                let m = try JSONFields(item, "spec.history[]")
                let content = try m.string("content")
                switch try m.string("role") {
                case "user": return .user(content)
                case "assistant": return .assistant(content)
                case let other: throw TranscriptError(file: nil, line: nil, message: "history: unknown role '\(other)'")
                }
            }
        }
        return spec
    }

    static func decodeSampling(_ s: JSONFields) throws -> SamplingOptions {
        SamplingOptions(temperature: try s.double("temperature"), topP: try s.double("top_p"), topK: try s.int("top_k"),
                        minP: try s.double("min_p"), repetitionPenalty: try s.double("repetition_penalty"),
                        seed: UInt64(bitPattern: Int64(try s.int("seed"))), maxTokens: try s.int("max_tokens"),
                        stop: try s.stringArray("stop"), reasoning: try decodeReasoning(s),
                        callThreshold: s.has("call_threshold") ? try s.double("call_threshold") : nil)
    }

    static func decodeReasoning(_ s: JSONFields) throws -> Reasoning {
        guard s.has("reasoning") else { return .off }
        let r = try s.object("reasoning")
        guard let mode = Reasoning.Mode(rawValue: try r.string("mode")) else { throw r.fail("mode", "off or think") }
        return Reasoning(mode: mode, budget: try r.int("budget"))
    }

    static func decodeTool(_ f: JSONFields) throws -> ToolEntry {
        if f.has("builtin") { return .builtin(try f.string("builtin")) }
        if f.has("exec") { return .exec(path: try f.string("exec")) }
        if f.has("declare") {
            let d = try f.object("declare")
            return .declare(ToolDeclaration(name: try d.string("name"), description: try d.string("description"),
                                            parameters: try d.raw("parameters")))
        }
        if f.has("http") {
            let h = try f.object("http")
            return .http(HTTPToolSpec(
                name: try h.string("name"), description: try h.string("description"), method: try h.string("method"),
                url: try h.string("url"), headers: try h.stringMap("headers"), body: try h.optionalString("body"),
                parameters: try h.raw("parameters"), allow: try h.stringArray("allow"), timeoutSeconds: try h.double("timeout"),
                maxBytes: try h.int("max_bytes"), maxRedirects: try h.int("max_redirects")))
        }
        let m = try f.object("mcp")
        return .mcp(MCPServerSpec(command: try m.stringArray("command"), env: try m.stringMap("env"),
                                  timeoutSeconds: try m.double("timeout"), network: try m.bool("network")))
    }
}
