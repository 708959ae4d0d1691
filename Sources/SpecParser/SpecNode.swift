import AgentCore
import Foundation
import Yams

/// Typed access to YAML nodes, every failure a `SpecError` at the node's position.
struct SpecContext {
    let file: String
    let baseDirectory: String

    func error(_ node: Node?, _ message: String) -> SpecError {
        SpecError(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message)
    }

    /// The keys of a mapping node, checked against `allowed` (unknown and duplicate keys are errors).
    func fields(_ node: Node, path: String, allowed: [String]) throws -> Fields {
        guard case .mapping(let mapping) = node else {
            throw error(node, "\(path): expected a mapping, got \(describe(node))")
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw error(keyNode, "\(path): keys must be plain strings")
            }
            let key = scalar.string
            if pairs.contains(where: { $0.key == key }) {
                throw error(keyNode, "duplicate key '\(key)' in \(path)")
            }
            guard allowed.contains(key) else {
                throw error(keyNode, "unknown key '\(key)' in \(path) \(Self.suggestion(for: key, among: allowed))")
            }
            pairs.append((key, keyNode, value))
        }
        return Fields(context: self, node: node, path: path, pairs: pairs)
    }

    static func suggestion(for key: String, among allowed: [String]) -> String {
        let best = allowed.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        if let best, best.1 <= max(1, key.count / 3) { return "(did you mean '\(best.0)'?)" }
        return "(allowed: \(allowed.joined(separator: ", ")))"
    }

    /// Edit distance counting an adjacent transposition as one edit (optimal string alignment).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var d = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }

    /// A short description of a node for type errors: `a mapping`, `a list`, `integer 3`, `string "x"`.
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            let text = s.string.count > 40 ? String(s.string.prefix(37)) + "..." : s.string
            switch scalarKind(node) {
            case .null: return "null"
            case .bool: return "boolean \(text)"
            case .int: return "integer \(text)"
            case .float: return "number \(text)"
            case .string: return "string \"\(text)\""
            }
        }
    }

    enum ScalarKind { case null, bool, int, float, string }

    func scalarKind(_ node: Node) -> ScalarKind {
        switch Tag.Name(rawValue: node.tag.description) {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .float: return .float
        default: return .string
        }
    }

    // MARK: typed values

    func string(_ node: Node, path: String) throws -> String {
        guard case .scalar(let s) = node, scalarKind(node) == .string else {
            throw error(node, "\(path): expected a string, got \(describe(node))")
        }
        return s.string
    }

    /// Any scalar but null, as text (parameter defaults, environment values, headers).
    func scalarText(_ node: Node, path: String) throws -> String {
        guard case .scalar(let s) = node, scalarKind(node) != .null else {
            throw error(node, "\(path): expected a string, got \(describe(node))")
        }
        return s.string
    }

    func int(_ node: Node, path: String, min: Int? = nil) throws -> Int {
        guard scalarKind(node) == .int, let value = node.int else {
            throw error(node, "\(path): expected an integer, got \(describe(node))")
        }
        if let min, value < min { throw error(node, "\(path): must be at least \(min), got \(value)") }
        return value
    }

    func double(_ node: Node, path: String) throws -> Double {
        let kind = scalarKind(node)
        guard kind == .int || kind == .float, let value = node.float, value.isFinite else {
            throw error(node, "\(path): expected a number, got \(describe(node))")
        }
        return value
    }

    func bool(_ node: Node, path: String) throws -> Bool {
        guard scalarKind(node) == .bool, let value = node.bool else {
            throw error(node, "\(path): expected true or false, got \(describe(node))")
        }
        return value
    }

    func duration(_ node: Node, path: String) throws -> Double {
        guard case .scalar(let s) = node, scalarKind(node) != .null, scalarKind(node) != .bool else {
            throw error(node, "\(path): expected a duration such as 30s, got \(describe(node))")
        }
        guard let seconds = SpecUnits.duration(s.string) else {
            throw error(node, "\(path): invalid duration '\(s.string)' (use e.g. 500ms, 30s, 2m, 1h)")
        }
        guard seconds > 0 else { throw error(node, "\(path): duration must be positive, got '\(s.string)'") }
        return seconds
    }

    func size(_ node: Node, path: String) throws -> Int {
        guard case .scalar(let s) = node, scalarKind(node) != .null, scalarKind(node) != .bool else {
            throw error(node, "\(path): expected a size such as 64KiB, got \(describe(node))")
        }
        guard let bytes = SpecUnits.size(s.string) else {
            throw error(node, "\(path): invalid size '\(s.string)' (use e.g. 4096, 64KiB, 512MB, 1GiB)")
        }
        guard bytes > 0 else { throw error(node, "\(path): size must be positive, got '\(s.string)'") }
        return bytes
    }

    func list(_ node: Node, path: String) throws -> [Node] {
        guard case .sequence(let seq) = node else {
            throw error(node, "\(path): expected a list, got \(describe(node))")
        }
        return Array(seq)
    }

    func stringList(_ node: Node, path: String) throws -> [String] {
        try list(node, path: path).enumerated().map { try string($0.element, path: "\(path)[\($0.offset)]") }
    }

    /// A mapping of names to scalar values, in order.
    func stringMap(_ node: Node, path: String) throws -> [(key: String, value: String, node: Node)] {
        guard case .mapping(let mapping) = node else {
            throw error(node, "\(path): expected a mapping, got \(describe(node))")
        }
        var out: [(key: String, value: String, node: Node)] = []
        for (k, v) in mapping {
            let key = try scalarText(k, path: path)
            if out.contains(where: { $0.key == key }) { throw error(k, "duplicate key '\(key)' in \(path)") }
            out.append((key, try scalarText(v, path: "\(path).\(key)"), v))
        }
        return out
    }

    /// Arbitrary YAML as JSON (for JSON Schemas written in YAML).
    func json(_ node: Node, path: String) throws -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var members: [JSONMember] = []
            for (k, v) in mapping {
                let key = try scalarText(k, path: path)
                if members.contains(where: { $0.key == key }) { throw error(k, "duplicate key '\(key)' in \(path)") }
                members.append(JSONMember(key, try json(v, path: "\(path).\(key)")))
            }
            return .object(members)
        case .sequence(let seq):
            return .array(try seq.enumerated().map { try json($0.element, path: "\(path)[\($0.offset)]") })
        case .scalar(let s):
            switch scalarKind(node) {
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(s.string)
            case .float: return node.float.map { .double($0) } ?? .string(s.string)
            case .string: return .string(s.string)
            }
        }
    }

    /// A path from the spec, made absolute against the spec's directory.
    func path(_ raw: String) -> String {
        if raw.hasPrefix("/") { return raw }
        if raw.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] { return home + raw.dropFirst(1) }
        return baseDirectory.hasSuffix("/") ? baseDirectory + raw : baseDirectory + "/" + raw
    }
}

/// The checked keys of one mapping.
struct Fields {
    let context: SpecContext
    let node: Node
    let path: String
    let pairs: [(key: String, keyNode: Node, value: Node)]

    subscript(key: String) -> Node? { pairs.first { $0.key == key }?.value }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func required(_ key: String) throws -> Node {
        guard let value = self[key] else {
            throw context.error(node, "missing required key '\(key)' in \(path.isEmpty ? "task" : path)")
        }
        return value
    }

    func string(_ key: String) throws -> String? { try self[key].map { try context.string($0, path: sub(key)) } }
    func int(_ key: String, min: Int? = nil) throws -> Int? { try self[key].map { try context.int($0, path: sub(key), min: min) } }
    func double(_ key: String) throws -> Double? { try self[key].map { try context.double($0, path: sub(key)) } }
    func bool(_ key: String) throws -> Bool? { try self[key].map { try context.bool($0, path: sub(key)) } }
    func duration(_ key: String) throws -> Double? { try self[key].map { try context.duration($0, path: sub(key)) } }
    func size(_ key: String) throws -> Int? { try self[key].map { try context.size($0, path: sub(key)) } }
    func stringList(_ key: String) throws -> [String]? { try self[key].map { try context.stringList($0, path: sub(key)) } }

    /// A number checked against a closed range.
    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let node = self[key] else { return nil }
        let value = try context.double(node, path: sub(key))
        guard range.contains(value) else {
            throw context.error(node, "\(sub(key)): must be between \(format(range.lowerBound)) and \(format(range.upperBound)), got \(format(value))")
        }
        return value
    }

    private func format(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }
}
