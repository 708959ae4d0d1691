import AgentCore
import Yams

/// The `parameters` of a spec (defaults, `null` = must be given), merged with `--param` overrides,
/// and `{{name}}` substitution in `prompt` and `system`.
struct Parameters {
    private(set) var values: [String: String] = [:]
    private var declared: [String] = []
    private var missing: [(name: String, node: Node)] = []
    let context: SpecContext

    init(_ node: Node?, context: SpecContext, overrides: [(String, String)]) throws {
        self.context = context
        if let node {
            guard case .mapping(let mapping) = node else {
                throw context.error(node, "parameters: expected a mapping, got \(context.describe(node))")
            }
            for (keyNode, valueNode) in mapping {
                let name = try context.string(keyNode, path: "parameters")
                guard Self.isIdentifier(name) else {
                    throw context.error(keyNode, "parameters: '\(name)' is not a valid parameter name (letters, digits, _ and -)")
                }
                guard !declared.contains(name) else { throw context.error(keyNode, "duplicate key '\(name)' in parameters") }
                declared.append(name)
                if context.scalarKind(valueNode) == .null, case .scalar = valueNode {
                    missing.append((name, keyNode))
                } else {
                    values[name] = try context.scalarText(valueNode, path: "parameters.\(name)")
                }
            }
        }
        for (name, value) in overrides {
            guard declared.contains(name) else {
                let list = declared.isEmpty ? "the spec declares no parameters" : "declared: \(declared.joined(separator: ", "))"
                throw SpecError(file: nil, message: "--param \(name)=\(value): no parameter '\(name)' in \(context.file) (\(list))")
            }
            values[name] = value
        }
        if let first = missing.first(where: { values[$0.name] == nil }) {
            throw context.error(first.node, "parameters.\(first.name): no value; give one with --param \(first.name)=VALUE")
        }
    }

    /// Replace every `{{ name }}`; an unknown name is an error at `node`.
    func substitute(_ text: String, node: Node, path: String) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else { out += rest[open.lowerBound...]; rest = ""; break }
            let name = after[..<close.lowerBound].trimmingSpaces
            guard Self.isIdentifier(name) else {
                out += rest[open.lowerBound..<close.upperBound]
                rest = after[close.upperBound...]
                continue
            }
            guard let value = values[name] else {
                let list = declared.isEmpty ? "the spec declares no parameters" : "declared: \(declared.joined(separator: ", "))"
                throw context.error(node, "\(path): unknown parameter '{{\(name)}}' (\(list))")
            }
            out += value
            rest = after[close.upperBound...]
        }
        return out + rest
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
