import AgentCore
import Catalog
import Foundation
import Yams

/// Reads a task spec (YAML) into a `TaskSpec`. Every problem is a `SpecError` naming `file:line:col`.
public enum SpecParser {
    public static let topLevelKeys = [
        "name", "model", "attention", "sampling", "system", "prompt", "parameters", "tools", "sandbox", "limits",
        "transcript", "constrain_tool_calls", "tool_result_hint", "reject_repeated_calls",
        "first_tool_choice", "answer_after",
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
        if let node = topFields["tools"] { spec.tools = try tools(node, context) }
        if let node = topFields["sandbox"] { spec.sandbox = try sandbox(node, context) }
        if let node = topFields["limits"] { spec.limits = try limits(node, context) }
        spec.transcript = try topFields.string("transcript").map { context.path($0) }
        spec.constrainToolCalls = try topFields.bool("constrain_tool_calls") ?? true
        spec.toolResultHint = try topFields.string("tool_result_hint")
        spec.rejectRepeatedCalls = try topFields.bool("reject_repeated_calls") ?? false
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
        let promptNode = try topFields.required("prompt")
        spec.prompt = try parameters.substitute(try context.string(promptNode, path: "prompt"), node: promptNode, path: "prompt")
        if let systemNode = topFields["system"] {
            spec.system = try parameters.substitute(try context.string(systemNode, path: "system"), node: systemNode, path: "system")
        }
        return spec
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
