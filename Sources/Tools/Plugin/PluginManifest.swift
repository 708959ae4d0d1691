import AgentCore
import Foundation
import Yams

/// A plugin's `tool.yaml`:
///
/// ```yaml
/// name: read_file
/// description: Read a range of lines of a text file, with line numbers.
/// parameters:            # JSON Schema of the arguments (an object schema)
///   type: object
///   properties: {path: {type: string}}
///   required: [path]
/// command: [python3, read_file.py]   # argv, or one string split on spaces; paths relative to the folder
/// timeout: 10s                       # optional; at most the spec's sandbox timeout
/// limits: {memory: 256MiB, processes: 16, output: 32KiB, cpu: 10s}   # optional; can only tighten the sandbox
/// ```
public struct PluginManifest: Sendable, Hashable {
    public var name: String
    public var description: String
    public var parameters: JSONValue
    public var command: [String]
    public var timeoutSeconds: Double?
    public var memoryBytes: Int?
    public var processes: Int?
    public var outputBytes: Int?
    public var cpuSeconds: Int?

    static let keys = ["name", "description", "parameters", "command", "timeout", "limits"]
    static let limitKeys = ["memory", "processes", "output", "cpu"]

    /// Parses `text` (the contents of `file`); errors read `file:line:col: message`.
    public static func parse(_ text: String, file: String) throws -> PluginManifest {
        let reader = ManifestReader(file: file)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw reader.error(nil, "empty file; expected a mapping with name, description, parameters, command") }
            root = node
        } catch let e as YamlError {
            throw reader.yamlError(e)
        }
        guard case .mapping(let mapping) = root else { throw reader.error(root, "expected a mapping with name, description, parameters, command") }
        var values: [String: Node] = [:]
        for (k, v) in mapping {
            guard case .scalar(let s) = k else { throw reader.error(k, "keys must be plain strings") }
            guard keys.contains(s.string) else {
                throw reader.error(k, "unknown key '\(s.string)' (allowed: \(keys.joined(separator: ", ")))")
            }
            guard values[s.string] == nil else { throw reader.error(k, "duplicate key '\(s.string)'") }
            values[s.string] = v
        }
        func required(_ key: String) throws -> Node {
            guard let n = values[key] else { throw reader.error(root, "missing required key '\(key)'") }
            return n
        }
        let name = try reader.string(try required("name"), "name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }), name.count <= 64 else {
            throw reader.error(values["name"], "name: use letters, digits, '_' or '-' (at most 64), got \"\(name)\"")
        }
        let description = try reader.string(try required("description"), "description")
        let parametersNode = try required("parameters")
        let parameters = try reader.json(parametersNode)
        guard parameters["type"]?.stringValue == "object" else {
            throw reader.error(parametersNode, "parameters: expected a JSON Schema with type: object")
        }
        let commandNode = try required("command")
        let command: [String]
        switch commandNode {
        case .scalar:
            command = try reader.string(commandNode, "command").split(separator: " ").map(String.init)
        case .sequence(let seq):
            command = try seq.map { try reader.scalarText($0, "command") }
        case .mapping:
            throw reader.error(commandNode, "command: expected a list of strings or a string, got a mapping")
        }
        guard !command.isEmpty, !command[0].isEmpty else { throw reader.error(commandNode, "command: must not be empty") }
        var manifest = PluginManifest(name: name, description: description, parameters: parameters, command: command)
        if let t = values["timeout"] { manifest.timeoutSeconds = try reader.duration(t, "timeout") }
        if let l = values["limits"] {
            guard case .mapping(let lm) = l else { throw reader.error(l, "limits: expected a mapping") }
            for (k, v) in lm {
                let key = k.string ?? ""
                switch key {
                case "memory": manifest.memoryBytes = try reader.size(v, "limits.memory")
                case "output": manifest.outputBytes = try reader.size(v, "limits.output")
                case "processes": manifest.processes = try reader.positiveInt(v, "limits.processes")
                case "cpu": manifest.cpuSeconds = Int(try reader.duration(v, "limits.cpu").rounded(.up))
                default:
                    throw reader.error(k, "unknown key '\(key)' in limits (allowed: \(limitKeys.joined(separator: ", ")))")
                }
            }
        }
        return manifest
    }
}

/// Typed access to YAML nodes with `file:line:col` errors.
struct ManifestReader {
    let file: String

    func error(_ node: Node?, _ message: String) -> ToolSetupError {
        let m = node?.mark
        return ToolSetupError("\(file):\(m?.line ?? 1):\(m?.column ?? 1): \(message)")
    }

    func yamlError(_ e: YamlError) -> ToolSetupError {
        switch e {
        case .scanner(let ctx, let problem, let mark, _), .parser(let ctx, let problem, let mark, _),
             .composer(let ctx, let problem, let mark, _):
            let context = ctx.map { "\($0.text) " } ?? ""
            return ToolSetupError("\(file):\(mark.line):\(mark.column): invalid YAML: \(context)\(problem)")
        default:
            return ToolSetupError("\(file):1:1: invalid YAML: \(e)")
        }
    }

    private func isString(_ node: Node) -> Bool {
        guard case .scalar(let s) = node else { return false }
        return node.tag.description == Tag.Name.str.rawValue || (s.style != .plain && s.style != .any)
    }

    func string(_ node: Node, _ path: String) throws -> String {
        guard case .scalar(let s) = node, isString(node) else { throw error(node, "\(path): expected a string") }
        return s.string
    }

    func scalarText(_ node: Node, _ path: String) throws -> String {
        guard case .scalar(let s) = node, node.tag.description != Tag.Name.null.rawValue else {
            throw error(node, "\(path): expected a string")
        }
        return s.string
    }

    func positiveInt(_ node: Node, _ path: String) throws -> Int {
        guard let v = node.int, node.tag.description == Tag.Name.int.rawValue, v > 0 else {
            throw error(node, "\(path): expected a positive integer")
        }
        return v
    }

    func duration(_ node: Node, _ path: String) throws -> Double {
        guard case .scalar(let s) = node, let v = Units.duration(s.string), v > 0 else {
            throw error(node, "\(path): expected a duration like 10s, 500ms or 2m")
        }
        return v
    }

    func size(_ node: Node, _ path: String) throws -> Int {
        guard case .scalar(let s) = node, let v = Units.size(s.string), v > 0 else {
            throw error(node, "\(path): expected a size like 64KiB or 1GiB")
        }
        return v
    }

    /// A YAML node as JSON, keeping key order. Scalars keep their YAML types (plain `3` is an integer).
    func json(_ node: Node) throws -> JSONValue {
        switch node {
        case .mapping(let m):
            var members: [JSONMember] = []
            for (k, v) in m {
                guard case .scalar(let ks) = k else { throw error(k, "object keys must be strings") }
                members.append(JSONMember(ks.string, try json(v)))
            }
            return .object(members)
        case .sequence(let s):
            return .array(try s.map { try json($0) })
        case .scalar(let s):
            if isString(node) { return .string(s.string) }
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return .bool(node.bool ?? false)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(s.string)
            case Tag.Name.float.rawValue: return node.float.map { .double($0) } ?? .string(s.string)
            default: return .string(s.string)
            }
        }
    }
}

/// `30s`, `500ms`, `2m`, `1h` and sizes `64KiB`, `1GiB`, `512MB`, `100`.
enum Units {
    static func duration(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let v = Double(t) { return v }
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)) { return v * scale }
        }
        return nil
    }

    static func size(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let v = Int(t) { return v }
        let units: [(String, Double)] = [("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1e3), ("MB", 1e6),
                                         ("GB", 1e9), ("B", 1)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)) { return Int(v * scale) }
        }
        return nil
    }
}
