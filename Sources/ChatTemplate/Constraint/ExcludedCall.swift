import AgentCore

/// A call a reply may not write again, as the point where the reply must have left it.
///
/// A weak model whose call failed writes the same call again, token for token, whatever the error said.
/// Excluding only the finished duplicate would let it diverge at the last byte (a longer path, an extra
/// argument); so the exclusion bites where the model commits to the same approach: the call may follow
/// the excluded one up to, but not through, the first `valueBytes` bytes of its first string argument
/// (the whole call when it has none). Compared without the whitespace outside strings, in the order the
/// model wrote the keys (`{"name": N, "arguments": {...}}`, the arguments key of the model's format).
///
/// The exclusion is applied only to a reply that was about to repeat the call (see `LocalChatModel`): it
/// also forbids different calls that start the same way, which a model that corrects its own call by a
/// few characters must stay free to write.
public struct ExcludedCall: Sendable, Hashable {
    /// The canonical bytes the call may not complete.
    public let stop: [UInt8]

    public init(_ call: ToolCall, argumentsKey: String = "arguments", valueBytes: Int = 4) {
        var head = Array(JSONValue.string(call.name).serialized().utf8)
        head = Array("{\"name\":".utf8) + head + Array(",\(JSONValue.string(argumentsKey).serialized()):".utf8)
        guard case .object(let members) = call.arguments, !members.isEmpty else {
            stop = head + Array(call.arguments.serialized().utf8) + [UInt8(ascii: "}")]
            return
        }
        var bytes = head + [UInt8(ascii: "{")]
        for (i, m) in members.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += Array(JSONValue.string(m.key).serialized().utf8) + [UInt8(ascii: ":")]
            if case .string = m.value {
                // The value's opening quote and its first bytes (escaped as written).
                let value = Array(m.value.serialized().utf8).dropFirst().dropLast()
                stop = bytes + [UInt8(ascii: "\"")] + (value.isEmpty ? [UInt8(ascii: "\"")] : Array(value.prefix(valueBytes)))
                return
            }
            bytes += Array(m.value.serialized().utf8)
        }
        stop = bytes + Array("}}".utf8)
    }
}

/// JSON text without the whitespace outside strings, fed byte by byte.
struct CanonicalJSON {
    private(set) var bytes: [UInt8] = []
    private var inString = false
    private var escaped = false

    mutating func push(_ b: UInt8) {
        if inString {
            bytes.append(b)
            if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            return
        }
        if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { return }
        bytes.append(b)
        if b == UInt8(ascii: "\"") { inString = true }
    }

    /// Whether pushing `token` after the current bytes completes `stop` (the bytes so far being a proper
    /// prefix of it).
    func completes(_ stop: [UInt8], with token: [UInt8]) -> Bool {
        var copy = self
        for b in token {
            copy.push(b)
            let n = copy.bytes.count
            if n == 0 { continue }
            if n > stop.count || copy.bytes[n - 1] != stop[n - 1] { return false }
            if n == stop.count { return true }
        }
        return false
    }
}
