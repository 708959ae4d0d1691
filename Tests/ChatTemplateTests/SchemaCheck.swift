import AgentCore

/// A small JSON Schema check for the constraint tests (the agent loop has the real validator): the keywords
/// the constraint enforces: type, enum, const, properties (declared only), required, items, min/maxItems.
func schemaViolation(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> String? {
    if let c = schema["const"], c != value { return "\(path): not the const" }
    if let e = schema["enum"]?.arrayValue, !e.contains(value) { return "\(path): not in enum" }
    if let t = schema["type"] {
        let names = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue].compactMap { $0 }
        let ok = names.contains { name in
            switch (name, value) {
            case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
            case ("integer", .int): return true
            case ("number", .int), ("number", .double): return true
            default: return false
            }
        }
        if !ok { return "\(path): \(value.typeName) is not \(names)" }
    }
    if case .object(let members) = value {
        if let props = schema["properties"]?.objectValue {
            for m in members {
                guard let p = props.first(where: { $0.key == m.key }) else { return "\(path): undeclared key \(m.key)" }
                if let v = schemaViolation(m.value, p.value, at: path + "." + m.key) { return v }
            }
        }
        for r in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !members.contains(where: { $0.key == r }) {
            return "\(path): missing \(r)"
        }
    }
    if case .array(let items) = value {
        if let min = schema["minItems"]?.intValue, items.count < min { return "\(path): fewer than \(min) items" }
        if let max = schema["maxItems"]?.intValue, items.count > max { return "\(path): more than \(max) items" }
        if let itemSchema = schema["items"] {
            for (i, item) in items.enumerated() {
                if let v = schemaViolation(item, itemSchema, at: "\(path)[\(i)]") { return v }
            }
        }
    }
    return nil
}
