/// A tool call the model made, after parsing. `arguments` is the parsed JSON object.
public struct ToolCall: Sendable, Hashable {
    public var id: String
    public var name: String
    public var arguments: JSONValue
    /// True when the call was recovered from a reply that did not use the model's call markup
    /// (for example a bare JSON object naming a declared tool).
    public var recovered: Bool
    /// Optional arguments the model wrote that `ground_optional_arguments` took out before the call ran
    /// (an object of them; nil when none were).
    public var ungrounded: JSONValue? = nil

    public init(id: String, name: String, arguments: JSONValue, recovered: Bool = false) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.recovered = recovered
    }

    /// The same tool with the same arguments (the id and how the call was written aside).
    public func repeats(_ other: ToolCall) -> Bool { name == other.name && arguments == other.arguments }
}

/// A tool call the model tried to make but that could not be parsed or validated.
/// It is answered to the model as an error paired with `id`; no tool runs.
public struct MalformedToolCall: Sendable, Hashable {
    public var id: String
    /// The raw text of the attempted call.
    public var raw: String
    /// The tool name if one could be read.
    public var name: String?
    /// What is wrong, one line.
    public var reason: String

    public init(id: String, raw: String, name: String? = nil, reason: String) {
        self.id = id
        self.raw = raw
        self.name = name
        self.reason = reason
    }
}
