import AgentCore

/// `declared_calls: collect`: which declared calls a run has collected for its caller, and whether a further
/// call adds a new one. A call is identified by its tool and its required arguments (all of its arguments
/// when the schema requires none): a call that differs from a collected one only in optional arguments is a
/// variant of it, not another request. Small models, answered `OK`, go on to try the same call with other
/// optional settings (`method: "trapezoid"` after `"simpson"`, `formatted: false` after `true`), which a
/// caller would run as extra work nobody asked for; the requests a user lists (two artists, three cities)
/// differ in what the tool requires.
struct CollectedCalls: Sendable {
    private(set) var calls: [ToolCall] = []

    var isEmpty: Bool { calls.isEmpty }

    /// Add `call` unless it is a variant of a collected call; true when it was added. `parameters`: the
    /// schema the tool was declared with.
    mutating func add(_ call: ToolCall, parameters: JSONValue?) -> Bool {
        let identity = Self.identity(of: call, parameters: parameters)
        if calls.contains(where: { $0.name == call.name && Self.identity(of: $0, parameters: parameters) == identity }) {
            return false
        }
        calls.append(call)
        return true
    }

    /// The arguments that say which request a call is: the required ones, or all when none is required.
    static func identity(of call: ToolCall, parameters: JSONValue?) -> JSONValue {
        guard case .object(let members) = call.arguments else { return call.arguments }
        let required = Set((parameters?["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        let kept = required.isEmpty ? members : members.filter { required.contains($0.key) }
        return .object(kept.sorted { $0.key < $1.key })
    }
}
