import Foundation

extension Session {
    /// Append `newTokens` like `append`, and return the negative log-likelihood of every appended
    /// token predicted from a position >= `from`: element i is -log P(token at position from+1+i).
    /// Used by LoZA calibration (LoZACalibration) and `loza eval nll` (prefill path; needs at least 2 tokens).
    public func appendScoringNLL(_ newTokens: [Int32], from: Int,
                                 progress: ((Int, Int) -> Void)? = nil) throws(EngineError) -> [Double] {
        precondition(newTokens.count > 1, "appendScoringNLL needs at least 2 tokens")
        let start = count
        let vocab = model.config.vocabSize
        var out: [Double] = []
        out.reserveCapacity(max(0, start + newTokens.count - 1 - from))
        let ids = newTokens
        forward.rowLogitsFrom = from
        forward.rowLogits = { p, logits in
            let i = p - start + 1  // index of the token that follows position p
            guard i < ids.count else { return }
            out.append(Session.negativeLogProb(logits, vocab: vocab, token: Int(ids[i])))
        }
        defer { forward.rowLogits = nil; forward.rowLogitsFrom = Int.max }
        try append(newTokens, progress: progress)
        return out
    }

    /// -log softmax(logits)[token], in double.
    static func negativeLogProb(_ logits: UnsafePointer<Float>, vocab: Int, token: Int) -> Double {
        var m = -Float.infinity
        for i in 0..<vocab where logits[i] > m { m = logits[i] }
        var s = 0.0
        for i in 0..<vocab { s += Double(expf(logits[i] - m)) }
        return log(s) - Double(logits[token] - m)
    }

    /// Make this (empty) session's timeline a copy of `other`'s (same model): tokens and K/V of every
    /// position. Both sessions' layouts must still store every position at its own slot (no slot
    /// reused yet: true for any LoZA layout below (S+L)*B positions). Calibration uses it to compute
    /// the first 1024 positions, identical under every plan, once.
    public func adoptTimeline(of other: Session) throws(EngineError) {
        let n = other.count
        precondition(other.model === model, "adoptTimeline needs the same model")
        for (a, b) in zip(cache.layouts, other.cache.layouts) {
            guard n == 0 || (a.slot(forPosition: n - 1) == n - 1 && b.slot(forPosition: n - 1) == n - 1
                             && a.slotsNeeded(forLength: n) == n && b.slotsNeeded(forLength: n) == n) else {
                throw .rewindPastEviction(position: n)
            }
        }
        reset()
        cache.reserve(length: n)
        forward.reserveKeys(n)
        let hd = model.config.headDim
        for layer in 0..<cache.layerCount {
            for h in 0..<cache.kvHeads {
                cache.key(layer, head: h, slot: 0).update(from: other.cache.key(layer, head: h, slot: 0), count: n * hd)
                cache.value(layer, head: h, slot: 0).update(from: other.cache.value(layer, head: h, slot: 0), count: n * hd)
            }
        }
        adoptTokens(other.tokens)
    }
}
