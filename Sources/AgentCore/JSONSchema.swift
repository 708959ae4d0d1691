/// Validation of a JSON value against a JSON Schema, as used for tool parameters.
///
/// Supported keywords: `type` (a name or a list of names), `properties`, `required`,
/// `additionalProperties` (boolean or schema), `enum`, `const`, `items` (schema or tuple list),
/// `minItems`/`maxItems`, `uniqueItems`, `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum`,
/// `minLength`/`maxLength` (counted in Unicode scalars), `pattern`, `anyOf`, `oneOf`, `allOf`, `not`,
/// boolean schemas, and local `$ref`s (`#/$defs/x`, `#/definitions/x`). Unknown keywords are ignored,
/// as the specification requires.
///
/// Every error is one line, prefixed with the path of the offending value:
/// `arguments.items[2].name: expected integer, got string`.
public struct JSONSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

public struct JSONSchema: Sendable, Hashable {
    public var schema: JSONValue

    public init(_ schema: JSONValue) { self.schema = schema }

    /// All errors of `value` (empty when valid), at most `limit` of them.
    public func validate(_ value: JSONValue, path: String = "arguments", limit: Int = 8) -> [JSONSchemaError] {
        var validator = Validator(root: schema, limit: limit)
        validator.check(value, schema, path: path, depth: 0)
        return validator.errors
    }

    /// The first error as one line, or nil when `value` is valid.
    public func firstError(_ value: JSONValue, path: String = "arguments") -> String? {
        validate(value, path: path, limit: 1).first?.description
    }
}

private struct Validator {
    let root: JSONValue
    let limit: Int
    var errors: [JSONSchemaError] = []

    init(root: JSONValue, limit: Int) {
        self.root = root
        self.limit = limit
    }

    var full: Bool { errors.count >= limit }

    mutating func fail(_ path: String, _ message: String) {
        if !full { errors.append(JSONSchemaError(path: path, message: message)) }
    }

    /// Whether `value` matches `schema`, without recording errors; returns the first error if not.
    func probe(_ value: JSONValue, _ schema: JSONValue, path: String, depth: Int) -> JSONSchemaError? {
        var sub = Validator(root: root, limit: 1)
        sub.check(value, schema, path: path, depth: depth)
        return sub.errors.first
    }

    mutating func check(_ value: JSONValue, _ schema: JSONValue, path: String, depth: Int) {
        guard !full else { return }
        guard depth < 64 else { return fail(path, "schema nesting too deep (recursive $ref?)") }
        switch schema {
        case .bool(true): return
        case .bool(false): return fail(path, "no value is allowed here")
        case .object: break
        default: return  // not a schema: accept, as a lenient validator would
        }
        if let ref = schema["$ref"]?.stringValue {
            guard let target = resolve(ref) else { return fail(path, "schema reference '\(ref)' cannot be resolved") }
            check(value, target, path: path, depth: depth + 1)
        }

        if let typeSpec = schema["type"] {
            let names: [String] = typeSpec.stringValue.map { [$0] } ?? (typeSpec.arrayValue ?? []).compactMap(\.stringValue)
            if !names.isEmpty, !names.contains(where: { Self.matches(value, type: $0) }) {
                return fail(path, "expected \(names.joined(separator: " or ")), got \(Self.describeType(value))")
            }
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(where: { Self.equal($0, value) }) {
            let list = allowed.prefix(12).map { $0.serialized(.python) }.joined(separator: ", ")
            return fail(path, "expected one of \(list), got \(Self.preview(value))")
        }
        if let constant = schema["const"], !Self.equal(constant, value) {
            return fail(path, "expected \(constant.serialized(.python)), got \(Self.preview(value))")
        }

        switch value {
        case .object(let members): checkObject(members, schema, path: path, depth: depth)
        case .array(let items): checkArray(items, schema, path: path, depth: depth)
        case .string(let s): checkString(s, schema, path: path)
        case .int, .double: checkNumber(value, schema, path: path)
        default: break
        }

        if let all = schema["allOf"]?.arrayValue {
            for sub in all { check(value, sub, path: path, depth: depth + 1) }
        }
        if let any = schema["anyOf"]?.arrayValue, !any.isEmpty {
            var first: JSONSchemaError?
            var matched = false
            for sub in any {
                if let e = probe(value, sub, path: path, depth: depth + 1) { first = first ?? e } else { matched = true; break }
            }
            if !matched, let first {
                fail(path, "matches none of the \(any.count) anyOf alternatives (first: \(first))")
            }
        }
        if let one = schema["oneOf"]?.arrayValue, !one.isEmpty {
            var first: JSONSchemaError?
            var count = 0
            for sub in one {
                if let e = probe(value, sub, path: path, depth: depth + 1) { first = first ?? e } else { count += 1 }
            }
            if count == 0, let first {
                fail(path, "matches none of the \(one.count) oneOf alternatives (first: \(first))")
            } else if count > 1 {
                fail(path, "matches \(count) of the oneOf alternatives, expected exactly one")
            }
        }
        if let not = schema["not"], probe(value, not, path: path, depth: depth + 1) == nil {
            fail(path, "must not match the 'not' schema")
        }
    }

    mutating func checkObject(_ members: [JSONMember], _ schema: JSONValue, path: String, depth: Int) {
        let properties = schema["properties"]?.objectValue ?? []
        for name in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue)
        where !members.contains(where: { $0.key == name }) {
            fail(path, "missing required property '\(name)'")
        }
        for member in members {
            let childPath = Self.join(path, key: member.key)
            if let sub = properties.first(where: { $0.key == member.key }) {
                check(member.value, sub.value, path: childPath, depth: depth + 1)
                continue
            }
            switch schema["additionalProperties"] {
            case .bool(false)?:
                let allowed = properties.map(\.key)
                fail(childPath, allowed.isEmpty ? "unexpected property (none are allowed)"
                     : "unexpected property (allowed: \(allowed.joined(separator: ", ")))")
            case let sub? where sub.objectValue != nil:
                check(member.value, sub, path: childPath, depth: depth + 1)
            default: break
            }
        }
        if let min = schema["minProperties"]?.intValue, members.count < min {
            fail(path, "expected at least \(min) \(Self.plural(min, "property", "properties")), got \(members.count)")
        }
        if let max = schema["maxProperties"]?.intValue, members.count > max {
            fail(path, "expected at most \(max) \(Self.plural(max, "property", "properties")), got \(members.count)")
        }
    }

    mutating func checkArray(_ items: [JSONValue], _ schema: JSONValue, path: String, depth: Int) {
        if let min = schema["minItems"]?.intValue, items.count < min {
            fail(path, "expected at least \(min) \(Self.plural(min, "item", "items")), got \(items.count)")
        }
        if let max = schema["maxItems"]?.intValue, items.count > max {
            fail(path, "expected at most \(max) \(Self.plural(max, "item", "items")), got \(items.count)")
        }
        if schema["uniqueItems"]?.boolValue == true {
            outer: for i in items.indices {
                for j in items.indices where j > i && Self.equal(items[i], items[j]) {
                    fail("\(path)[\(j)]", "duplicate of item \(i), items must be unique")
                    break outer
                }
            }
        }
        switch schema["items"] {
        case .array(let tuple)?:
            for (i, item) in items.enumerated() where i < tuple.count {
                check(item, tuple[i], path: "\(path)[\(i)]", depth: depth + 1)
            }
        case let sub?:
            for (i, item) in items.enumerated() { check(item, sub, path: "\(path)[\(i)]", depth: depth + 1) }
        case nil: break
        }
    }

    mutating func checkString(_ s: String, _ schema: JSONValue, path: String) {
        let length = s.unicodeScalars.count
        if let min = schema["minLength"]?.intValue, length < min {
            fail(path, "expected at least \(min) \(Self.plural(min, "character", "characters")), got \(length)")
        }
        if let max = schema["maxLength"]?.intValue, length > max {
            fail(path, "expected at most \(max) \(Self.plural(max, "character", "characters")), got \(length)")
        }
        if let pattern = schema["pattern"]?.stringValue {
            guard let regex = try? Regex(pattern) else { return fail(path, "schema pattern '\(pattern)' is not a valid regular expression") }
            if (try? regex.firstMatch(in: s)) == nil {
                fail(path, "\(Self.preview(.string(s))) does not match pattern '\(pattern)'")
            }
        }
    }

    mutating func checkNumber(_ value: JSONValue, _ schema: JSONValue, path: String) {
        guard let x = value.doubleValue else { return }
        let shown = Self.preview(value)
        if let min = schema["minimum"]?.doubleValue, x < min { fail(path, "expected >= \(Self.number(min)), got \(shown)") }
        if let max = schema["maximum"]?.doubleValue, x > max { fail(path, "expected <= \(Self.number(max)), got \(shown)") }
        if let min = schema["exclusiveMinimum"]?.doubleValue, x <= min { fail(path, "expected > \(Self.number(min)), got \(shown)") }
        if let max = schema["exclusiveMaximum"]?.doubleValue, x >= max { fail(path, "expected < \(Self.number(max)), got \(shown)") }
        if let m = schema["multipleOf"]?.doubleValue, m > 0 {
            let q = x / m
            if q.rounded() != q { fail(path, "expected a multiple of \(Self.number(m)), got \(shown)") }
        }
    }

    func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        var node = root
        for raw in ref.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = String(raw).replacing("~1", with: "/").replacing("~0", with: "~")
            guard let next = node[key] else { return nil }
            node = next
        }
        return node
    }

    // MARK: helpers

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d && d.isFinite
        case ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    static func describeType(_ value: JSONValue) -> String {
        if case .double(let d) = value, d.rounded() != d { return "number" }
        return value.typeName
    }

    /// JSON equality where 1 and 1.0 are the same number.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int): return a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { m in y.first { $0.key == m.key }.map { equal(m.value, $0.value) } ?? false }
        default: return a == b
        }
    }

    static func preview(_ value: JSONValue) -> String {
        let text = value.serialized(.python)
        return text.count <= 60 ? text : String(text.prefix(57)) + "..."
    }

    static func number(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
    }

    static func plural(_ n: Int64, _ one: String, _ many: String) -> String { n == 1 ? one : many }

    static func join(_ path: String, key: String) -> String {
        let isIdentifier = !key.isEmpty && key.unicodeScalars.allSatisfy { ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
        return isIdentifier ? "\(path).\(key)" : "\(path)[\(JSONValue.string(key).serialized())]"
    }
}
