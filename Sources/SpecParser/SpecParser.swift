import AgentCore
import Catalog
import Foundation
import Yams

/// Reads a task spec (YAML) into a `TaskSpec`. Every problem is a `SpecError` naming `file:line:col`.
public enum SpecParser {
    public static let topLevelKeys = [
        "name", "model", "attention", "sampling", "system", "prompt", "prompts", "history", "parameters", "tools", "sandbox", "limits",
        "transcript", "constrain_tool_calls", "parallel_calls", "tag_calls", "prefer_copied_values", "ground_optional_arguments", "exclude_failed_repeats", "declared_calls", "speculation", "tool_result_hint", "reject_repeated_calls",
        "first_tool_choice", "answer_after", "reasoning",
    ]
    /// Parse the spec at `path`. `overrides` are `--param key=value` strings.
    public static func parse(file path: String, overrides: [String] = []) throws -> TaskSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw SpecError(file: path, message: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(file: path, message: "the file is not valid UTF-8")
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let directory = (absolute as NSString).deletingLastPathComponent
        let pairs = try overrides.map(parseOverride)
        return try parse(yaml: text, file: path, baseDirectory: directory, overrides: pairs)
    }

    /// `key=value` of a `--param` option.
    public static func parseOverride(_ text: String) throws -> (String, String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw SpecError(file: nil, message: "--param \(text): expected key=value")
        }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }

    public static func parse(yaml: String, file: String, baseDirectory: String,
                             overrides: [(String, String)] = []) throws -> TaskSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw SpecError(file: file, message: "\(error)")
        }
        let context = SpecContext(file: file, baseDirectory: baseDirectory)
        guard let root else {
            throw SpecError(file: file, line: 1, column: 1, message: "empty spec; expected a mapping with at least 'name' and 'prompt'")
        }
        let top = try context.fields(root, path: "task", allowed: topLevelKeys)
        let topFields = Fields(context: context, node: root, path: "", pairs: top.pairs)

        let name = try context.string(try topFields.required("name"), path: "name")
        guard !name.isEmpty else { throw context.error(topFields["name"], "name: must not be empty") }
        var spec = TaskSpec(name: name, model: .local(ModelCatalog.defaultAlias), prompt: "", baseDirectory: baseDirectory)
        spec.model = try topFields["model"].map { try model($0, context) } ?? .local(ModelCatalog.defaultAlias)
        spec.attention = try topFields["attention"].map { try attention($0, context) }
        if let node = topFields["sampling"] { spec.sampling = try sampling(node, context) }
        if let node = topFields["reasoning"] {
            let reasoning = try reasoning(node, context)
            // max_tokens counts the thinking block: unless the spec sets it, a reply keeps its default
            // room after the block.
            var given = false
            if case .mapping(let m)? = topFields["sampling"] {
                given = m.contains { key, _ in if case .scalar(let k) = key { return k.string == "max_tokens" } else { return false } }
            }
            spec.sampling.setReasoning(reasoning, maxTokensGiven: given)
        }
        if let node = topFields["tools"] { spec.tools = try tools(node, context) }
        if let node = topFields["sandbox"] { spec.sandbox = try sandbox(node, context) }
        if let node = topFields["limits"] { spec.limits = try limits(node, context) }
        spec.transcript = try topFields.string("transcript").map { context.path($0) }
        spec.constrainToolCalls = try topFields.bool("constrain_tool_calls") ?? true
        spec.parallelCalls = try topFields.bool("parallel_calls") ?? false
        spec.tagCalls = try topFields.bool("tag_calls") ?? TaskSpec.defaultTagCalls
        spec.preferCopiedValues = try topFields.bool("prefer_copied_values") ?? TaskSpec.defaultPreferCopiedValues
        spec.groundOptionalArguments = try topFields.bool("ground_optional_arguments") ?? spec.groundOptionalArguments
        spec.excludeFailedRepeats = try topFields.bool("exclude_failed_repeats") ?? spec.excludeFailedRepeats
        if let node = topFields["declared_calls"] {
            let value = try context.string(node, path: "declared_calls")
            guard let mode = DeclaredCallsMode(rawValue: value) else {
                throw context.error(node, "declared_calls: expected end or collect, got '\(value)'")
            }
            spec.declaredCalls = mode
        }
        if let node = topFields["speculation"] {
            // `off` is a YAML 1.1 boolean to some readers: the word itself is what counts.
            guard case .scalar(let s) = node, let mode = SpeculationMode(rawValue: s.string) else {
                throw context.error(node, "speculation: expected off or lookup, got \(context.describe(node))")
            }
            spec.speculation = mode
        }
        spec.toolResultHint = try topFields.string("tool_result_hint")
        if let node = topFields["reject_repeated_calls"] { spec.repeatedCalls = try repeatedCalls(node, context) }
        if let node = topFields["first_tool_choice"] {
            let value = try context.string(node, path: "first_tool_choice")
            guard let choice = ToolChoice(rawValue: value), choice != .none else {
                throw context.error(node, "first_tool_choice: expected auto or required, got '\(value)'")
            }
            spec.firstToolChoice = choice
        }
        spec.answerAfter = try topFields.stringList("answer_after") ?? []

        let parameters = try Parameters(topFields["parameters"], context: context, overrides: overrides)
        spec.parameters = parameters.values
        let prompts = try userTurns(topFields, context: context, parameters: parameters)
        spec.prompt = prompts[0]
        spec.followUps = Array(prompts.dropFirst())
        if let node = topFields["history"] { spec.history = try history(node, context, parameters: parameters) }
        if let systemNode = topFields["system"] {
            spec.system = try parameters.substitute(try context.string(systemNode, path: "system"), node: systemNode, path: "system")
        }
        return spec
    }

    /// `prompt: TEXT` or `prompts: [TEXT, ...]` (exactly one of them), with parameters substituted.
    static func userTurns(_ top: Fields, context: SpecContext, parameters: Parameters) throws -> [String] {
        switch (top["prompt"], top["prompts"]) {
        case (let single?, nil):
            return [try parameters.substitute(try context.string(single, path: "prompt"), node: single, path: "prompt")]
        case (nil, let list?):
            let items = try context.list(list, path: "prompts")
            guard !items.isEmpty else { throw context.error(list, "prompts: expected at least one user turn") }
            return try items.enumerated().map { index, item in
                let path = "prompts[\(index)]"
                return try parameters.substitute(try context.string(item, path: path), node: item, path: path)
            }
        case (_?, let list?):
            throw context.error(list, "prompts: give either 'prompt' (one user turn) or 'prompts' (several), not both")
        case (nil, nil):
            _ = try top.required("prompt")
            return []
        }
    }

    /// `history: [{role: user|assistant, content: TEXT}, ...]`.
    static func history(_ node: Node, _ c: SpecContext, parameters: Parameters) throws -> [Message] {
        try c.list(node, path: "history").enumerated().map { index, item in
            let path = "history[\(index)]"
            let f = try c.fields(item, path: path, allowed: ["role", "content"])
            let roleNode = try f.required("role")
            let role = try c.string(roleNode, path: "\(path).role")
            let contentNode = try f.required("content")
            let content = try parameters.substitute(try c.string(contentNode, path: "\(path).content"), node: contentNode,
                                                    path: "\(path).content")
            switch role {
            case "user": return .user(content)
            case "assistant": return .assistant(content)
            default: throw c.error(roleNode, "\(path).role: expected user or assistant, got '\(role)'")
            }
        }
    }

    /// `reject_repeated_calls`: true (any earlier step), false (never), or previous_step (the default).
    /// `reasoning: think` / `off`, or `{mode: think|off, budget: TOKENS}`.
    static func reasoning(_ node: Node, _ c: SpecContext) throws -> Reasoning {
        func mode(_ node: Node, path: String) throws -> Reasoning.Mode {
            // `off` is a YAML 1.1 boolean to some readers: the word itself is what counts.
            guard case .scalar(let s) = node, let mode = Reasoning.Mode(rawValue: s.string) else {
                throw c.error(node, "\(path): expected off or think, got \(c.describe(node))")
            }
            return mode
        }
        if case .scalar = node { return Reasoning(mode: try mode(node, path: "reasoning")) }
        let f = try c.fields(node, path: "reasoning", allowed: ["mode", "budget"])
        let modeNode = try f.required("mode")
        return Reasoning(mode: try mode(modeNode, path: "reasoning.mode"),
                         budget: try f.int("budget", min: 1) ?? Reasoning.defaultBudget)
    }

    static func repeatedCalls(_ node: Node, _ c: SpecContext) throws -> RepeatedCallRule {
        if c.scalarKind(node) == .bool { return try c.bool(node, path: "reject_repeated_calls") ? .anyStep : .never }
        guard c.scalarKind(node) == .string, case .scalar(let s) = node, s.string == RepeatedCallRule.previousStep.rawValue else {
            throw c.error(node, "reject_repeated_calls: expected true, false or previous_step, got \(c.describe(node))")
        }
        return .previousStep
    }

    static func yamlError(_ error: YamlError, file: String) -> SpecError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return SpecError(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(prefix)\(problem)")
        default:
            return SpecError(file: file, message: "invalid YAML: \(error)")
        }
    }
}
