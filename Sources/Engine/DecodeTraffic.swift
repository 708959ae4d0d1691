/// What one decode step reads from memory, for the bandwidth figures of `loza bench`: every weight
/// matrix once (the token embedding only its one row, unless it is also the output head), the norm
/// and bias vectors, and the K and V of every key each layer's KV heads see at that position.
extension Session {
    /// Bytes read by the decode step of the token at `position`.
    public func decodeBytesRead(atPosition position: Int) -> Int {
        let c = model.config, w = model.weights
        var bytes = 0
        for l in w.layers {
            for m in [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] { bytes += m.rows * m.rowBytes }
            bytes += 2 * c.embeddingLength * 4
            if l.bq != nil { bytes += (c.qDim + 2 * c.kvDim) * 4 }
        }
        bytes += w.output.rows * w.output.rowBytes + c.embeddingLength * 4
        if w.output.data != w.tokenEmbedding.data { bytes += w.tokenEmbedding.rowBytes }
        let perKey = 2 * 2 * c.headDim   // K and V of one KV head, f16
        for layout in cache.layouts {
            bytes += layout.keySpans(forQuery: position).keyCount * perKey
        }
        return bytes
    }

    /// Mean of `decodeBytesRead` over the decode positions `from ..< from + count`.
    public func meanDecodeBytesRead(from: Int, count: Int) -> Double {
        guard count > 0 else { return Double(decodeBytesRead(atPosition: from)) }
        var total = 0.0
        for p in from..<(from + count) { total += Double(decodeBytesRead(atPosition: p)) }
        return total / Double(count)
    }
}
