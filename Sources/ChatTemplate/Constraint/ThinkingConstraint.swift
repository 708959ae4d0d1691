/// The tokens a thinking block admits: free text only. No end of the reply (the block is closed by its
/// tag or by the runtime at the budget, and a call or an answer follows), no control tokens, and no
/// tool-call or tool-response tags (a call inside the block would be reasoning, not a call).
///
/// The block also ends once it has said the same thing three times in a row (`looped`): a small model
/// decoding greedily often repeats one sentence until its budget runs out, and nothing new can come of it.
public final class ThinkingConstraint {
    /// Token ids that may not appear inside the block, ascending.
    public let excluded: [Int32]
    public let vocabularySize: Int
    private let tokenBytes: [[UInt8]]
    /// The block's bytes so far (since `reset`).
    private var text: [UInt8] = []
    /// The block ended with three copies in a row of a span of `loopSpan` bytes or more.
    public private(set) var looped = false

    /// Shortest span whose third copy in a row ends the block, in bytes (shorter repeats, a row of dashes or
    /// a list's markers, are ordinary text).
    public static let loopSpan = 32
    /// Longest span looked for, in bytes.
    public static let longestLoopSpan = 512

    public init(trie: TokenTrie) {
        vocabularySize = trie.vocabularySize
        tokenBytes = trie.tokenBytes
        let tags: [[UInt8]] = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"].map { Array($0.utf8) }
        var out: [Int32] = []
        for id in 0..<trie.vocabularySize {
            let bytes = trie.tokenBytes[id]
            // Control, unused and end-of-generation tokens have no bytes in the trie.
            if bytes.isEmpty || tags.contains(where: { bytes.firstRange(of: $0) != nil }) { out.append(Int32(id)) }
        }
        excluded = out
    }

    /// Starts a new block.
    public func reset() {
        text.removeAll(keepingCapacity: true)
        looped = false
    }

    /// Sets the logits of the excluded tokens (and of padding rows past the vocabulary) to -infinity.
    public func constrain(logits: UnsafeMutableBufferPointer<Float>) {
        for id in excluded where Int(id) < logits.count { logits[Int(id)] = -.infinity }
        if logits.count > vocabularySize { for i in vocabularySize..<logits.count { logits[i] = -.infinity } }
    }

    /// Takes a token of the block and looks for a third copy in a row at its end.
    public func advance(_ token: Int32) {
        guard Int(token) >= 0 && Int(token) < tokenBytes.count else { return }
        text.append(contentsOf: tokenBytes[Int(token)])
        if !looped { looped = Self.endsWithThreeCopies(text) }
    }

    /// The block ends once it has looped; otherwise its tag or the budget ends it.
    public var mustEnd: Bool { looped }

    /// True when `bytes` ends with three consecutive copies of one span of `loopSpan` to `longestLoopSpan` bytes
    /// that holds at least 8 different bytes (a row of dashes or of `1, 2,` is a pattern, not a loop).
    public static func endsWithThreeCopies(_ bytes: [UInt8]) -> Bool {
        let n = bytes.count
        guard n >= 3 * loopSpan else { return false }
        return bytes.withUnsafeBufferPointer { b in
            for span in loopSpan...min(longestLoopSpan, n / 3) {
                var same = true
                for i in (n - 2 * span)..<n where b[i] != b[i - span] {
                    same = false
                    break
                }
                if same {
                    var seen = Set<UInt8>()
                    for i in (n - span)..<n { seen.insert(b[i]) }
                    if seen.count >= 8 { return true }
                }
            }
            return false
        }
    }
}
