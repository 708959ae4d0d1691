import AgentCore
import Foundation

/// Constrained decoding of tool calls.
///
/// Follows a reply token by token (`advance`). While the reply is free text nothing is restricted (apart from
/// control tokens); once a call opens (the `<tool_call>` tag, or `{` as the first non-space byte of the reply)
/// `allowedTokens` admits only tokens that keep the text a prefix of
/// `{"name": <declared tool>, "arguments": <object valid for that tool's schema>}` followed by
/// `</tool_call>` (tagged) or the end of the reply (bare). Every allowed token leaves a state from which the
/// call can still be completed, so sampling under the mask always yields a call that parses (see
/// `SchemaGraph` for which schema keywords are enforced).
///
/// Cost: the mask walks the vocabulary trie from the current state, pruning subtrees the automaton rejects
/// and allowing whole subtrees at once where nothing below can leave a JSON string (or free text). In free
/// text the mask depends only on the partial-tag position (and the tool choice, fixed per constraint), so
/// it is walked once per position and kept, with the few ids it excludes: a text reply under tool choice
/// `none` then costs a pass over those ids per token instead of a walk.
public final class ToolCallConstraint {
    public let trie: TokenTrie
    let machine: CallMachine
    private var head = MachineHead()
    private let frames: UnsafeMutablePointer<Frame>
    // Walk scratch: one state per trie depth.
    private let scratchHeads: UnsafeMutablePointer<MachineHead>
    private let scratchFrames: UnsafeMutablePointer<Frame>
    private let depthLimit: Int
    private let isEOG: UnsafeMutableBufferPointer<Bool>
    private let logitMask: UnsafeMutableBufferPointer<Bool>

    /// - choice: `required` admits only a bare call (`{` or a ```` ```json ```` fence first) and no end before it; `none` admits no call
    ///   (no `{`, `[` or fence to open the reply, no `<tool_call>` tag anywhere).
    /// - parallel: several calls may follow one another in a reply (see `MachineHead.parallel`); without
    ///   it a reply ends with its first bare call.
    /// - format: the call's shape in the model's template (the key of its arguments).
    public init(trie: TokenTrie, tools: [ToolDeclaration], choice: ToolChoice = .auto, parallel: Bool = false,
                format: CallFormat = .standard) {
        self.parallel = parallel
        self.trie = trie
        self.choice = choice
        machine = CallMachine(tools: tools, argumentsKey: format.argumentsKey)
        inert = tools.isEmpty
        frames = .allocate(capacity: CallMachine.maxFrames)
        depthLimit = trie.maxTokenLength + 1
        scratchHeads = .allocate(capacity: depthLimit + 1)
        scratchFrames = .allocate(capacity: (depthLimit + 1) * CallMachine.maxFrames)
        isEOG = .allocate(capacity: max(trie.vocabularySize, 1))
        isEOG.initialize(repeating: false)
        logitMask = .allocate(capacity: max(trie.vocabularySize, 1))
        noneMask = .allocate(capacity: max(trie.vocabularySize, 1))
        for t in trie.endOfGeneration { isEOG[Int(t)] = true }
        freeMasks = Array(repeating: nil, count: machine.tag.count)
        if inert { head.mode = .failed }
        head.choice = self.choice
        head.parallel = parallel
    }

    private let choice: ToolChoice
    private let parallel: Bool

    /// A kept free-text mask and the ids it excludes, ascending.
    private struct FreeMask {
        let allowed: UnsafeMutableBufferPointer<Bool>
        let excluded: [Int32]
    }
    /// Free-text masks by partial-tag position, walked on first use.
    private var freeMasks: [FreeMask?]

    deinit {
        frames.deallocate()
        scratchHeads.deallocate()
        scratchFrames.deallocate()
        isEOG.deallocate()
        logitMask.deallocate()
        for m in freeMasks { m?.allowed.deallocate() }
        noneMask.deallocate()
    }

    /// Tool choice by the model's odds for the next reply (`SamplingOptions.callThreshold`): with choice
    /// `auto`, at the reply's first token, the probability the logits give to the tokens that open a
    /// call (those `auto` admits and `none` excludes) is measured (`callProbability`) and, when it is at
    /// least this, the reply continues as under `required` (`.infinity`: measured only). Set before the
    /// reply; `reset` keeps it.
    public var callThreshold: Double?
    /// The probability measured at the first token under `callThreshold` (nil before, or without one).
    public private(set) var callProbability: Double?
    /// The threshold made this reply a call.
    public private(set) var callChosen = false
    /// Scratch mask for the `none` choice (threshold only).
    private let noneMask: UnsafeMutableBufferPointer<Bool>

    /// Copied string values before invented ones (see `GroundedValues`). Set before the reply; `reset` keeps it.
    public var groundedValues: GroundedValues?

    /// Calls the reply may not write again (see `ExcludedCall`). Set before the reply; `reset` keeps them.
    public var excludedCalls: [ExcludedCall] = []

    /// Bans the tokens that would take the call being written through an excluded call's stop point.
    private func banExcluded(_ logits: UnsafeMutableBufferPointer<Float>) {
        guard let open = recordedBytes[callStart...].firstIndex(of: UInt8(ascii: "{")) else { return }
        var written = CanonicalJSON()
        for b in recordedBytes[open...] { written.push(b) }
        let active = excludedCalls.filter {
            written.bytes.count < $0.stop.count && $0.stop.starts(with: written.bytes)
        }
        guard !active.isEmpty else { return }
        let n = min(trie.vocabularySize, logits.count)
        for i in 0..<n where logits[i] > -.infinity {
            let token = trie.tokenBytes[i]
            if active.contains(where: { written.completes($0.stop, with: token) }) { logits[i] = -.infinity }
        }
    }

    /// Starts a new reply.
    public func reset() {
        callProbability = nil
        callChosen = false
        head = MachineHead()
        head.choice = choice
        head.parallel = parallel
        if inert { head.mode = .failed }
        recordedBytes.removeAll(keepingCapacity: true)
        closedCalls.removeAll(keepingCapacity: true)
        callStart = 0
        callClosed = false
        repeatedCall = false
        openedUntagged = false
    }

    /// Bytes fed since the last reset (tests replay them).
    private(set) var recordedBytes: [UInt8] = []

    /// True while a call is being written (the mask then restricts tokens).
    public var isInsideCall: Bool { head.mode == .call }
    /// Calls completed in this reply.
    public var completedCalls: Int { Int(head.completed) }
    /// True after a call closed without `parallel` (a bare call's object or a tagged call's close tag: only the
    /// end of the reply may follow), once a call opened untagged under `stopAtUntaggedCall`, or once a call identical to
    /// an earlier one of the reply closed (a weak model otherwise writes the same call over and over until
    /// its token budget runs out; the repeat is not a new call).
    public var mustEnd: Bool {
        (!parallel && (CallMachine.bareCallClosed(head, frames) || (head.mode == .free && head.completed > 0)))
            || repeatedCall || openedUntagged || (endBeforeCloseTag && awaitsCloseTag)
    }
    /// End the reply once a tagged call's object is complete, before its close tag (without `parallel`):
    /// the caller writes the tag (`LocalChatModel`, for a call it opened with the tag). Otherwise a model
    /// that would end its reply there is held to the close tag, and pads with spaces first.
    public var endBeforeCloseTag = false
    /// A tagged call's object is complete and its close tag not begun.
    public var awaitsCloseTag: Bool {
        head.mode == .call && head.count == 1 && frames[0].flag == CallForm.tagged && frames[0].phase == CallPhase.closed
    }
    /// Stop the reply as soon as a call opens bare or fenced (`openedUntagged`): the caller writes the call
    /// again after the template's own tag (`LocalChatModel`). Set before the reply; `reset` keeps it.
    public var stopAtUntaggedCall = false
    /// With `stopAtUntaggedCall`, the reply opened a call without the tag and was stopped at its `{`.
    public private(set) var openedUntagged = false
    /// A call of this reply repeated an earlier one of it, byte for byte outside whitespace.
    public private(set) var repeatedCall = false
    /// The calls closed in this reply (their bytes from the first `{` to the last `}`, whitespace removed).
    private var closedCalls = Set<[UInt8]>()
    /// Where the current call's bytes start in `recordedBytes`, and whether it has closed.
    private(set) var callStart = 0
    private var callClosed = false
    /// True when a token outside the language was forced in (`advance` of a token the mask had excluded);
    /// the constraint then allows everything for the rest of the reply.
    public var failed: Bool { head.mode == .failed && !inert }
    /// With no tools declared there is no call to constrain: every token is allowed.
    public let inert: Bool
    /// Whether masking can change anything now: false in free text with no partial tag pending (then only
    /// control tokens and tokens that would open a call and break it within themselves are excluded).
    public var needsMask: Bool {
        switch head.mode {
        case .replyStart, .call: return true
        case .free: return head.tagPos > 0 || head.choice == .none
        case .ended, .failed: return false
        }
    }

    /// Feeds the sampled token.
    public func advance(_ token: Int32) {
        if isEOG[Int(token)] {
            head.mode = head.mode == .failed ? .failed : .ended
            return
        }
        advance(bytes: trie.tokenBytes[Int(token)])
    }

    /// Feeds text produced outside the vocabulary (for example a forced prefix).
    public func advance(bytes: [UInt8]) {
        for b in bytes where head.mode != .failed {
            let before = head
            recordedBytes.append(b)
            if !machine.step(&head, frames, b) {
                head.mode = .failed
                break
            }
            // A call opens: the mode turns to `call`, or the next bare call starts right after one.
            if head.mode == .call && (before.mode != .call || head.completed != before.completed) {
                callStart = recordedBytes.count - 1
                callClosed = false
                if stopAtUntaggedCall && frames[0].flag != CallForm.tagged { openedUntagged = true }
            }
            // A call closes: a bare call's object ends, or a tagged call's close tag does.
            let closed = head.mode == .call ? CallMachine.bareCallClosed(head, frames) : before.mode == .call
            if closed && !callClosed { noteClosedCall() }
            callClosed = closed
        }
    }

    private func noteClosedCall() {
        let bytes = recordedBytes[callStart...]
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")), let close = bytes.lastIndex(of: UInt8(ascii: "}")),
              open < close else { return }
        let key = recordedBytes[open...close].filter { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if !closedCalls.insert(key).inserted { repeatedCall = true }
    }

    /// The allowed-token mask for the next token (true = allowed), over the whole vocabulary.
    public func allowedTokens(into mask: UnsafeMutableBufferPointer<Bool>) {
        precondition(mask.count >= trie.vocabularySize, "mask smaller than the vocabulary")
        if head.mode == .free {
            mask.baseAddress!.update(from: freeMask().allowed.baseAddress!, count: trie.vocabularySize)
            return
        }
        walkedTokens(into: mask)
    }

    /// The free-text mask of the current partial-tag position. In free text the automaton reads only the
    /// partial-tag position and the tool choice: a completed tag starts a call from a fresh frame, and the
    /// end of generation is always accepted. So one walk per position gives every later mask at it.
    private func freeMask() -> FreeMask {
        let position = Int(head.tagPos)
        if let kept = freeMasks[position] { return kept }
        let allowed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(trie.vocabularySize, 1))
        walkedTokens(into: allowed)
        var excluded: [Int32] = []
        for i in 0..<trie.vocabularySize where !allowed[i] { excluded.append(Int32(i)) }
        let kept = FreeMask(allowed: allowed, excluded: excluded)
        freeMasks[position] = kept
        return kept
    }

    /// The mask by walking the vocabulary trie from the current state (no kept masks).
    func walkedTokens(into mask: UnsafeMutableBufferPointer<Bool>) {
        precondition(mask.count >= trie.vocabularySize, "mask smaller than the vocabulary")
        mask.initialize(repeating: false)
        if head.mode == .failed {
            for i in 0..<trie.vocabularySize { mask[i] = true }
            return
        }
        if machine.acceptsEnd(head, frames) {
            for t in trie.endOfGeneration { mask[Int(t)] = true }
        }
        guard head.mode != .ended else { return }
        if head.mode == .call {
            let top = frames[Int(head.count - 1)]
            if top.kind == .string && top.pos == EscapeState.none {
                stringMask(key: TokenTrie.stringKey(aux: top.aux), mask: mask.baseAddress!)
                return
            }
        }
        scratchHeads[0] = head
        (scratchFrames).update(from: frames, count: Int(head.count))
        walk(node: 0, depth: 0, mask: mask.baseAddress!)
    }

    /// Sets the logits of disallowed tokens to -infinity (nothing to do when `needsMask` is false).
    /// `logits` covers at least the vocabulary; entries past it (padding rows) are disallowed too.
    public func constrain(logits: UnsafeMutableBufferPointer<Float>) {
        guard needsMask else { return }
        let n = trie.vocabularySize
        if head.mode == .free {
            freeMask().excluded.withUnsafeBufferPointer { ids in
                for id in ids where Int(id) < logits.count { logits[Int(id)] = -.infinity }
            }
        } else {
            walkedTokens(into: logitMask)
            for i in 0..<min(n, logits.count) where !logitMask[i] { logits[i] = -.infinity }
            if let threshold = callThreshold, head.mode == .replyStart, head.choice == .auto, recordedBytes.isEmpty,
               callProbability == nil, decideByOdds(logits: logits, threshold: threshold) {
                walkedTokens(into: logitMask)
                for i in 0..<min(n, logits.count) where !logitMask[i] { logits[i] = -.infinity }
            }
            if head.mode == .call && !excludedCalls.isEmpty { banExcluded(logits) }
            if head.mode == .call, let groundedValues { preferGrounded(logits, groundedValues) }
        }
        if logits.count > n { for i in n..<logits.count { logits[i] = -.infinity } }
    }

    /// Measures the probability of opening a call at the first token (softmax over the logits `auto`
    /// left finite) and, at or above `threshold`, turns the reply's choice to `required` (true: turned).
    private func decideByOdds(logits: UnsafeMutableBufferPointer<Float>, threshold: Double) -> Bool {
        let n = min(trie.vocabularySize, logits.count)
        head.choice = .none
        walkedTokens(into: noneMask)
        head.choice = .auto
        var top = -Float.infinity
        for i in 0..<n { top = max(top, logits[i]) }
        guard top > -.infinity else { return false }
        var total = 0.0, call = 0.0
        for i in 0..<n where logits[i] > -.infinity {
            let p = exp(Double(logits[i] - top))
            total += p
            if !noneMask[i] { call += p }
        }
        let probability = call / total
        callProbability = probability
        guard probability >= threshold else { return false }
        head.choice = .required
        callChosen = true
        return true
    }

    /// The allowed token ids, ascending.
    public func allowedTokenIDs() -> [Int32] {
        let mask = UnsafeMutableBufferPointer<Bool>.allocate(capacity: trie.vocabularySize)
        defer { mask.deallocate() }
        allowedTokens(into: mask)
        var ids: [Int32] = []
        for i in 0..<trie.vocabularySize where mask[i] { ids.append(Int32(i)) }
        return ids
    }

    /// Inside a plain JSON string: the precomputed tokens that stay inside, plus those that close the
    /// string and are accepted by the rest of the state.
    private func stringMask(key u: Int, mask: UnsafeMutablePointer<Bool>) {
        mask.update(from: trie.stringInside[u].baseAddress!, count: trie.vocabularySize)
        let h = scratchHeads
        let f = scratchFrames
        let flat = trie.flat.baseAddress!, offsets = trie.offsets.baseAddress!
        for id in trie.stringClosers[u] {
            h.pointee = head
            f.update(from: frames, count: Int(head.count))
            var ok = true
            for k in Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1]) where !machine.step(&h.pointee, f, flat[k]) {
                ok = false
                break
            }
            if ok { mask[Int(id)] = true }
        }
    }

    private func allowRange(_ node: Int, _ mask: UnsafeMutablePointer<Bool>) {
        let sorted = trie.sorted.baseAddress!
        for k in Int(trie.lo[node])..<Int(trie.hi[node]) { mask[Int(sorted[k])] = true }
    }

    private func walk(node: Int, depth: Int, mask: UnsafeMutablePointer<Bool>) {
        let h = scratchHeads + depth
        let f = scratchFrames + depth * CallMachine.maxFrames
        if depth > 0 {
            // Shortcuts: everything below stays in free text / inside a plain string.
            switch h.pointee.mode {
            case .free where h.pointee.tagPos == 0 && !trie.hasAngle[node]:
                allowRange(node, mask); return
            case .failed:
                allowRange(node, mask); return
            case .call:
                let top = f + Int(h.pointee.count - 1)
                if top.pointee.kind == .string && top.pointee.pos == EscapeState.none && top.pointee.aux >> TagMatch.shift == TagMatch.none
                    && trie.plain[node] & (1 << ((top.pointee.aux >> 16) & 0xFF)) != 0 {
                    allowRange(node, mask); return
                }
            default: break
            }
            let lo = Int(trie.lo[node])
            let sorted = trie.sorted.baseAddress!
            for k in lo..<(lo + Int(trie.ends[node])) { mask[Int(sorted[k])] = true }
        }
        let nh = scratchHeads + depth + 1
        let nf = scratchFrames + (depth + 1) * CallMachine.maxFrames
        var child = Int(trie.firstChild[node])
        while child >= 0 {
            nh.pointee = h.pointee
            nf.update(from: f, count: Int(h.pointee.count))
            if machine.step(&nh.pointee, nf, trie.edge[child]) {
                walk(node: child, depth: depth + 1, mask: mask)
            }
            child = Int(trie.nextSibling[child])
        }
    }
}
