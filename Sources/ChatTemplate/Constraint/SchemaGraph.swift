import AgentCore

/// JSON Schemas of the declared tools compiled into a flat graph the byte automaton walks.
///
/// Supported: `type` (one or a list), `enum`, `const`, `properties` (declared keys only, even when `additionalProperties` allows more:
/// a subset of what is valid; `"properties": {}` means `{}`), `required`, `additionalProperties` (schema or boolean, for objects without
/// `properties`), `items`, `minItems`, `maxItems`. Constructs it does not model (`anyOf`, `oneOf`,
/// `allOf`, `$ref`, `not`, string patterns and formats, numeric bounds) are left to the agent loop's
/// validation: their values are only constrained to be JSON of the allowed types.
struct SchemaGraph: Sendable {
    struct TypeSet: OptionSet, Sendable, Hashable {
        let rawValue: UInt8
        static let null = TypeSet(rawValue: 1)
        static let boolean = TypeSet(rawValue: 2)
        static let integer = TypeSet(rawValue: 4)
        static let number = TypeSet(rawValue: 8)
        static let string = TypeSet(rawValue: 16)
        static let array = TypeSet(rawValue: 32)
        static let object = TypeSet(rawValue: 64)
        static let all: TypeSet = [.null, .boolean, .integer, .number, .string, .array, .object]
    }

    struct Node: Sendable {
        var types: TypeSet = .all
        /// `enum`/`const`: index into `literalSets` of the allowed values' compact serializations.
        var literals: Int32 = -1
        /// Declared properties: key literal set (quoted, escaped keys) and value nodes, in order.
        var keySet: Int32 = -1
        var propertyNodes: [Int32] = []
        var required: UInt64 = 0
        /// Objects without declared properties: node of every value (`additionalProperties`), -1 = none allowed.
        var freeValues: Int32 = 0
        var items: Int32 = 0
        var minItems: Int = 0
        var maxItems: Int = Int.max
        var declaredKeys: Bool { keySet >= 0 }
    }

    /// Node 0 is "any JSON value".
    private(set) var nodes: [Node] = [Node()]
    private(set) var literalSets: [[[UInt8]]] = []
    /// Parameters node of each tool, in declaration order.
    private(set) var toolNodes: [Int32] = []

    static let maxLiterals = 64
    static let maxProperties = 64

    init(tools: [ToolDeclaration]) {
        for tool in tools { toolNodes.append(compile(tool.parameters, depth: 0)) }
    }

    mutating func addLiteralSet(_ set: [[UInt8]]) -> Int32 {
        literalSets.append(set)
        return Int32(literalSets.count - 1)
    }

    private mutating func add(_ node: Node) -> Int32 {
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func compile(_ schema: JSONValue, depth: Int) -> Int32 {
        guard depth < 32, case .object = schema else { return 0 }
        var node = Node()
        if let t = schema["type"] {
            node.types = []
            let names = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue].compactMap { $0 }
            for name in names {
                switch name {
                case "null": node.types.insert(.null)
                case "boolean": node.types.insert(.boolean)
                case "integer": node.types.insert(.integer)
                case "number": node.types.insert(.number)
                case "string": node.types.insert(.string)
                case "array": node.types.insert(.array)
                case "object": node.types.insert(.object)
                default: break
                }
            }
            if node.types.isEmpty { node.types = .all }
        } else if schema["properties"] != nil {
            node.types = .object
        } else if schema["items"] != nil {
            node.types = .array
        }
        var literalValues: [JSONValue]?
        if let c = schema["const"] { literalValues = [c] } else if let e = schema["enum"]?.arrayValue, !e.isEmpty { literalValues = e }
        if let values = literalValues, values.count <= Self.maxLiterals {
            let allowed = values.filter { v in
                switch v {
                case .null: return node.types.contains(.null)
                case .bool: return node.types.contains(.boolean)
                case .int: return node.types.contains(.integer) || node.types.contains(.number)
                case .double: return node.types.contains(.number) || (node.types.contains(.integer) && v.intValue != nil)
                case .string: return node.types.contains(.string)
                case .array: return node.types.contains(.array)
                case .object: return node.types.contains(.object)
                }
            }
            if !allowed.isEmpty {
                node.literals = addLiteralSet(allowed.map { Array($0.serialized(.compact).utf8) })
                return add(node)
            }
        }
        if node.types.contains(.object) {
            if let props = schema["properties"]?.objectValue {
                let kept = props.prefix(Self.maxProperties)
                node.keySet = addLiteralSet(kept.map { Array(JSONValue.string($0.key).serialized(.compact).utf8) })
                var children: [Int32] = []
                for p in kept { children.append(compile(p.value, depth: depth + 1)) }
                node.propertyNodes = children
                for r in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    if let i = kept.firstIndex(where: { $0.key == r }) { node.required |= 1 << UInt64(i - kept.startIndex) }
                }
            } else {
                switch schema["additionalProperties"] {
                case .bool(false)?: node.freeValues = -1
                case let s? where s.objectValue != nil: node.freeValues = compile(s, depth: depth + 1)
                default: node.freeValues = 0
                }
            }
        }
        if node.types.contains(.array) {
            if let items = schema["items"], items.objectValue != nil { node.items = compile(items, depth: depth + 1) }
            node.minItems = max(0, Int(schema["minItems"]?.intValue ?? 0))
            if let m = schema["maxItems"]?.intValue { node.maxItems = max(node.minItems, Int(m)) }
        }
        return add(node)
    }
}
