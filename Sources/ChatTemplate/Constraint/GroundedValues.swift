import Foundation

/// Copied values before invented ones (`ToolCallConstraint.groundedValues`, spec key `prefer_copied_values`).
///
/// A small model that is about to write a string argument often hesitates between copying it from the
/// request (`config/app.toml`, named by the user) and inventing one (`/path/to/inventory/file.txt`), and
/// greedy decoding takes the invention when it is a little more likely. At the first token of a string
/// value inside a call's arguments, when the most likely token starts a value that begins no word of the
/// evidence (the user's messages and the tools' results) and another token the constraint allows starts one that is
/// (at least `GroundedValues.minimumBytes`, at the start of a word there), or only opens the string, and the
/// model gives that token at least `ratio` of the top one's probability, the two tokens' logits are
/// swapped. Nothing changes after the value's first token, nor when the model's favourite is copied or
/// clearly preferred.
public struct GroundedValues: Sendable {
    /// The evidence, lowercased.
    let evidence: [UInt8]
    /// The probability ratio (to the top token) at which a copied opening wins.
    public let ratio: Float
    /// The shortest copied opening that counts (shorter pieces are in any text).
    static let minimumBytes = 3

    public init(evidence: String, ratio: Float = 0.5) {
        self.evidence = Array(evidence.lowercased().utf8)
        self.ratio = ratio
    }

    /// Whether `content` (a JSON string's escaped bytes) is in the evidence at the start of a word.
    /// `minimum`: the fewest bytes that count (the model's own opening is judged from one byte: a short
    /// piece that begins a word of the evidence may be the start of a copy).
    func isCopied(_ content: [UInt8], minimum: Int = GroundedValues.minimumBytes) -> Bool {
        let needle = Self.unescaped(content).map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
        guard needle.count >= max(minimum, 1), needle.count <= evidence.count else { return false }
        let first = needle[0]
        var i = 0
        let last = evidence.count - needle.count
        while i <= last {
            if evidence[i] == first && (i == 0 || !Self.isWordByte(evidence[i - 1]))
                && evidence[i..<(i + needle.count)].elementsEqual(needle) {
                return true
            }
            i += 1
        }
        return false
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || b >= 0x80
    }

    /// The common JSON escapes undone; a trailing lone backslash dropped.
    static func unescaped(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "\\")) else { return bytes }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { break }
                let e = bytes[i + 1]
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                default: out.append(e)
                }
                i += 2
                continue
            }
            out.append(b)
            i += 1
        }
        return out
    }
}

/// Where a call's canonical bytes (`CanonicalJSON`) stand with respect to string values.
struct ValueScan {
    /// Containers open, innermost last (`{` or `[`).
    private(set) var stack: [UInt8] = []
    /// In an object: the next string is a key.
    private var expectKey = false
    /// The string being read: its content's start in the bytes, and whether it is a value.
    private(set) var openString: (start: Int, isValue: Bool, depth: Int)?
    /// The last string closed: its content's range and whether it was a value.
    private(set) var lastClosed: (range: Range<Int>, isValue: Bool, depth: Int)?
    private var escaped = false
    private(set) var count = 0
    private(set) var lastByte: UInt8?

    mutating func push(_ b: UInt8) {
        defer { count += 1; lastByte = b }
        if let open = openString {
            if escaped { escaped = false; return }
            if b == UInt8(ascii: "\\") { escaped = true; return }
            if b == UInt8(ascii: "\"") {
                lastClosed = (open.start..<count, open.isValue, open.depth)
                openString = nil
            }
            return
        }
        switch b {
        case UInt8(ascii: "{"): stack.append(b); expectKey = true
        case UInt8(ascii: "["): stack.append(b)
        case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast(); expectKey = false
        case UInt8(ascii: ":"): expectKey = false
        case UInt8(ascii: ","): expectKey = stack.last == UInt8(ascii: "{")
        case UInt8(ascii: "\""):
            let isValue = stack.last == UInt8(ascii: "[") || !expectKey
            openString = (count + 1, isValue, stack.count)
        default: break
        }
    }

    /// A string value may start here (inside the arguments: depth 2 or more).
    var awaitsValue: Bool {
        guard openString == nil, stack.count >= 2, let last = lastByte else { return false }
        return last == UInt8(ascii: ":") || last == UInt8(ascii: "[") || (last == UInt8(ascii: ",") && stack.last == UInt8(ascii: "["))
    }
}

extension ToolCallConstraint {
    /// What a token does to the value whose first token is being chosen.
    enum Opening {
        /// Not a string value's opening (a number, a key, structure).
        case other
        /// Opens the string and writes nothing in it yet.
        case quoteOnly
        /// Writes these first content bytes (escaped), the string open or closed after them.
        case content([UInt8])
    }

    /// Swap the top token's logit with a copied opening's (see `GroundedValues`).
    func preferGrounded(_ logits: UnsafeMutableBufferPointer<Float>, _ grounding: GroundedValues) {
        guard let open = recordedBytes[callStart...].firstIndex(of: UInt8(ascii: "{")) else { return }
        var canonical = CanonicalJSON()
        for b in recordedBytes[open...] { canonical.push(b) }
        var scan = ValueScan()
        for b in canonical.bytes { scan.push(b) }
        // The value's first token: a value may open here, or one has opened with nothing in it yet.
        let emptyOpen = scan.openString.map { $0.isValue && $0.depth >= 2 && $0.start == scan.count } ?? false
        guard emptyOpen || scan.awaitsValue else { return }

        let n = min(trie.vocabularySize, logits.count)
        var top = 0
        for i in 1..<n where logits[i] > logits[top] { top = i }
        guard logits[top] > -.infinity, case .content(let written) = opening(of: top, canonical, scan),
              !grounding.isCopied(written, minimum: 1) else { return }
        let floor = logits[top] + log(grounding.ratio)
        var best = -1
        for i in 0..<n where i != top && logits[i] >= floor && (best < 0 || logits[i] > logits[best]) {
            switch opening(of: i, canonical, scan) {
            case .content(let c) where grounding.isCopied(c): best = i
            case .quoteOnly where !emptyOpen: best = i
            default: break
            }
        }
        guard best >= 0 else { return }
        logits.swapAt(top, best)
    }

    /// What `token` does to the value about to start (`scan` of the canonical bytes so far).
    private func opening(of token: Int, _ canonical: CanonicalJSON, _ scan: ValueScan) -> Opening {
        var c = canonical, s = scan
        let before = c.bytes.count
        for b in trie.tokenBytes[token] {
            c.push(b)
            while s.count < c.bytes.count { s.push(c.bytes[s.count]) }
        }
        guard c.bytes.count > before else { return .other }
        // The value the token writes in, opened before it (empty so far) or by it: still open, or closed by it.
        if let open = s.openString, open.isValue, open.depth >= 2, open.start >= before {
            return open.start == c.bytes.count ? .quoteOnly : .content(Array(c.bytes[open.start...]))
        }
        if s.openString == nil, let closed = s.lastClosed, closed.isValue, closed.depth >= 2, closed.range.lowerBound >= before,
           !closed.range.isEmpty {
            return .content(Array(c.bytes[closed.range]))
        }
        return .other
    }
}
