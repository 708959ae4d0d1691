import CKernels

/// Decode of several consecutive tokens in one pass over the weights, for verifying guessed tokens
/// (lookup speculation). Every row's arithmetic is that of `decode` for its token alone (the same
/// activation quantization, the same dot kernels, whose bits for a row do not depend on how rows are
/// grouped, the same attention kernel per query), so its K/V and logits are decode's bit for bit; what
/// changes is that each weight row is read from memory (and unpacked) once for all rows
/// (loza_matvec_multi), so T rows cost less than T decodes (DecodeRowsBench: 4 rows about 1.8 steps on
/// an AVX2 host where decode is compute-bound).
/// One row of a multi-row decode: a token at a position of a timeline's cache.
struct DecodeRow {
    let token: Int32
    let position: Int
    let cache: KVCache
}

extension Forward {
    /// Most rows one multi-row decode takes.
    static let maxDecodeRows = 16

    /// Logits of row `i` of the last `decodeRows` (vocabulary size).
    func rowLogits(_ i: Int) -> UnsafeMutablePointer<Float> {
        multiLogits.pointer + i * config.vocabSize
    }

    /// Allocate the multi-row scratch (and the row logits) if not yet done.
    func prepareRows() {
        guard rowActs == nil else { return }
        prepareBatchBuffers()
        let c = config
        rowActs = QuantizedActivations(maxCols: max(c.embeddingLength, c.feedForwardLength, c.qDim),
                                       rows: Forward.maxDecodeRows)
        multiLogits.ensure(Forward.maxDecodeRows * c.vocabSize)
    }

    /// Run `T` tokens at positions `position ..< position + T` (the cache holds 0 ..< position) as T
    /// decode steps would, writing their K/V, with the logits of every row (`rowLogits(i)`).
    func decodeRows(tokens: UnsafePointer<Int32>, count T: Int, position: Int, cache: KVCache) {
        let rows = (0..<T).map { DecodeRow(token: tokens[$0], position: position + $0, cache: cache) }
        decodeRows(rows)
    }

    /// Run each row as a decode step of its own timeline: its token at its position of its cache (rows
    /// of one cache in consecutive positions, none past the layouts' batch limits), writing each row's
    /// K/V into its cache, with the logits of row `i` in `rowLogits(i)`. Rows of different caches share
    /// every weight read (several sequences decoded in one pass, `DecodeBatch`); a row's bits are those
    /// of `decode` for it alone.
    func decodeRows(_ rows: [DecodeRow]) {
        let T = rows.count
        precondition(T >= 1 && T <= min(Forward.maxDecodeRows, maxBatch))
        prepareRows()
        let c = config, w = weights
        let d = c.embeddingLength, half = c.ropeDimensions / 2
        reserveKeys(rows.reduce(0) { max($0, $1.position + 1) })
        let X = bX.pointer, Xn = bXn.pointer, Q = bQ.pointer, K = bK.pointer, V = bV.pointer
        let Att = bAtt.pointer, G = bGate.pointer, U = bUp.pointer, P = bProj.pointer
        let rc = ropeCos.pointer, rs = ropeSin.pointer
        for (i, row) in rows.enumerated() {
            loza_dequantize_row(w.tokenEmbedding.type, w.tokenEmbedding.row(Int(row.token)), X + i * d, Int64(d))
            ropeAngles(position: row.position, config: c, freqFactors: w.ropeFreqFactors,
                       cos: rc + i * half, sin: rs + i * half)
        }
        for (li, L) in w.layers.enumerated() {
            for i in 0..<T { rmsNorm(X + i * d, weight: L.attnNorm, out: Xn + i * d, count: d, eps: c.rmsEpsilon) }
            matvecRows(L.wq, Q, c.qDim, L.wk, K, c.kvDim, L.wv, V, c.kvDim, input: Xn, rows: T)
            for (i, row) in rows.enumerated() {
                finishQKV(Q + i * c.qDim, K + i * c.kvDim, V + i * c.kvDim, layer: li, L, position: row.position,
                          cos: rc + i * half, sin: rs + i * half, cache: row.cache)
            }
            // Each query sees only keys up to its own position, so storing the later rows' K/V first
            // changes nothing (the caller keeps each cache's rows within its layouts' batch limits).
            for (i, row) in rows.enumerated() {
                attention.decode(q: Q + i * c.qDim, out: Att + i * c.qDim, layer: li, position: row.position, cache: row.cache)
            }
            matvecRows(L.wo, P, d, input: Att, inputStride: c.qDim, rows: T)
            for i in 0..<T { addInPlace(X + i * d, P + i * d, count: d) }
            for i in 0..<T { rmsNorm(X + i * d, weight: L.ffnNorm, out: Xn + i * d, count: d, eps: c.rmsEpsilon) }
            let ff = c.feedForwardLength
            matvecRows(L.wGate, G, ff, L.wUp, U, ff, input: Xn, rows: T, swiGLU: true)
            matvecRows(L.wDown, P, d, input: G, inputStride: ff, rows: T)
            for i in 0..<T { addInPlace(X + i * d, P + i * d, count: d) }
        }
        for i in 0..<T {
            rmsNorm(X + i * d, weight: w.outputNorm, out: Xn + i * d, count: d, eps: c.rmsEpsilon)
        }
        matvecRows(w.output, multiLogits.pointer, c.vocabSize, input: Xn, rows: T)
    }

    /// Y_m[i] = W_m X[i] for every input row i and up to three matrices sharing the input: each input
    /// row is quantized as decode quantizes it, then every thread takes decode's share of the matrix
    /// rows and reads each once for every input row (loza_matvec_multi). `outStride`: floats between
    /// output rows; `inputStride`: floats between input rows (default the matrix's columns). With
    /// `swiGLU` the gate (m0) rows become silu(gate) * up per input row, as in decode.
    private func matvecRows(_ m0: WeightMatrix, _ y0: UnsafeMutablePointer<Float>, _ s0: Int,
                            _ m1: WeightMatrix? = nil, _ y1: UnsafeMutablePointer<Float>? = nil, _ s1: Int = 0,
                            _ m2: WeightMatrix? = nil, _ y2: UnsafeMutablePointer<Float>? = nil, _ s2: Int = 0,
                            input: UnsafePointer<Float>, inputStride: Int? = nil, rows T: Int, swiGLU: Bool = false) {
        let acts = rowActs!
        let cols = m0.cols, stride = inputStride ?? cols
        // Each activation type once, as decode does (fixed arity: nothing is allocated per call).
        let a0 = loza_vec_dot_type(m0.type)
        for i in 0..<T { acts.quantize(input + i * stride, count: cols, for: m0.type, row: i) }
        var a1: Int32 = -1
        if let m1 {
            a1 = loza_vec_dot_type(m1.type)
            if a1 != a0 { for i in 0..<T { acts.quantize(input + i * stride, count: cols, for: m1.type, row: i) } }
        }
        if let m2 {
            let a2 = loza_vec_dot_type(m2.type)
            if a2 != a0 && a2 != a1 { for i in 0..<T { acts.quantize(input + i * stride, count: cols, for: m2.type, row: i) } }
        }
        let ptrs = rowActPointers, R = Forward.maxDecodeRows
        for i in 0..<T {
            ptrs[i] = acts.buffer(for: m0.type, row: i)
            if let m1 { ptrs[R + i] = acts.buffer(for: m1.type, row: i) }
            if let m2 { ptrs[2 * R + i] = acts.buffer(for: m2.type, row: i) }
        }
        let parts = pool.count
        pool.run { t in
            Forward.matvecRowsPart(m0, y0, s0, acts: ptrs, rows: T, parts: parts, t: t)
            if let m1, let y1 { Forward.matvecRowsPart(m1, y1, s1, acts: ptrs + R, rows: T, parts: parts, t: t) }
            if let m2, let y2 { Forward.matvecRowsPart(m2, y2, s2, acts: ptrs + 2 * R, rows: T, parts: parts, t: t) }
            if swiGLU, let y1 {
                let r = ThreadPool.split(m0.rows, parts: parts, index: t, align: 16)
                for i in 0..<T { swiglu(y0 + i * s0 + r.lowerBound, y1 + i * s1 + r.lowerBound, count: r.count) }
            }
        }
    }

    @inline(__always)
    private static func matvecRowsPart(_ m: WeightMatrix, _ y: UnsafeMutablePointer<Float>, _ ys: Int,
                                       acts: UnsafeMutablePointer<UnsafeRawPointer?>, rows T: Int,
                                       parts: Int, t: Int) {
        let r = ThreadPool.split(m.rows, parts: parts, index: t, align: 16)
        if r.isEmpty { return }
        loza_matvec_multi(m.type, m.data, m.rowBytes, acts, Int64(T), y, Int64(ys),
                          Int64(r.lowerBound), Int64(r.upperBound), Int64(m.cols))
    }
}
