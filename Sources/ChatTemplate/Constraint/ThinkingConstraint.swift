/// The tokens a thinking block admits: free text only. No end of the reply (the block is closed by its
/// tag or by the runtime at the budget, and a call or an answer follows), no control tokens, and no
/// tool-call or tool-response tags (a call inside the block would be reasoning, not a call).
public final class ThinkingConstraint {
    /// Token ids that may not appear inside the block, ascending.
    public let excluded: [Int32]
    public let vocabularySize: Int

    public init(trie: TokenTrie) {
        vocabularySize = trie.vocabularySize
        let tags: [[UInt8]] = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"].map { Array($0.utf8) }
        var out: [Int32] = []
        for id in 0..<trie.vocabularySize {
            let bytes = trie.tokenBytes[id]
            // Control, unused and end-of-generation tokens have no bytes in the trie.
            if bytes.isEmpty || tags.contains(where: { bytes.firstRange(of: $0) != nil }) { out.append(Int32(id)) }
        }
        excluded = out
    }

    /// Sets the logits of the excluded tokens (and of padding rows past the vocabulary) to -infinity.
    public func constrain(logits: UnsafeMutableBufferPointer<Float>) {
        for id in excluded where Int(id) < logits.count { logits[Int(id)] = -.infinity }
        if logits.count > vocabularySize { for i in vocabularySize..<logits.count { logits[i] = -.infinity } }
    }

    /// Nothing to follow: the block's language does not depend on what came before.
    public func advance(_ token: Int32) {}
    /// The block never ends on its own account (its tag or the budget ends it).
    public var mustEnd: Bool { false }
}
