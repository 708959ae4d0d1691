import AgentCore

/// A decoding problem inside one JSON object, e.g. `model_turn: 'tokens' must be a list of integers`.
struct FieldError: Error, CustomStringConvertible {
    var description: String
}

/// Strict typed access to the members of a JSON object.
struct JSONFields {
    let value: JSONValue
    let context: String

    init(_ value: JSONValue, _ context: String) throws {
        guard value.objectValue != nil else { throw FieldError(description: "\(context): expected an object, got \(value.typeName)") }
        self.value = value
        self.context = context
    }

    func fail(_ key: String, _ expected: String) -> FieldError {
        FieldError(description: "\(context): '\(key)' must be \(expected)")
    }

    func has(_ key: String) -> Bool { if let v = value[key], v != .null { return true } else { return false } }

    func raw(_ key: String) throws -> JSONValue {
        guard let v = value[key] else { throw FieldError(description: "\(context): missing '\(key)'") }
        return v
    }

    func string(_ key: String) throws -> String {
        guard let s = try raw(key).stringValue else { throw fail(key, "a string") }
        return s
    }
    func optionalString(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        return try string(key)
    }
    func int(_ key: String) throws -> Int {
        guard case .int(let i) = try raw(key) else { throw fail(key, "an integer") }
        return Int(i)
    }
    func optionalInt(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        return try int(key)
    }
    func double(_ key: String) throws -> Double {
        guard let d = try raw(key).doubleValue else { throw fail(key, "a number") }
        return d
    }
    func optionalDouble(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        return try double(key)
    }
    func bool(_ key: String) throws -> Bool {
        guard let b = try raw(key).boolValue else { throw fail(key, "true or false") }
        return b
    }
    func optionalBool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        return try bool(key)
    }
    func array(_ key: String) throws -> [JSONValue] {
        guard let a = try raw(key).arrayValue else { throw fail(key, "a list") }
        return a
    }
    func stringArray(_ key: String) throws -> [String] {
        try array(key).map { v in
            guard let s = v.stringValue else { throw fail(key, "a list of strings") }
            return s
        }
    }
    func object(_ key: String) throws -> JSONFields { try JSONFields(try raw(key), "\(context).\(key)") }
    func stringMap(_ key: String) throws -> [String: String] {
        guard let members = try raw(key).objectValue else { throw fail(key, "an object") }
        var out: [String: String] = [:]
        for m in members {
            guard let s = m.value.stringValue else { throw fail(key, "an object of strings") }
            out[m.key] = s
        }
        return out
    }
}

extension JSONValue {
    /// A finite number (non-finite values are not JSON).
    static func number(_ d: Double) -> JSONValue { d.isFinite ? .double(d) : .double(0) }
    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    static func sortedObject(_ dict: [String: String]) -> JSONValue {
        .object(dict.keys.sorted().map { JSONMember($0, .string(dict[$0]!)) })
    }
}
