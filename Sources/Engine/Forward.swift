import CBLAS
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The forward pass of the llama-family block (llama, qwen2, qwen3) over a KV cache: single-token decode with
/// quantized dot products split by rows across the thread pool, and batched prefill through SGEMM on
/// weights dequantized to f32. All scratch memory is allocated here once; the token loop allocates
/// nothing.
final class Forward {
    let model: Model
    let config: ModelConfig
    let weights: ModelWeights
    let pool: ThreadPool
    let maxBatch: Int

    // Decode scratch (one token).
    private var x: FloatBuffer        // [n_embd] residual stream
    private var xn: FloatBuffer       // [n_embd] normed input
    private var q: FloatBuffer        // [n_head * head_dim]
    private var k: FloatBuffer        // [n_head_kv * head_dim]
    private var v: FloatBuffer        // [n_head_kv * head_dim]
    private var att: FloatBuffer      // [n_head * head_dim] attention output
    private var gate: FloatBuffer     // [n_ff]
    private var up: FloatBuffer       // [n_ff]
    private var proj: FloatBuffer     // [n_embd]
    var ropeCos: FloatBuffer  // [maxBatch][n_rot / 2]
    var ropeSin: FloatBuffer  // [maxBatch][n_rot / 2]
    private var acts: QuantizedActivations
    let attention: Attention  // attention kernels and their scratch (Attention.swift)

    // Prefill scratch (a batch of up to maxBatch tokens), allocated on first use.
    var bX = FloatBuffer(1), bXn = FloatBuffer(1), bQ = FloatBuffer(1), bK = FloatBuffer(1)
    var bV = FloatBuffer(1), bAtt = FloatBuffer(1), bGate = FloatBuffer(1), bUp = FloatBuffer(1)
    var bProj = FloatBuffer(1)
    private var wF32 = FloatBuffer(1)  // a dequantized weight matrix [rows][cols]
    private var gemmActs: UnsafeMutableRawPointer?   // [maxBatch] packed activation rows (loza_gemm)
    private var gemmScratch: UnsafeMutableRawPointer?  // [threads] loza_gemm scratch
    private var gemmActStride = 0, gemmScratchStride = 0
    private var gemmPacked = false  // gemmActs holds the input of the last gemm call
    private var batchReady = false

    /// Logits of the last processed position.
    private(set) var logits: FloatBuffer

    // Multi-row decode scratch (DecodeRows.swift), allocated on first use: quantized inputs of each
    // row and the logits of each row [maxDecodeRows][vocab].
    var rowActs: QuantizedActivations?
    var multiLogits = FloatBuffer(1)
    /// Per matrix of one multi-row matvec (up to 3), the pointers to each row's quantized input.
    let rowActPointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: 3 * Forward.maxDecodeRows)

    /// Scoring hook (LoZA calibration and eval): when set, prefill also computes the logits of every
    /// row at position >= `rowLogitsFrom` and hands them over, (position, logits).
    var rowLogits: ((Int, UnsafePointer<Float>) -> Void)?
    var rowLogitsFrom = Int.max
    /// Calibration probe (LoZA dropped attention mass): when set, prefill hands over each layer's batch
    /// of queries after RoPE, once the batch's K/V are stored and before attention:
    /// (layer, first position, count, Q rows [count][qDim]).
    var queryProbe: ((Int, Int, Int, UnsafePointer<Float>) -> Void)?

    init(model: Model, pool: ThreadPool, maxBatch: Int) {
        self.model = model
        config = model.config
        weights = model.weights
        self.pool = pool
        self.maxBatch = max(1, maxBatch)
        let c = config
        x = FloatBuffer(c.embeddingLength)
        xn = FloatBuffer(c.embeddingLength)
        q = FloatBuffer(c.qDim)
        k = FloatBuffer(c.kvDim)
        v = FloatBuffer(c.kvDim)
        att = FloatBuffer(c.qDim)
        gate = FloatBuffer(c.feedForwardLength)
        up = FloatBuffer(c.feedForwardLength)
        proj = FloatBuffer(c.embeddingLength)
        ropeCos = FloatBuffer(self.maxBatch * c.ropeDimensions / 2)
        ropeSin = FloatBuffer(self.maxBatch * c.ropeDimensions / 2)
        acts = QuantizedActivations(maxCols: max(c.embeddingLength, c.feedForwardLength, c.qDim))
        attention = Attention(config: c, pool: pool, maxBatch: self.maxBatch)
        logits = FloatBuffer(c.vocabSize)
    }

    deinit {
        for b in [x, xn, q, k, v, att, gate, up, proj, ropeCos, ropeSin, logits,
                  bX, bXn, bQ, bK, bV, bAtt, bGate, bUp, bProj, wF32] { b.free() }
        multiLogits.free()
        rowActPointers.deallocate()
        rowActs?.free()
        gemmActs?.deallocate()
        gemmScratch?.deallocate()
        acts.free()
    }

    /// Make room for attention over `keys` keys per query (called when the cache grows).
    func reserveKeys(_ keys: Int) {
        attention.reserve(keys: keys)
    }

    func prepareBatchBuffers() {
        guard !batchReady else { return }
        let c = config, b = maxBatch
        bX.ensure(b * c.embeddingLength); bXn.ensure(b * c.embeddingLength); bProj.ensure(b * c.embeddingLength)
        bQ.ensure(b * c.qDim); bAtt.ensure(b * c.qDim)
        bK.ensure(b * c.kvDim); bV.ensure(b * c.kvDim)
        bGate.ensure(b * c.feedForwardLength); bUp.ensure(b * c.feedForwardLength)
        var most = 0
        for l in weights.layers { for m in [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] { most = max(most, m.rows * m.cols) } }
        wF32.ensure(most)
        let widest = max(c.embeddingLength, c.feedForwardLength, c.qDim)
        gemmActStride = loza_gemm_act_stride(Int64(widest))
        gemmScratchStride = (loza_gemm_scratch_bytes(Int64(widest)) + 63) & ~63
        gemmActs = .allocate(byteCount: gemmActStride * b, alignment: 64)
        gemmScratch = .allocate(byteCount: gemmScratchStride * pool.count, alignment: 64)
        batchReady = true
    }

    // MARK: - decode

    /// Run one token at `position` (the cache holds positions 0..<position); writes its K/V and the logits.
    func decode(token: Int32, position: Int, cache: KVCache) {
        let c = config, w = weights
        let d = c.embeddingLength
        reserveKeys(position + 1)
        loza_dequantize_row(w.tokenEmbedding.type, w.tokenEmbedding.row(Int(token)), x.pointer, Int64(d))
        ropeAngles(position: position, config: c, freqFactors: w.ropeFreqFactors, cos: ropeCos.pointer, sin: ropeSin.pointer)

        for (li, L) in w.layers.enumerated() {
            // Attention block.
            rmsNorm(x.pointer, weight: L.attnNorm, out: xn.pointer, count: d, eps: c.rmsEpsilon)
            matvec(L.wq, q.pointer, L.wk, k.pointer, L.wv, v.pointer, input: xn.pointer)
            finishQKV(q.pointer, k.pointer, v.pointer, layer: li, L, position: position,
                      cos: ropeCos.pointer, sin: ropeSin.pointer, cache: cache)
            attendDecode(layer: li, position: position, cache: cache)
            matvec(L.wo, proj.pointer, input: att.pointer)
            addInPlace(x.pointer, proj.pointer, count: d)

            // Feed-forward block.
            rmsNorm(x.pointer, weight: L.ffnNorm, out: xn.pointer, count: d, eps: c.rmsEpsilon)
            matvec(L.wGate, gate.pointer, L.wUp, up.pointer, input: xn.pointer, swiGLU: true)
            matvec(L.wDown, proj.pointer, input: gate.pointer)
            addInPlace(x.pointer, proj.pointer, count: d)
        }
        outputHead(hidden: x.pointer)
    }

    /// One position's q, k, v after the projections: biases, the per-head Q/K norm (qwen3), RoPE, and
    /// its K/V into the cache (decode, prefill and the multi-row decode share it, so their rows agree bit
    /// for bit; every attention mode reads what it stored).
    @inline(__always)
    func finishQKV(_ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                   layer li: Int, _ L: LayerWeights, position: Int,
                   cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, cache: KVCache) {
        let c = config
        addBias(q, L.bq, count: c.qDim)
        addBias(k, L.bk, count: c.kvDim)
        addBias(v, L.bv, count: c.kvDim)
        if let qn = L.qNorm, let kn = L.kNorm {
            headNorm(q, heads: c.headCount, headDim: c.headDim, weight: qn, eps: c.rmsEpsilon)
            headNorm(k, heads: c.kvHeadCount, headDim: c.headDim, weight: kn, eps: c.rmsEpsilon)
        }
        applyRope(q, heads: c.headCount, headDim: c.headDim, ropeDims: c.ropeDimensions, style: c.ropeStyle, cos: cos, sin: sin)
        applyRope(k, heads: c.kvHeadCount, headDim: c.headDim, ropeDims: c.ropeDimensions, style: c.ropeStyle, cos: cos, sin: sin)
        cache.store(layer: li, position: position, k: k, v: v)
    }

    /// Final norm and output projection of one hidden state into `logits`.
    private func outputHead(hidden: UnsafePointer<Float>) {
        rmsNorm(hidden, weight: weights.outputNorm, out: xn.pointer, count: config.embeddingLength, eps: config.rmsEpsilon)
        matvec(weights.output, logits.pointer, input: xn.pointer)
    }

    /// y_m = W_m x for up to three matrices sharing the input x: x is quantized once per activation type,
    /// then every thread computes its own rows of every matrix (one pool job). Fixed arity, so no array
    /// is built per call. With `swiGLU` (m0 the gate, m1 the up projection, same rows), each thread then
    /// turns its rows of y0 into silu(y0) * y1 in the same job, instead of thread 0 alone afterwards.
    private func matvec(_ m0: WeightMatrix, _ y0: UnsafeMutablePointer<Float>,
                        _ m1: WeightMatrix? = nil, _ y1: UnsafeMutablePointer<Float>? = nil,
                        _ m2: WeightMatrix? = nil, _ y2: UnsafeMutablePointer<Float>? = nil,
                        input: UnsafePointer<Float>, swiGLU: Bool = false) {
        let cols = m0.cols
        let a0 = loza_vec_dot_type(m0.type)
        _ = acts.quantize(input, count: cols, for: m0.type)
        var a1: Int32 = -1
        if let m1 {
            a1 = loza_vec_dot_type(m1.type)
            if a1 != a0 { _ = acts.quantize(input, count: cols, for: m1.type) }
        }
        if let m2 {
            let a2 = loza_vec_dot_type(m2.type)
            if a2 != a0 && a2 != a1 { _ = acts.quantize(input, count: cols, for: m2.type) }
        }
        let acts = self.acts
        let parts = pool.count
        precondition(!swiGLU || (m1?.rows == m0.rows && y1 != nil && m2 == nil), "swiGLU needs gate and up of the same rows")
        pool.run { t in
            Forward.matvecPart(m0, y0, acts: acts, parts: parts, t: t)
            if let m1, let y1 { Forward.matvecPart(m1, y1, acts: acts, parts: parts, t: t) }
            if let m2, let y2 { Forward.matvecPart(m2, y2, acts: acts, parts: parts, t: t) }
            if swiGLU, let y1 {
                let r = ThreadPool.split(m0.rows, parts: parts, index: t, align: 16)
                swiglu(y0 + r.lowerBound, y1 + r.lowerBound, count: r.count)
            }
        }
    }

    @inline(__always)
    static func matvecPart(_ m: WeightMatrix, _ y: UnsafeMutablePointer<Float>, acts: QuantizedActivations,
                                   parts: Int, t: Int) {
        let r = ThreadPool.split(m.rows, parts: parts, index: t, align: 16)
        if r.isEmpty { return }
        loza_matvec(m.type, m.data, m.rowBytes, acts.buffer(for: m.type), y,
                    Int64(r.lowerBound), Int64(r.upperBound), Int64(m.cols))
    }

    /// Attention of the one new query (in `q`) over the keys its layer's layout allows, output in `att`.
    private func attendDecode(layer: Int, position: Int, cache: KVCache) {
        attention.decode(q: q.pointer, out: att.pointer, layer: layer, position: position, cache: cache)
    }

    // MARK: - prefill

    /// Run `count` tokens starting at `position` (count <= maxBatch) as one batch; writes their K/V.
    /// When `wantLogits`, the logits of the last token are computed.
    func prefill(tokens: UnsafePointer<Int32>, count T: Int, position: Int, cache: KVCache, wantLogits: Bool) {
        precondition(T >= 1 && T <= maxBatch)
        prepareBatchBuffers()
        let c = config, w = weights
        let d = c.embeddingLength, half = c.ropeDimensions / 2
        reserveKeys(position + T)
        let X = bX.pointer, Xn = bXn.pointer, Q = bQ.pointer, K = bK.pointer, V = bV.pointer
        let Att = bAtt.pointer, G = bGate.pointer, U = bUp.pointer, P = bProj.pointer
        let rc = ropeCos.pointer, rs = ropeSin.pointer
        let parts = pool.count
        pool.run { t in
            for i in ThreadPool.split(T, parts: parts, index: t) {
                loza_dequantize_row(w.tokenEmbedding.type, w.tokenEmbedding.row(Int(tokens[i])), X + i * d, Int64(d))
                ropeAngles(position: position + i, config: c, freqFactors: w.ropeFreqFactors,
                           cos: rc + i * half, sin: rs + i * half)
            }
        }
        for (li, L) in w.layers.enumerated() {
            normRows(X, weight: L.attnNorm, out: Xn, rows: T)
            gemm(L.wq, input: Xn, output: Q, rows: T)
            gemm(L.wk, input: Xn, output: K, rows: T, sameInput: true)
            gemm(L.wv, input: Xn, output: V, rows: T, sameInput: true)
            pool.run { t in
                for i in ThreadPool.split(T, parts: parts, index: t) {
                    self.finishQKV(Q + i * c.qDim, K + i * c.kvDim, V + i * c.kvDim, layer: li, L,
                                   position: position + i, cos: rc + i * half, sin: rs + i * half, cache: cache)
                }
            }
            queryProbe?(li, position, T, Q)
            attendBatch(layer: li, position: position, count: T, cache: cache)
            gemm(L.wo, input: Att, output: P, rows: T)
            addRows(X, P, rows: T)
            normRows(X, weight: L.ffnNorm, out: Xn, rows: T)
            gemm(L.wGate, input: Xn, output: G, rows: T)
            gemm(L.wUp, input: Xn, output: U, rows: T, sameInput: true)
            let ff = c.feedForwardLength
            pool.run { t in
                let r = ThreadPool.split(T * ff, parts: parts, index: t, align: 64)
                swiglu(G + r.lowerBound, U + r.lowerBound, count: r.count)
            }
            gemm(L.wDown, input: G, output: P, rows: T)
            addRows(X, P, rows: T)
        }
        if let hook = rowLogits {
            for i in 0..<T where position + i >= rowLogitsFrom {
                outputHead(hidden: X + i * d)
                hook(position + i, logits.pointer)
            }
        }
        if wantLogits { outputHead(hidden: X + (T - 1) * d) }
    }

    private func normRows(_ X: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows T: Int) {
        let d = config.embeddingLength, eps = config.rmsEpsilon, parts = pool.count
        pool.run { t in
            for i in ThreadPool.split(T, parts: parts, index: t) {
                rmsNorm(X + i * d, weight: weight, out: out + i * d, count: d, eps: eps)
            }
        }
    }

    private func addRows(_ X: UnsafeMutablePointer<Float>, _ P: UnsafePointer<Float>, rows T: Int) {
        let n = T * config.embeddingLength, parts = pool.count
        pool.run { t in
            let r = ThreadPool.split(n, parts: parts, index: t, align: 64)
            addInPlace(X + r.lowerBound, P + r.lowerBound, count: r.count)
        }
    }

    /// Prefill matmul path: the quantized GEMM (integer dot products, loza_gemm) where the CPU has a
    /// SIMD kernel for the weight type, else dequantization + SGEMM. LOZA_GEMM=sgemm forces the latter
    /// (for measuring one against the other).
    private static let quantizedGEMM: Bool = {
        guard let v = getenv("LOZA_GEMM") else { return true }
        return String(cString: v) != "sgemm"
    }()

    /// Y[T][rows] = X[T][cols] * W^T, each output computed by exactly one thread (rows split across the
    /// pool). Quantized weights with a fast loza_gemm kernel: X is quantized once into packed 8-bit rows
    /// (once for calls with `sameInput`: X is also the input of the previous gemm call), then each thread
    /// multiplies its rows panel by panel. Otherwise each thread dequantizes its slice of W into the
    /// shared f32 scratch and multiplies it with single-threaded SGEMM, so the pool (not OpenBLAS's
    /// threads) does the splitting: deterministic for a thread count, no two thread pools fighting.
    private func gemm(_ m: WeightMatrix, input X: UnsafePointer<Float>, output Y: UnsafeMutablePointer<Float>,
                      rows T: Int, sameInput: Bool = false) {
        let parts = pool.count
        if !sameInput { gemmPacked = false }
        if Forward.quantizedGEMM, loza_gemm_fast(m.type) != 0, let acts = gemmActs, let scratch = gemmScratch {
            let astride = gemmActStride, sstride = gemmScratchStride
            let cols = m.cols
            if !gemmPacked {
                gemmPacked = true
                pool.run { t in
                    for i in ThreadPool.split(T, parts: parts, index: t) {
                        loza_gemm_quantize_act(X + i * cols, acts + i * astride, Int64(cols))
                    }
                }
            }
            pool.run { t in
                let r = ThreadPool.split(m.rows, parts: parts, index: t, align: 16)
                if r.isEmpty { return }
                loza_gemm(m.type, m.data, m.rowBytes, Int64(r.lowerBound), Int64(r.upperBound), Int64(cols),
                          acts, astride, Int64(T), Y, Int64(m.rows), scratch + t * sstride)
            }
            return
        }
        let W = wF32.pointer
        pool.run { t in
            let r = ThreadPool.split(m.rows, parts: parts, index: t, align: 16)
            if r.isEmpty { return }
            for row in r {
                loza_dequantize_row(m.type, m.row(row), W + row * m.cols, Int64(m.cols))
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(r.count), Int32(m.cols),
                        1, X, Int32(m.cols), W + r.lowerBound * m.cols, Int32(m.cols),
                        0, Y + r.lowerBound, Int32(m.rows))
        }
    }

    /// Attention of a batch of queries (positions position ..< position+T, in bQ) over their visible
    /// keys, blocked (never a T x T matrix); output in bAtt.
    private func attendBatch(layer: Int, position: Int, count T: Int, cache: KVCache) {
        attention.prefill(Q: bQ.pointer, out: bAtt.pointer, layer: layer, position: position, count: T, cache: cache)
    }
}
