import AgentCore

/// One level of the byte automaton's stack.
struct Frame {
    enum Kind: UInt8 { case call, object, array, string, number, literal }
    var kind: Kind
    /// A `CallPhase`, `ObjectPhase`, `ArrayPhase` or `NumberPhase`, by kind.
    var phase: UInt8 = 0
    /// Whitespace bytes in a row (bounded, so a model cannot pad forever).
    var ws: UInt8 = 0
    /// call: a `CallForm`; string: `FrameFlag.objectKey`; number: `FrameFlag.integerOnly`.
    var flag: UInt8 = 0
    /// Schema node (object, array), literal set (literal), chosen tool (call).
    var node: Int32 = 0
    /// object: keys seen; literal: candidates still alive; array: items so far.
    var mask: UInt64 = 0
    /// literal: bytes matched; string: an `EscapeState`; number: characters so far.
    var pos: UInt32 = 0
    /// string: `\u` hex value (low 16 bits), `UTF8State` (bits 16-23) and `TagMatch` (bits 24-31);
    /// object: property being written.
    var aux: UInt32 = 0
}

/// Mode and stack depth of the automaton; the frames live in a buffer next to it.
struct MachineHead {
    enum Mode: UInt8 {
        /// Only whitespace so far in the reply: a `{` opens a bare call.
        case replyStart
        /// Ordinary text; watching for the opening tag.
        case free
        /// Inside a call.
        case call
        /// An end-of-generation token was taken.
        case ended
        /// A byte outside the language was forced in: no constraint any more.
        case failed
    }
    var mode = Mode.replyStart
    var tagPos: UInt8 = 0
    var ws: UInt8 = 0
    var count: Int32 = 0
    /// Calls completed in this reply.
    var completed: Int32 = 0
    /// Tool choice of the reply: `required` (the reply is a bare call: `{` must open it), `none` (no call
    /// may open: not `{`, `[` or a fence first, never the `<tool_call>` tag) or `auto`.
    var choice = ToolChoice.auto
    /// Progress through an opening fence at the start of the reply (a `FenceState`).
    var fence = FenceState.none
    /// Several calls may follow one another in the reply (`parallel_calls`): after a bare call closes,
    /// whitespace then another bare call, or (after a fenced one) the closing fence and then another call.
    var parallel = false
    /// Backticks of the fence closing a fenced call (`parallel` only; 3: closed).
    var closing: UInt8 = 0
}

/// UTF-8 validation as a small state machine (states: `UTF8State`; 1-3 = that many continuation bytes
/// expected). `next[state * 256 + byte]`, `UTF8State.invalid` when the byte cannot come in that state.
let utf8Next: [UInt8] = {
    var t = [UInt8](repeating: UTF8State.invalid, count: UTF8State.count * 256)
    func row(_ state: UInt8) -> Int { Int(state) * 256 }
    for b in 0..<256 {
        // Boundary.
        switch b {
        case 0x00...0x7F: t[b] = UTF8State.boundary
        case 0xC2...0xDF: t[b] = 1
        case 0xE0: t[b] = UTF8State.afterE0
        case 0xE1...0xEC, 0xEE...0xEF: t[b] = 2
        case 0xED: t[b] = UTF8State.afterED
        case 0xF0: t[b] = UTF8State.afterF0
        case 0xF1...0xF3: t[b] = 3
        case 0xF4: t[b] = UTF8State.afterF4
        default: break
        }
        let cont = (0x80...0xBF).contains(b)
        if cont { t[row(1) + b] = UTF8State.boundary; t[row(2) + b] = 1; t[row(3) + b] = 2 }
        if (0xA0...0xBF).contains(b) { t[row(UTF8State.afterE0) + b] = 1 }
        if (0x80...0x9F).contains(b) { t[row(UTF8State.afterED) + b] = 1 }
        if (0x90...0xBF).contains(b) { t[row(UTF8State.afterF0) + b] = 2 }
        if (0x80...0x8F).contains(b) { t[row(UTF8State.afterF4) + b] = 2 }
    }
    return t
}()

/// "tool_call>": what follows `<` or `</` in a call tag.
let callTagTail = Array("tool_call>".utf8)

@inline(__always) func isJSONSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

@inline(__always) func hexDigit(_ b: UInt8) -> UInt32? {
    switch b {
    case 0x30...0x39: return UInt32(b - 0x30)
    case 0x41...0x46: return UInt32(b - 0x41 + 10)
    case 0x61...0x66: return UInt32(b - 0x61 + 10)
    default: return nil
    }
}

/// The language of one reply under constraint: free text in which `<tool_call>` opens a call (and a `{`
/// as the first non-space byte opens a bare call), a call being exactly
/// `{"name": <declared name>, "arguments": <object valid for that tool's schema>}` (or the template's own
/// key for the arguments, `CallFormat`; JSON whitespace allowed, bounded), followed by `</tool_call>` (tagged) or only end of generation (bare).
final class CallMachine: @unchecked Sendable {
    let graph: SchemaGraph
    let literals: [[[UInt8]]]
    let nameKey: Int32, argumentsKey: Int32, toolNames: Int32, closeTag: Int32, booleans: Int32, null: Int32
    let tag = Array(ToolCallParser.openTag.utf8)
    let fenceInfo = Array("json".utf8)
    static let maxFrames = 48
    static let maxSpaces: UInt8 = 12
    static let maxLeadingSpaces: UInt8 = 16
    static let maxIntegerDigits: UInt32 = 15
    static let maxNumberLength: UInt32 = 24

    /// - argumentsKey: the key of the arguments object (`CallFormat.argumentsKey`).
    init(tools: [ToolDeclaration], argumentsKey key: String = CallFormat.standard.argumentsKey) {
        var g = SchemaGraph(tools: tools)
        nameKey = g.addLiteralSet([Array("\"name\"".utf8)])
        argumentsKey = g.addLiteralSet([Array(JSONValue.string(key).serialized(.compact).utf8)])
        toolNames = g.addLiteralSet(tools.map { Array(JSONValue.string($0.name).serialized(.compact).utf8) })
        closeTag = g.addLiteralSet([Array(ToolCallParser.closeTag.utf8)])
        booleans = g.addLiteralSet([Array("true".utf8), Array("false".utf8)])
        null = g.addLiteralSet([Array("null".utf8)])
        graph = g
        literals = g.literalSets
    }

    enum Step { case ok, fail, refeed }

    /// Whether an end-of-generation token may come now.
    func acceptsEnd(_ h: MachineHead, _ f: UnsafeMutablePointer<Frame>) -> Bool {
        switch h.mode {
        case .replyStart: return h.completed > 0 ? h.fence == FenceState.none : h.choice != .required
        case .free, .failed: return true
        case .ended: return false
        case .call: return Self.bareCallClosed(h, f) && (h.closing == 0 || h.closing == 3)
        }
    }

    /// Whether a bare call just closed: only the end of the reply may follow.
    @inline(__always) static func bareCallClosed(_ h: MachineHead, _ f: UnsafeMutablePointer<Frame>) -> Bool {
        h.mode == .call && h.count == 1 && f[0].flag != CallForm.tagged && f[0].phase == CallPhase.closed
    }

    /// With `parallel`, what may follow a closed bare call: whitespace, another bare call, or, after a
    /// fenced one, the closing fence, then whitespace and another call (bare, or fenced from the start).
    private func stepAfterBareCall(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Bool {
        if h.closing > 0 && h.closing < 3 {
            guard b == UInt8(ascii: "`") else { return false }
            h.closing += 1
            if h.closing == 3 { h.ws = 0 }
            return true
        }
        if h.closing == 3 {
            if isJSONSpace(b) {
                guard h.ws < Self.maxLeadingSpaces else { return false }
                h.ws += 1
                return true
            }
            guard b == UInt8(ascii: "{") || b == UInt8(ascii: "`") else { return false }
            h.completed += 1
            h.closing = 0
            h.count = 0
            h.mode = .replyStart
            h.ws = 0
            return step(&h, f, b)
        }
        if b == UInt8(ascii: "`") && f[0].flag == CallForm.fenced {
            h.closing = 1
            return true
        }
        if b == UInt8(ascii: "{") {
            h.completed += 1
            f[0] = Frame(kind: .call, flag: CallForm.bare)
            h.count = 1
            return feed(&h, f, b)
        }
        return feed(&h, f, b)   // whitespace, bounded by the call frame
    }

    /// Advances by one byte; false if the byte is not allowed (the state is then garbage).
    func step(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Bool {
        if h.parallel && h.mode == .call && Self.bareCallClosed(h, f) { return stepAfterBareCall(&h, f, b) }
        switch h.mode {
        case .replyStart:
            if h.fence != FenceState.none { return stepFence(&h, f, b) }
            if isJSONSpace(b) {
                guard h.ws < Self.maxLeadingSpaces else { return false }
                h.ws += 1
                return true
            }
            // None: no call may open, and no markup (`<tool_response>`, `<tool_call>`) starts the reply.
            if h.choice == .none && (b == UInt8(ascii: "{") || b == UInt8(ascii: "[") || b == UInt8(ascii: "`") || b == UInt8(ascii: "<")) {
                return false
            }
            if b == UInt8(ascii: "`") {
                h.fence = 1  // one backtick
                return true
            }
            // Required: a bare `{` (or a fence, above) opens the reply. Not the `<tool_call>` tag: the default model,
            // pushed into the tag, writes worse arguments than in its habitual bare/fenced JSON.
            if h.choice == .required && b != UInt8(ascii: "{") { return false }
            // After calls (`parallel`), only another call may come.
            if h.completed > 0 && b != UInt8(ascii: "{") { return false }
            if b == UInt8(ascii: "{") {
                h.mode = .call
                f[0] = Frame(kind: .call, flag: CallForm.bare)
                h.count = 1
                return feed(&h, f, b)
            }
            h.mode = .free
            return stepFree(&h, f, b)
        case .free: return stepFree(&h, f, b)
        case .call: return feed(&h, f, b)
        case .ended: return false
        case .failed: return true
        }
    }

    /// An opening fence (```` ``` ```` or ```` ```json ````, a newline, optional spaces) then `{` opens a fenced
    /// bare call, written like a bare one; anything else turns the reply into free text (refused when the
    /// tool choice is `required`).
    private func stepFence(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Bool {
        let fence = h.fence
        if fence < FenceState.backticks && b == UInt8(ascii: "`") { h.fence += 1; return true }
        if fence >= FenceState.backticks && fence < FenceState.info && b == fenceInfo[Int(fence - FenceState.backticks)] {
            h.fence += 1
            return true
        }
        if (fence == FenceState.backticks || fence == FenceState.info) && b == 0x0A {
            h.fence = FenceState.open
            h.ws = 0
            return true
        }
        if fence == FenceState.open && isJSONSpace(b) {
            guard h.ws < Self.maxLeadingSpaces else { return false }
            h.ws += 1
            return true
        }
        if fence == FenceState.open && b == UInt8(ascii: "{") {
            h.fence = FenceState.none
            h.mode = .call
            f[0] = Frame(kind: .call, flag: CallForm.fenced)
            h.count = 1
            return feed(&h, f, b)
        }
        guard h.choice != .required && h.completed == 0 else { return false }
        h.fence = FenceState.none
        h.mode = .free
        return stepFree(&h, f, b)
    }

    @inline(__always) private func stepFree(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Bool {
        if b == tag[Int(h.tagPos)] {
            h.tagPos += 1
            if Int(h.tagPos) == tag.count {
                if h.choice == .none { return false }
                h.tagPos = 0
                h.mode = .call
                f[0] = Frame(kind: .call, flag: CallForm.tagged)
                h.count = 1
            }
        } else {
            h.tagPos = b == tag[0] ? 1 : 0
        }
        return true
    }

    private func feed(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Bool {
        while h.count > 0 {
            let top = f + Int(h.count - 1)
            let r: Step
            switch top.pointee.kind {
            case .string: r = stepString(&h, f, top, b)
            case .literal: r = stepLiteral(&h, f, top, b)
            case .number: r = stepNumber(&h, f, top, b)
            case .object: r = stepObject(&h, f, top, b)
            case .array: r = stepArray(&h, f, top, b)
            case .call: r = stepCall(&h, f, top, b)
            }
            switch r {
            case .ok: return true
            case .fail: return false
            case .refeed: continue
            }
        }
        // The call closed inside this byte's processing (cannot happen: a close tag ends on its last byte).
        return stepFree(&h, f, b)
    }

    @inline(__always) private func push(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ frame: Frame) -> Bool {
        guard Int(h.count) < Self.maxFrames else { return false }
        f[Int(h.count)] = frame
        h.count += 1
        return true
    }

    /// Pops the top frame (complete) and tells its parent, with the literal candidate it matched.
    private func pop(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, matched: Int) {
        h.count -= 1
        guard h.count > 0 else {
            h.mode = .free
            h.tagPos = 0
            h.completed += 1
            return
        }
        let p = f + Int(h.count - 1)
        switch p.pointee.kind {
        case .call:
            switch p.pointee.phase {
            case CallPhase.inNameKey: p.pointee.phase = CallPhase.afterNameKey
            case CallPhase.inName: p.pointee.node = Int32(matched); p.pointee.phase = CallPhase.afterName
            case CallPhase.inArgumentsKey: p.pointee.phase = CallPhase.afterArgumentsKey
            case CallPhase.inArguments: p.pointee.phase = CallPhase.afterArguments
            case CallPhase.inCloseTag: pop(&h, f, matched: 0)
            default: break
            }
        case .object:
            if p.pointee.phase == ObjectPhase.inKey {
                if graph.nodes[Int(p.pointee.node)].declaredKeys {
                    p.pointee.mask |= 1 << UInt64(matched)
                    p.pointee.aux = UInt32(matched)
                }
                p.pointee.phase = ObjectPhase.afterKey
            } else {
                p.pointee.phase = ObjectPhase.afterValue
            }
        case .array:
            p.pointee.mask += 1
            p.pointee.phase = ArrayPhase.afterItem
        default: break
        }
    }

    /// Starts a value of schema `node` whose first byte is `b`.
    private func beginValue(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, node: Int32, _ b: UInt8) -> Step {
        let n = graph.nodes[Int(node)]
        if n.literals >= 0 {
            let all: UInt64 = literals[Int(n.literals)].count == 64 ? ~0 : (1 << UInt64(literals[Int(n.literals)].count)) - 1
            return push(&h, f, Frame(kind: .literal, node: n.literals, mask: all)) ? .refeed : .fail
        }
        let digitOrMinus = b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39)
        if b == UInt8(ascii: "\""), n.types.contains(.string) {
            return push(&h, f, Frame(kind: .string)) ? .ok : .fail
        }
        if digitOrMinus, n.types.contains(.integer) || n.types.contains(.number) {
            let integerOnly: UInt8 = n.types.contains(.number) ? 0 : FrameFlag.integerOnly
            return push(&h, f, Frame(kind: .number, flag: integerOnly)) ? .refeed : .fail
        }
        if b == UInt8(ascii: "t") || b == UInt8(ascii: "f"), n.types.contains(.boolean) {
            return push(&h, f, Frame(kind: .literal, node: booleans, mask: 3)) ? .refeed : .fail
        }
        if b == UInt8(ascii: "n"), n.types.contains(.null) {
            return push(&h, f, Frame(kind: .literal, node: null, mask: 1)) ? .refeed : .fail
        }
        if b == UInt8(ascii: "{"), n.types.contains(.object) {
            return push(&h, f, Frame(kind: .object, node: node)) ? .ok : .fail
        }
        if b == UInt8(ascii: "["), n.types.contains(.array) {
            return push(&h, f, Frame(kind: .array, node: node)) ? .ok : .fail
        }
        return .fail
    }

    @inline(__always) private func space(_ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step? {
        if isJSONSpace(b) {
            guard top.pointee.ws < Self.maxSpaces else { return .fail }
            top.pointee.ws += 1
            return .ok
        }
        top.pointee.ws = 0
        return nil
    }

    private func stepCall(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step {
        let phase = top.pointee.phase
        if let r = space(top, b) { return r }
        switch (phase, b) {
        case (CallPhase.start, UInt8(ascii: "{")): top.pointee.phase = CallPhase.beforeNameKey; return .ok
        case (CallPhase.beforeNameKey, UInt8(ascii: "\"")):
            top.pointee.phase = CallPhase.inNameKey
            return push(&h, f, Frame(kind: .literal, node: nameKey, mask: 1)) ? .refeed : .fail
        case (CallPhase.afterNameKey, UInt8(ascii: ":")): top.pointee.phase = CallPhase.beforeName; return .ok
        case (CallPhase.beforeName, UInt8(ascii: "\"")):
            let n = literals[Int(toolNames)].count
            guard n > 0 else { return .fail }
            top.pointee.phase = CallPhase.inName
            let all: UInt64 = n >= 64 ? ~0 : (1 << UInt64(n)) - 1
            return push(&h, f, Frame(kind: .literal, node: toolNames, mask: all)) ? .refeed : .fail
        case (CallPhase.afterName, UInt8(ascii: ",")): top.pointee.phase = CallPhase.beforeArgumentsKey; return .ok
        case (CallPhase.beforeArgumentsKey, UInt8(ascii: "\"")):
            top.pointee.phase = CallPhase.inArgumentsKey
            return push(&h, f, Frame(kind: .literal, node: argumentsKey, mask: 1)) ? .refeed : .fail
        case (CallPhase.afterArgumentsKey, UInt8(ascii: ":")): top.pointee.phase = CallPhase.beforeArguments; return .ok
        case (CallPhase.beforeArguments, UInt8(ascii: "{")):
            top.pointee.phase = CallPhase.inArguments
            return push(&h, f, Frame(kind: .object, node: graph.toolNodes[Int(top.pointee.node)])) ? .ok : .fail
        case (CallPhase.afterArguments, UInt8(ascii: "}")): top.pointee.phase = CallPhase.closed; return .ok
        case (CallPhase.closed, UInt8(ascii: "<")) where top.pointee.flag == CallForm.tagged:
            top.pointee.phase = CallPhase.inCloseTag
            return push(&h, f, Frame(kind: .literal, node: closeTag, mask: 1)) ? .refeed : .fail
        default: return .fail
        }
    }

    private func stepObject(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step {
        if let r = space(top, b) { return r }
        let n = graph.nodes[Int(top.pointee.node)]
        let keyCount = n.declaredKeys ? literals[Int(n.keySet)].count : 0
        let allKeys: UInt64 = keyCount >= 64 ? ~0 : (1 << UInt64(keyCount)) - 1
        let complete = n.required & ~top.pointee.mask == 0
        switch top.pointee.phase {
        case ObjectPhase.start, ObjectPhase.afterComma:
            if b == UInt8(ascii: "}") && top.pointee.phase == ObjectPhase.start {
                guard complete else { return .fail }
                pop(&h, f, matched: 0)
                return .ok
            }
            guard b == UInt8(ascii: "\"") else { return .fail }
            top.pointee.phase = ObjectPhase.inKey
            if n.declaredKeys {
                let alive = allKeys & ~top.pointee.mask
                guard alive != 0 else { return .fail }
                return push(&h, f, Frame(kind: .literal, node: n.keySet, mask: alive)) ? .refeed : .fail
            }
            guard n.freeValues >= 0 else { return .fail }
            return push(&h, f, Frame(kind: .string, flag: FrameFlag.objectKey)) ? .ok : .fail
        case ObjectPhase.afterKey:
            guard b == UInt8(ascii: ":") else { return .fail }
            top.pointee.phase = ObjectPhase.afterColon
            return .ok
        case ObjectPhase.afterColon:
            top.pointee.phase = ObjectPhase.inValue
            let valueNode = n.declaredKeys ? n.propertyNodes[Int(top.pointee.aux)] : n.freeValues
            return beginValue(&h, f, node: valueNode, b)
        case ObjectPhase.afterValue:
            if b == UInt8(ascii: ",") {
                let more = n.declaredKeys ? (allKeys & ~top.pointee.mask) != 0 : n.freeValues >= 0
                guard more else { return .fail }
                top.pointee.phase = ObjectPhase.afterComma
                return .ok
            }
            guard b == UInt8(ascii: "}"), complete else { return .fail }
            pop(&h, f, matched: 0)
            return .ok
        default:
            return .fail
        }
    }

    private func stepArray(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step {
        if let r = space(top, b) { return r }
        let n = graph.nodes[Int(top.pointee.node)]
        let count = Int(top.pointee.mask)
        switch top.pointee.phase {
        case ArrayPhase.start, ArrayPhase.afterComma:
            if b == UInt8(ascii: "]") && top.pointee.phase == ArrayPhase.start {
                guard n.minItems == 0 else { return .fail }
                pop(&h, f, matched: 0)
                return .ok
            }
            guard count < n.maxItems else { return .fail }
            top.pointee.phase = ArrayPhase.inItem
            return beginValue(&h, f, node: n.items, b)
        case ArrayPhase.afterItem:
            if b == UInt8(ascii: ",") {
                guard count < n.maxItems else { return .fail }
                top.pointee.phase = ArrayPhase.afterComma
                return .ok
            }
            guard b == UInt8(ascii: "]"), count >= n.minItems else { return .fail }
            pop(&h, f, matched: 0)
            return .ok
        default:
            return .fail
        }
    }

    private func stepLiteral(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step {
        let set = literals[Int(top.pointee.node)]
        let pos = Int(top.pointee.pos)
        var alive = top.pointee.mask
        var next: UInt64 = 0
        var completeBefore = -1
        while alive != 0 {
            let i = alive.trailingZeroBitCount
            alive &= alive - 1
            let c = set[i]
            if c.count == pos { completeBefore = i } else if c[pos] == b { next |= 1 << UInt64(i) }
        }
        if next == 0 {
            // A number literal ends at the first byte that cannot extend it.
            guard completeBefore >= 0 else { return .fail }
            pop(&h, f, matched: completeBefore)
            return .refeed
        }
        top.pointee.mask = next
        top.pointee.pos = UInt32(pos + 1)
        var rest = next, onlyComplete = true, matched = -1
        while rest != 0 {
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            if set[i].count == pos + 1 { matched = i } else { onlyComplete = false }
        }
        if onlyComplete { pop(&h, f, matched: matched) }
        return .ok
    }

    private func stepNumber(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step {
        typealias P = NumberPhase
        let phase = top.pointee.phase
        let integerOnly = top.pointee.flag == FrameFlag.integerOnly
        let digit = b >= 0x30 && b <= 0x39
        let exponent = (b | 0x20) == UInt8(ascii: "e")
        let length = top.pointee.pos
        let room = length < (integerOnly ? Self.maxIntegerDigits + 1 : Self.maxNumberLength)
        var next = P.rejected
        switch phase {
        case P.start: next = b == UInt8(ascii: "-") ? P.afterMinus : b == UInt8(ascii: "0") ? P.leadingZero : digit ? P.integerDigits : P.rejected
        case P.afterMinus: next = b == UInt8(ascii: "0") ? P.leadingZero : digit ? P.integerDigits : P.rejected
        case P.leadingZero, P.integerDigits:
            if digit && phase == P.integerDigits {
                next = P.integerDigits
            } else if !integerOnly && b == UInt8(ascii: ".") {
                next = P.afterPoint
            } else if !integerOnly && exponent {
                next = P.afterExponent
            }
        case P.afterPoint, P.fractionDigits:
            next = digit ? P.fractionDigits : (phase == P.fractionDigits && exponent) ? P.afterExponent : P.rejected
        case P.afterExponent:
            next = digit ? P.exponentDigits : (b == UInt8(ascii: "+") || b == UInt8(ascii: "-")) ? P.afterExponentSign : P.rejected
        case P.afterExponentSign, P.exponentDigits: next = digit ? P.exponentDigits : P.rejected
        default: break
        }
        if next != P.rejected && room {
            // Leave room to finish: a number must not end on '-', '.', 'e' or a sign.
            let limit = integerOnly ? Self.maxIntegerDigits + 1 : Self.maxNumberLength
            if P.needsMore(next) && length + 2 > limit { return .fail }
            top.pointee.phase = next
            top.pointee.pos = length + 1
            return .ok
        }
        guard P.accepts(phase) else { return .fail }
        pop(&h, f, matched: 0)
        return .refeed
    }

    private func stepString(_ h: inout MachineHead, _ f: UnsafeMutablePointer<Frame>, _ top: UnsafeMutablePointer<Frame>, _ b: UInt8) -> Step {
        switch stringStep(&top.pointee.pos, &top.pointee.aux, b) {
        case .inside: return .ok
        case .fail: return .fail
        case .close: pop(&h, f, matched: 0); return .ok
        }
    }
}

enum StringOutcome { case inside, fail, close }

/// One byte of JSON string content (after the opening quote). `escState`: an `EscapeState`.
/// `auxState`: hex value (bits 0-15), `UTF8State` (16-23), `TagMatch` (24-31).
@inline(__always)
func stringStep(_ escState: inout UInt32, _ auxState: inout UInt32, _ b: UInt8) -> StringOutcome {
    let esc = escState
    let aux = auxState
    if esc == EscapeState.none {
        let u = (aux >> 16) & 0xFF
        if u != UInt32(UTF8State.boundary) || b >= 0x80 {
            let n = utf8Next[Int(u) * 256 + Int(b)]
            guard n != UTF8State.invalid else { return .fail }
            auxState = UInt32(n) << 16
            return .inside
        }
        if b == UInt8(ascii: "\"") { return .close }
        if b == UInt8(ascii: "\\") { escState = EscapeState.backslash; auxState = 0; return .inside }
        if b < 0x20 { return .fail }
        // The call tags may not appear literally inside a string (the parser would take them for
        // markup); `<\/tool_call>` is the way to write one.
        let t = aux >> TagMatch.shift
        var next = TagMatch.none
        switch t {
        case TagMatch.none: break
        case TagMatch.afterLess where b == UInt8(ascii: "/"): next = TagMatch.afterLessSlash
        case TagMatch.afterLess, TagMatch.afterLessSlash: if b == callTagTail[0] { next = TagMatch.tail + 1 }
        default:
            let k = Int(t - TagMatch.tail)
            if b == callTagTail[k] {
                if k + 1 == callTagTail.count { return .fail }
                next = t + 1
            }
        }
        if next == TagMatch.none && b == UInt8(ascii: "<") { next = TagMatch.afterLess }
        auxState = next << TagMatch.shift
        return .inside
    }
    switch esc {
    case EscapeState.backslash:
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            escState = EscapeState.none
        case UInt8(ascii: "u"):
            escState = EscapeState.unicode
            auxState = 0
        default: return .fail
        }
        return .inside
    case EscapeState.unicode...EscapeState.unicode + 3:
        guard let d = hexDigit(b) else { return .fail }
        let v = (aux & 0xFFFF) * 16 + d
        let digits = esc - EscapeState.unicode + 1
        if digits == 2 && v >= 0xDC && v <= 0xDF { return .fail }  // lone low surrogate
        auxState = v
        if digits == 4 {
            escState = (0xD800...0xDBFF).contains(v) ? EscapeState.lowBackslash : EscapeState.none
            auxState = 0
        } else {
            escState = esc + 1
        }
        return .inside
    case EscapeState.lowBackslash:
        guard b == UInt8(ascii: "\\") else { return .fail }
        escState = EscapeState.lowU
        return .inside
    case EscapeState.lowU:
        guard b == UInt8(ascii: "u") else { return .fail }
        escState = EscapeState.lowUnicode
        return .inside
    case EscapeState.lowUnicode...EscapeState.lowUnicode + 3:
        guard let d = hexDigit(b) else { return .fail }
        // The low surrogate is DC00-DFFF: its first digit is D, its second C-F.
        if esc == EscapeState.lowUnicode && d != 0xD { return .fail }
        if esc == EscapeState.lowUnicode + 1 && d < 0xC { return .fail }
        escState = esc == EscapeState.lowUnicode + 3 ? EscapeState.none : esc + 1
        return .inside
    default:
        return .fail
    }
}
