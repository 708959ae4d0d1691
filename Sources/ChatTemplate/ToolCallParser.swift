import AgentCore

/// Parses tool calls out of a model's reply as it streams.
///
/// Recognized: `<tool_call>{json}</tool_call>` blocks (several per turn; the JSON may be fenced with
/// ```` ```json ````, may be a list of calls, may use the OpenAI `{"function": {...}}` shape, and its
/// `arguments` may be a JSON string holding the object), and, when a reply has no tagged call, a reply
/// that is exactly (modulo whitespace, a ```` ``` ```` fence and a stray closing tag) a bare JSON object
/// `{"name": <declared tool>, "arguments": {...}}` (or Llama 3's `"parameters"` for `"arguments"`) or a
/// list of them: such calls are `recovered`.
/// Everything wrong (unterminated tag, invalid JSON, missing name or arguments, unknown tool) becomes a
/// `MalformedToolCall` with a one-line reason. Argument schemas are not checked here.
///
/// Call ids are deterministic: `<idPrefix><index>` (default `call_<turn>_<index>`), numbered in order of
/// appearance over calls and malformed calls together.
public struct ToolCallParser: Sendable {
    public enum Event: Sendable, Hashable {
        /// Reply text outside tool calls, safe to show (complete UTF-8, no partial tag).
        case text(String)
        /// A call opened: a `<tool_call>` tag, or (`bare`) a `{` starting the reply.
        case callOpened(bare: Bool)
        /// The call closed: `</tool_call>`, or (`bare`) the brace that balances the opening one.
        case callClosed(bare: Bool)
    }

    public static let openTag = "<tool_call>"
    public static let closeTag = "</tool_call>"

    public let toolNames: [String]
    public let idPrefix: String
    /// True when the model's template writes a call as the bare JSON object that is the whole reply
    /// (Llama 3): such a call is the model's own format, not `recovered`.
    public var bareCallsNative = false
    /// True while inside a tagged call or a bare JSON object that opened the reply.
    public private(set) var isInsideCall = false
    /// Calls closed so far (tagged and bare).
    public private(set) var closedCallCount = 0

    private enum Segment: Sendable {
        case text([UInt8])
        case call([UInt8], terminated: Bool)
    }

    private var bytes: [UInt8] = []
    /// Everything before `cursor` has been classified into `segments` (or is the open call's body start).
    private var cursor = 0
    private var segments: [Segment] = []
    private var callStart: Int?          // body start of the open tagged call
    private var emitted = 0              // text bytes already reported in `.text` events
    private var bare = BareScanner()
    private var sawContent = false       // a non-whitespace byte was seen outside calls

    public init(tools: [ToolDeclaration], turn: Int = 0) {
        self.init(tools: tools, idPrefix: "call_\(turn)_")
    }

    /// A parser for the replies of a model with `template` (see `bareCallsNative`).
    public init(tools: [ToolDeclaration], turn: Int = 0, template: ChatTemplate) {
        self.init(tools: tools, turn: turn)
        bareCallsNative = template.callFormat.bareIsNative
    }

    public init(tools: [ToolDeclaration], idPrefix: String) {
        toolNames = tools.map(\.name)
        self.idPrefix = idPrefix
    }

    /// The whole reply so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    @discardableResult
    public mutating func push(_ text: String) -> [Event] { push(bytes: Array(text.utf8)) }

    /// Feeds raw bytes (a token may end inside a UTF-8 sequence).
    @discardableResult
    public mutating func push(bytes new: [UInt8]) -> [Event] {
        var events: [Event] = []
        let open = Array(Self.openTag.utf8), close = Array(Self.closeTag.utf8)
        var i = bytes.count
        bytes += new
        // Bare JSON object opening the reply: track its braces.
        while i < bytes.count, !sawContent || bare.state != .idle {
            let b = bytes[i]
            if bare.state == .idle {
                if isSpace(b) { i += 1; continue }
                if b == UInt8(ascii: "{") && segments.isEmpty && callStart == nil {
                    bare.state = .inside
                    isInsideCall = true
                    events.append(.callOpened(bare: true))
                } else {
                    sawContent = true
                    break
                }
            }
            if bare.state == .inside {
                bare.feed(b)
                if bare.depth == 0 {
                    bare.state = .closed
                    isInsideCall = false
                    closedCallCount += 1
                    events.append(.callClosed(bare: true))
                }
            } else {
                // After the bare object: anything but whitespace means it was not a bare reply after all.
                if !isSpace(b) { sawContent = true }
            }
            i += 1
        }
        // Tagged calls.
        while true {
            if let start = callStart {
                guard let end = find(close, from: max(start, cursor)) else {
                    // A new opening tag before any close: the open call was left unterminated.
                    if let reopen = find(open, from: max(start, cursor)) {
                        segments.append(.call(Array(bytes[start..<reopen]), terminated: false))
                        events.append(.callClosed(bare: false))
                        closedCallCount += 1
                        callStart = reopen + open.count
                        cursor = callStart!
                        events.append(.callOpened(bare: false))
                        continue
                    }
                    cursor = max(start, bytes.count - close.count + 1)
                    break
                }
                if let reopen = find(open, from: max(start, cursor)), reopen < end {
                    segments.append(.call(Array(bytes[start..<reopen]), terminated: false))
                    events.append(.callClosed(bare: false))
                    closedCallCount += 1
                    callStart = reopen + open.count
                    cursor = callStart!
                    events.append(.callOpened(bare: false))
                    continue
                }
                segments.append(.call(Array(bytes[start..<end]), terminated: true))
                callStart = nil
                cursor = end + close.count
                emitted = cursor
                isInsideCall = false
                closedCallCount += 1
                events.append(.callClosed(bare: false))
            } else {
                let textStart = segmentEnd
                if let tag = find(open, from: cursor) {
                    if tag > textStart { segments.append(.text(Array(bytes[textStart..<tag]))) }
                    if bare.state == .idle { emitText(upTo: tag, into: &events) }
                    callStart = tag + open.count
                    cursor = callStart!
                    isInsideCall = true
                    events.append(.callOpened(bare: false))
                    continue
                }
                // Hold back a possible partial opening tag at the end.
                var safe = bytes.count
                for k in stride(from: min(open.count - 1, bytes.count - textStart), through: 1, by: -1)
                where bytes[(bytes.count - k)...].elementsEqual(open[..<k]) {
                    safe = bytes.count - k
                    break
                }
                cursor = max(cursor, safe)
                if bare.state == .idle && sawContent { emitText(upTo: safe, into: &events) }
                break
            }
        }
        return events
    }

    /// Where the last classified segment ends (start of unclassified text).
    private var segmentEnd: Int {
        var n = 0
        for s in segments {
            switch s {
            case .text(let t): n += t.count
            case .call(let c, let terminated): n += Self.openTag.utf8.count + c.count + (terminated ? Self.closeTag.utf8.count : 0)
            }
        }
        return n
    }

    private mutating func emitText(upTo end: Int, into events: inout [Event]) {
        var stop = end
        // Do not split a UTF-8 sequence.
        var back = stop
        while back > emitted, back > stop - 4, bytes[back - 1] & 0xC0 == 0x80 { back -= 1 }
        if back > emitted, back > stop - 4 {
            let lead = bytes[back - 1]
            let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if need > stop - (back - 1) { stop = back - 1 }
        }
        guard stop > emitted else { return }
        events.append(.text(String(decoding: bytes[emitted..<stop], as: UTF8.self)))
        emitted = stop
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var i = max(0, from)
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    // MARK: Finishing

    /// The reply's text outside tool calls (trimmed) and the calls it made; a call identical to an earlier
    /// one of the same reply (same tool, same arguments) is a repeat, not another call, and is dropped.
    public func finish() -> (content: String, calls: [ToolCall], malformed: [MalformedToolCall]) {
        var segs = segments
        let tail = segmentEnd
        if let start = callStart {
            if start - Self.openTag.utf8.count > tail {
                segs.append(.text(Array(bytes[tail..<(start - Self.openTag.utf8.count)])))
            }
            segs.append(.call(Array(bytes[start...]), terminated: false))
        } else if tail < bytes.count {
            segs.append(.text(Array(bytes[tail...])))
        }
        var builder = CallBuilder(toolNames: toolNames, idPrefix: idPrefix)
        var content: [UInt8] = []
        var tagged = false
        for s in segs {
            switch s {
            case .text(let t): content += t
            case .call(let body, let terminated):
                tagged = true
                builder.addTagged(String(decoding: body, as: UTF8.self), terminated: terminated)
            }
        }
        var text = String(decoding: content, as: UTF8.self)
        if !tagged {
            if builder.addBare(text, native: bareCallsNative) {
                text = ""
            } else if let (before, withCalls) = builder.addingCallsInText(text) {
                builder = withCalls
                text = before
            } else if builder.addUnterminated(text) {
                text = ""
            }
        }
        var seen = Set<ToolCallIdentity>()
        let calls = builder.calls.filter { seen.insert(ToolCallIdentity(name: $0.name, arguments: $0.arguments)).inserted }
        return (trimmed(text), calls, builder.malformed)
    }
}

/// A call's tool and arguments (not its id).
private struct ToolCallIdentity: Hashable {
    let name: String
    let arguments: JSONValue
}

/// Brace depth of a JSON value, outside strings.
struct BareScanner: Sendable {
    enum State: Sendable { case idle, inside, closed }
    var state = State.idle
    var depth = 0
    var inString = false
    var escaped = false

    mutating func feed(_ b: UInt8) {
        if inString {
            if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            return
        }
        switch b {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
        default: break
        }
    }
}

func trimmed<S: StringProtocol>(_ s: S) -> String {
    let scalars = s.unicodeScalars
    var start = scalars.startIndex, end = scalars.endIndex
    while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
    while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
    return String(String.UnicodeScalarView(scalars[start..<end]))
}

/// Removes a surrounding Markdown code fence (```` ```json ... ``` ````), if any.
func strippingFence(_ s: String) -> String {
    var t = trimmed(s)
    guard t.hasPrefix("```") else { return t }
    t.removeFirst(3)
    guard let newline = t.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) else { return trimmed(s) }
    let info = trimmed(t[..<newline]).lowercased()
    guard info.isEmpty || info == "json" else { return trimmed(s) }
    t = String(t[t.index(after: newline)...])
    let body = trimmed(t)
    // A fence left open (a constrained fenced call stops at its closing brace): the JSON after it.
    guard body.hasSuffix("```") else { return body.first == "{" && body.last == "}" ? body : trimmed(s) }
    return trimmed(body.dropLast(3))
}

/// `{...} {...}` or fenced ```` ```json\n{...}\n``` ```` blocks one after another, separated by whitespace,
/// as JSON values; nil when the text is anything else.
func consecutiveObjects(_ text: String) -> [JSONValue]? {
    let bytes = Array(text.utf8)
    var i = 0, values: [JSONValue] = []
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
    while i < bytes.count {
        if isSpace(bytes[i]) { i += 1; continue }
        if bytes[i...].starts(with: Array("```".utf8)) {
            // A fence: skip it and its info string (`json` or nothing) up to the end of its line.
            i += 3
            let start = i
            while i < bytes.count && bytes[i] != 0x0A && bytes[i] != 0x60 { i += 1 }
            let info = String(decoding: bytes[start..<i], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
            guard info.isEmpty || info == "json" else { return nil }
            continue
        }
        guard bytes[i] == UInt8(ascii: "{") else { return nil }
        var depth = 0, inString = false, escaped = false, end = -1
        for j in i..<bytes.count {
            let b = bytes[j]
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true } else if b == UInt8(ascii: "{") { depth += 1 } else if b == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { end = j; break }
            }
        }
        guard end >= 0, let value = try? JSONValue.parse(String(decoding: bytes[i...end], as: UTF8.self)) else { return nil }
        values.append(value)
        i = end + 1
    }
    return values.isEmpty ? nil : values
}

/// Turns call texts into `ToolCall`s and `MalformedToolCall`s, numbering ids in order.
struct CallBuilder {
    let toolNames: [String]
    let idPrefix: String
    var calls: [ToolCall] = []
    var malformed: [MalformedToolCall] = []
    var next = 0

    mutating func nextID() -> String {
        defer { next += 1 }
        return idPrefix + String(next)
    }

    mutating func bad(_ raw: String, name: String? = nil, _ reason: String) {
        malformed.append(MalformedToolCall(id: nextID(), raw: raw, name: name, reason: reason))
    }

    mutating func addTagged(_ body: String, terminated: Bool) {
        let raw = trimmed(body)
        let json = strippingFence(raw)
        if json.isEmpty {
            bad(raw, terminated ? "empty <tool_call>" : "unterminated <tool_call> with no content")
            return
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(json)
        } catch {
            bad(raw, terminated ? "invalid JSON in <tool_call>: \(error.description)"
                : "unterminated <tool_call> (no </tool_call>) and its JSON is incomplete or invalid: \(error.description)")
            return
        }
        // A complete, valid object whose closing tag is missing (the turn ended): still the model's call.
        switch value {
        case .object: add(value, raw: raw, recovered: !terminated)
        case .array(let items) where !items.isEmpty:
            for item in items { add(item, raw: item.serialized(.python), recovered: !terminated) }
        default:
            bad(raw, "<tool_call> must hold a JSON object {\"name\": ..., \"arguments\": {...}}, got \(value.typeName)")
        }
    }

    /// A reply without tagged calls: calls if it is exactly a JSON object (or list) naming a tool, or
    /// several such objects one after another (each may be fenced).
    /// `native`: an unfenced lone object is the template's own call format (not recovered).
    mutating func addBare(_ text: String, native: Bool = false) -> Bool {
        var body = strippingFence(text)
        let unfenced = body == trimmed(text)
        if body.hasSuffix(ToolCallParser.closeTag) { body = strippingFence(String(body.dropLast(ToolCallParser.closeTag.count))) }
        let items: [JSONValue]
        if body.first == "{" || body.first == "[", let value = try? JSONValue.parse(body) {
            switch value {
            case .object: items = [value]
            case .array(let a) where !a.isEmpty: items = a
            default: return false
            }
        } else if let several = consecutiveObjects(trimmed(text)), several.count > 1 {
            items = several
        } else {
            return false
        }
        guard items.allSatisfy(looksLikeCall) else { return false }
        let recovered = !(native && unfenced && items.count == 1 && body.first == "{")
        for item in items { add(item, raw: item.serialized(.python), recovered: recovered) }
        return true
    }

    /// A reply that is the start of a call of a declared tool whose JSON never closes (a reply cut at
    /// max_tokens inside its call, often a string argument the model never ended): a malformed call, not an
    /// answer. True when the reply was one.
    mutating func addUnterminated(_ text: String) -> Bool {
        var body = trimmed(text)
        if body.hasPrefix("```") {
            guard let newline = body.firstIndex(of: "\n") else { return false }
            body = trimmed(body[body.index(after: newline)...])
        }
        guard body.first == "{" else { return false }
        // Still inside the object (or one of its strings) at the end: a complete object never is.
        var scanner = BareScanner()
        for b in body.utf8 { scanner.feed(b) }
        guard scanner.depth > 0 || scanner.inString else { return false }
        // `{ "name" : "TOOL"` with any JSON whitespace between the parts.
        var rest = Substring(body.dropFirst())
        func skip(_ literal: String) -> Bool {
            rest = rest.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\r\n" }
            guard rest.hasPrefix(literal) else { return false }
            rest = rest.dropFirst(literal.count)
            return true
        }
        guard skip("\"name\""), skip(":"),
              let name = toolNames.first(where: { skip(JSONValue.string($0).serialized(.compact)) }) else { return false }
        bad(body, name: name, "unterminated call of '\(name)': the reply ended inside its JSON")
        return true
    }

    /// Calls written after some text (a model that explains first, then writes its call), each naming a
    /// declared tool: from the start of a line that opens a fence (```` ``` ```` or ```` ```json ````) or an
    /// object, the rest of the reply is calls as `addBare` reads them; or else fenced blocks on lines of their
    /// own, each one call, anywhere in the reply (with more explanation after them). The text around them
    /// and the builder with the calls; nil when the reply holds none.
    func addingCallsInText(_ text: String) -> (String, CallBuilder)? {
        var lineStart = text.startIndex
        while let newline = text[lineStart...].firstIndex(of: "\n") {
            lineStart = text.index(after: newline)
            let rest = text[lineStart...].drop { $0 == " " || $0 == "\t" }
            guard rest.hasPrefix("```") || rest.hasPrefix("{") else { continue }
            var probe = self
            guard probe.addBare(String(rest)), probe.malformed.count == malformed.count,
                  probe.calls.dropFirst(calls.count).allSatisfy({ toolNames.contains($0.name) }) else { continue }
            return (trimmed(text[..<lineStart]), probe)
        }
        var probe = self
        var kept = ""
        var rest = text[...]
        while let open = Self.fenceAtLineStart(in: rest) {
            let afterOpen = rest[open...].dropFirst(3)
            guard let close = afterOpen.firstRange(of: "```") else { break }
            let block = rest[open..<close.upperBound]
            let before = probe
            if probe.addBare(String(block)), probe.malformed.count == before.malformed.count,
               probe.calls.count == before.calls.count + 1, toolNames.contains(probe.calls[probe.calls.count - 1].name) {
                kept += rest[..<open]
                rest = rest[close.upperBound...]
                if rest.first == "\n" { rest = rest.dropFirst() }
            } else {
                probe = before
                kept += rest[..<close.upperBound]
                rest = rest[close.upperBound...]
            }
        }
        guard probe.calls.count > calls.count else { return nil }
        return (trimmed(kept + rest), probe)
    }

    /// Where the first ```` ``` ```` that starts a line (after optional spaces) is.
    private static func fenceAtLineStart(in text: Substring) -> Substring.Index? {
        var i = text.startIndex
        var atLineStart = i == text.base.startIndex || text.base[text.base.index(before: i)] == "\n"
        while i < text.endIndex {
            let c = text[i]
            if atLineStart && c == "`" && text[i...].hasPrefix("```") { return i }
            if c == "\n" { atLineStart = true } else if c != " " && c != "\t" { atLineStart = false }
            i = text.index(after: i)
        }
        return nil
    }

    /// An object that names a declared tool, or has exactly the shape of a call.
    func looksLikeCall(_ v: JSONValue) -> Bool {
        let object = v["function"]?.objectValue != nil ? v["function"]! : v
        guard let members = object.objectValue, let name = object["name"]?.stringValue else { return false }
        if toolNames.contains(name) { return true }
        let keys = Set(members.map(\.key))
        return (keys.contains("arguments") || keys.contains("parameters"))
            && keys.isSubset(of: ["name", "arguments", "parameters", "id", "type"])
    }

    mutating func add(_ value: JSONValue, raw: String, recovered: Bool) {
        // OpenAI shape: {"type": "function", "function": {"name": ..., "arguments": ...}}
        let call = value["function"]?.objectValue != nil ? value["function"]! : value
        guard call.objectValue != nil else {
            bad(raw, "a tool call must be a JSON object, got \(call.typeName)")
            return
        }
        guard let nameValue = call["name"] else {
            bad(raw, "tool call without \"name\"")
            return
        }
        guard let name = nameValue.stringValue else {
            bad(raw, "tool call \"name\" must be a string, got \(nameValue.typeName)")
            return
        }
        guard toolNames.contains(name) else {
            let known = toolNames.isEmpty ? "no tools are declared" : "declared: " + toolNames.joined(separator: ", ")
            bad(raw, name: name, "unknown tool '\(name)' (\(known))")
            return
        }
        guard let args = call["arguments"] ?? call["parameters"] else {
            bad(raw, name: name, "tool call '\(name)' without \"arguments\"")
            return
        }
        switch args {
        case .object:
            calls.append(ToolCall(id: nextID(), name: name, arguments: args, recovered: recovered))
        case .string(let s):
            guard let parsed = try? JSONValue.parse(s), case .object = parsed else {
                bad(raw, name: name, "\"arguments\" of '\(name)' is a string that is not a JSON object")
                return
            }
            calls.append(ToolCall(id: nextID(), name: name, arguments: parsed, recovered: recovered))
        default:
            bad(raw, name: name, "\"arguments\" of '\(name)' must be a JSON object, got \(args.typeName)")
        }
    }
}
