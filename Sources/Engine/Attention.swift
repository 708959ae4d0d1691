import CBLAS
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Attention over the f16 KV cache, for decode (one query) and prefill (a batch of queries).
///
/// Decode: the visible keys of one KV head (its layout's spans) are cut into chunks of
/// `decodeChunk` keys by their index in the visible sequence; each (GQA group, chunk) item is one
/// `loza_attn_partial` call (scores of all heads of the group per key read, softmax, weighted V sum,
/// unnormalized), items split across the pool, then `loza_attn_merge` combines each group's chunks
/// in chunk order (flash-decoding). When the groups divide evenly among the threads (2 KV heads on 2
/// threads), each thread takes whole groups and merges them in the same pool job (one pool round trip
/// per layer instead of two). Chunk boundaries do not depend on the thread count or on how the keys
/// are cut into spans, so the output bits depend on neither.
///
/// Prefill: for a tile of `queryTile` queries and one group, the stacked queries of all heads of the
/// group ([tile * G][head_dim]) go through the key tiles (`keyTile` positions, aligned to absolute
/// multiples) that any query of the tile sees: the tile's K/V are converted to f32 scratch, S = Q K^T
/// and O += P V by single-threaded SGEMM, with an online (running max) softmax between; the mask is
/// applied only in tiles some query sees partly (the diagonal, sparse-window edges). Sparse heads
/// visit only the sink and window tiles; each group follows its own KV head's layout. Items (query tile, group) go to threads round robin.
/// All scratch is sized up front (`reserve`); nothing is allocated per token.
final class Attention {
    let config: ModelConfig
    let pool: ThreadPool
    let maxBatch: Int

    static let decodeChunk = 512
    static let queryTile = 64
    static let keyTile = 64

    private let groupSize: Int       // query heads per KV head
    private let scale: Float

    // Decode scratch.
    private var spans: UnsafeMutablePointer<loza_kv_span>   // [kv_heads][4]
    private var groupSpans, groupKeys, groupChunks, groupFirst: UnsafeMutablePointer<Int>  // [kv_heads] each
    private var work = FloatBuffer(1)                        // [threads][workStride]
    private var workStride = 0
    private var partM = FloatBuffer(1), partL = FloatBuffer(1), partO = FloatBuffer(1)
    private var chunkCapacity = 0

    // Prefill scratch, per thread.
    private var tileQ = FloatBuffer(1), tileS = FloatBuffer(1), tileO = FloatBuffer(1)
    private var tileM = FloatBuffer(1), tileL = FloatBuffer(1), tileK = FloatBuffer(1), tileV = FloatBuffer(1)
    private var tileSpans: UnsafeMutablePointer<KeySpans>    // [threads][queryTile]
    private var prefillReady = false

    init(config: ModelConfig, pool: ThreadPool, maxBatch: Int) {
        self.config = config
        self.pool = pool
        self.maxBatch = maxBatch
        groupSize = config.headCount / config.kvHeadCount
        scale = 1 / sqrtf(Float(config.headDim))
        spans = .allocate(capacity: config.kvHeadCount * 4)
        groupSpans = .allocate(capacity: config.kvHeadCount); groupKeys = .allocate(capacity: config.kvHeadCount)
        groupChunks = .allocate(capacity: config.kvHeadCount); groupFirst = .allocate(capacity: config.kvHeadCount)
        tileSpans = .allocate(capacity: pool.count * Attention.queryTile)
        tileSpans.initialize(repeating: KeySpans(), count: pool.count * Attention.queryTile)
        workStride = Int(loza_attn_partial_work(Int64(groupSize), Int64(config.headDim), Int64(Attention.decodeChunk)))
        work.ensure(workStride * pool.count)
    }

    deinit {
        spans.deallocate()
        for p in [groupSpans, groupKeys, groupChunks, groupFirst] { p.deallocate() }
        tileSpans.deallocate()
        for b in [work, partM, partL, partO, tileQ, tileS, tileO, tileM, tileL, tileK, tileV] { b.free() }
    }

    /// Make room for queries that see up to `keys` keys (called when the cache grows, not per token).
    func reserve(keys: Int) {
        let chunks = (keys + Attention.decodeChunk - 1) / Attention.decodeChunk
        guard chunks > chunkCapacity else { return }
        chunkCapacity = max(chunks, chunkCapacity * 2, 4)
        let n = config.kvHeadCount * chunkCapacity * groupSize
        partM.ensure(n); partL.ensure(n); partO.ensure(n * config.headDim)
    }

    private func preparePrefill() {
        guard !prefillReady else { return }
        let rows = Attention.queryTile * groupSize, hd = config.headDim, p = pool.count
        tileQ.ensure(p * rows * hd); tileO.ensure(p * rows * hd)
        tileS.ensure(p * rows * Attention.keyTile)
        tileM.ensure(p * rows); tileL.ensure(p * rows)
        tileK.ensure(p * Attention.keyTile * hd); tileV.ensure(p * Attention.keyTile * hd)
        prefillReady = true
    }

    // MARK: - decode

    /// Attention of one query (q: [n_head][head_dim]) at `position` over the keys its layer's layouts
    /// allow (each KV head its own, for a per-head plan); output in `out` ([n_head][head_dim]).
    func decode(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, layer: Int, position: Int, cache: KVCache) {
        let c = config, hd = c.headDim, G = groupSize, groups = c.kvHeadCount
        let chunk = Attention.decodeChunk
        // Per group: its spans, visible keys, chunk count and first chunk's index among all items.
        let gSpans = groupSpans, gKeys = groupKeys, gChunks = groupChunks, gFirst = groupFirst
        var items = 0, mostKeys = 0, sameChunks = true
        for g in 0..<groups {
            let ks = cache.layout(layer, head: g).keySpans(forQuery: position)
            let nk = ks.keyCount
            for si in 0..<ks.count {
                let s = ks[si]
                spans[g * 4 + si] = loza_kv_span(k: cache.key(layer, head: g, slot: s.slot),
                                                 v: cache.value(layer, head: g, slot: s.slot), count: Int64(s.count))
            }
            gSpans[g] = ks.count
            gKeys[g] = nk
            gChunks[g] = max(1, (nk + chunk - 1) / chunk)
            gFirst[g] = items
            items += gChunks[g]
            mostKeys = max(mostKeys, nk)
            if gChunks[g] != gChunks[0] { sameChunks = false }
        }
        reserve(keys: mostKeys)
        let spans = self.spans, work = self.work.pointer, stride = workStride
        let pm = partM.pointer, pl = partL.pointer, po = partO.pointer, parts = pool.count, scale = self.scale
        // When every group has as many chunks and the groups divide evenly among the threads, the item
        // split cuts at group boundaries: each thread then merges the groups whose chunks it computed,
        // in the same job.
        let fused = sameChunks && groups % parts == 0
        pool.run { t in
            var g = 0
            for item in ThreadPool.split(items, parts: parts, index: t) {
                while item >= gFirst[g] + gChunks[g] { g += 1 }
                let ci = item - gFirst[g], nk = gKeys[g]
                let j0 = ci * chunk, j1 = min(nk, j0 + chunk)
                let p = item * G
                loza_attn_partial(q + g * G * hd, Int64(G), Int64(hd), scale, spans + g * 4, Int64(gSpans[g]),
                                  Int64(j0), Int64(j1), work + t * stride, pm + p, pl + p, po + p * hd)
            }
            if fused {
                for g in ThreadPool.split(groups, parts: parts, index: t) {
                    let p = gFirst[g] * G
                    loza_attn_merge(Int64(G), Int64(hd), Int64(gChunks[g]), pm + p, pl + p, po + p * hd, out + g * G * hd)
                }
            }
        }
        if fused { return }
        pool.run { t in
            for g in ThreadPool.split(groups, parts: parts, index: t) {
                let p = gFirst[g] * G
                loza_attn_merge(Int64(G), Int64(hd), Int64(gChunks[g]), pm + p, pl + p, po + p * hd, out + g * G * hd)
            }
        }
    }

    // MARK: - prefill

    /// Attention of a batch of queries (positions position ..< position+T; Q: [T][n_head*head_dim])
    /// over their visible keys (the batch's own K/V already stored); output in `out` (same shape as Q).
    func prefill(Q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, layer: Int, position: Int, count T: Int,
                 cache: KVCache) {
        preparePrefill()
        let c = config, hd = c.headDim, G = groupSize, qDim = c.qDim
        let TQ = Attention.queryTile, KT = Attention.keyTile, rowsMax = TQ * G
        let tiles = (T + TQ - 1) / TQ
        let items = tiles * c.kvHeadCount
        let parts = pool.count, scale = self.scale
        let tQ = tileQ.pointer, tS = tileS.pointer, tO = tileO.pointer, tM = tileM.pointer, tL = tileL.pointer
        let tK = tileK.pointer, tV = tileV.pointer, tSpans = tileSpans
        pool.run { t in
            let Qs = tQ + t * rowsMax * hd, S = tS + t * rowsMax * KT, O = tO + t * rowsMax * hd
            let M = tM + t * rowsMax, L = tL + t * rowsMax
            let Kf = tK + t * KT * hd, Vf = tV + t * KT * hd
            let qs = tSpans + t * TQ
            var item = t
            while item < items {
                defer { item += parts }
                let qt = item / c.kvHeadCount, g = item % c.kvHeadCount
                let first = qt * TQ, tq = min(TQ, T - first)
                let qa = position + first, last = qa + tq - 1
                let rows = tq * G
                let layout = cache.layout(layer, head: g)
                for i in 0..<tq {
                    qs[i] = layout.keySpans(forQuery: qa + i)
                    for h in 0..<G {
                        let src = Q + (first + i) * qDim + (g * G + h) * hd
                        let dst = Qs + (i * G + h) * hd
                        for d in 0..<hd { dst[d] = src[d] * scale }
                    }
                }
                for r in 0..<rows { M[r] = -Float.infinity; L[r] = 0 }
                O.update(repeating: 0, count: rows * hd)
                for kt in 0...(last / KT) {
                    let ka = kt * KT, kb = min(ka + KT, last + 1), nkt = kb - ka
                    // Which queries see which of these keys: none (skip), all (no mask), or some.
                    var any = false, full = true
                    for i in 0..<tq {
                        let cov = Attention.overlap(qs[i], ka, kb)
                        if cov > 0 { any = true }
                        if cov != nkt { full = false }
                    }
                    if !any { continue }
                    for j in 0..<nkt {
                        let pos = ka + j
                        var seen = full
                        if !seen { for i in 0..<tq where Attention.sees(qs[i], pos) { seen = true; break } }
                        if seen {
                            let slot = layout.slot(forPosition: pos)
                            loza_dequantize_row(Int32(LOZA_TYPE_F16.rawValue), cache.key(layer, head: g, slot: slot), Kf + j * hd, Int64(hd))
                            loza_dequantize_row(Int32(LOZA_TYPE_F16.rawValue), cache.value(layer, head: g, slot: slot), Vf + j * hd, Int64(hd))
                        } else {
                            (Kf + j * hd).update(repeating: 0, count: hd)
                            (Vf + j * hd).update(repeating: 0, count: hd)
                        }
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(nkt), Int32(hd),
                                1, Qs, Int32(hd), Kf, Int32(hd), 0, S, Int32(KT))
                    if !full {
                        for i in 0..<tq {
                            let s = qs[i]
                            for j in 0..<nkt where !Attention.sees(s, ka + j) {
                                for h in 0..<G { S[(i * G + h) * KT + j] = -Float.infinity }
                            }
                        }
                    }
                    loza_attn_softmax_tile(S, Int64(rows), Int64(nkt), Int64(KT), M, L, O, Int64(hd), Int64(hd))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(nkt),
                                1, S, Int32(KT), Vf, Int32(hd), 1, O, Int32(hd))
                }
                for i in 0..<tq {
                    for h in 0..<G {
                        let r = i * G + h
                        let inv = L[r] > 0 ? 1 / L[r] : 0
                        let src = O + r * hd, dst = out + (first + i) * qDim + (g * G + h) * hd
                        for d in 0..<hd { dst[d] = src[d] * inv }
                    }
                }
            }
        }
    }

    /// Keys of [ka, kb) the query with spans `s` sees.
    @inline(__always)
    static func overlap(_ s: KeySpans, _ ka: Int, _ kb: Int) -> Int {
        var n = 0
        for i in 0..<s.count {
            let sp = s[i]
            let lo = max(ka, sp.start), hi = min(kb, sp.start + sp.count)
            if hi > lo { n += hi - lo }
        }
        return n
    }

    @inline(__always)
    static func sees(_ s: KeySpans, _ pos: Int) -> Bool {
        for i in 0..<s.count {
            let sp = s[i]
            if pos >= sp.start && pos < sp.start + sp.count { return true }
        }
        return false
    }
}

/// The straightforward attention of one head (a C call per key, libm expf), kept as the reference the
/// kernels are tested against: softmax(q . K^T * scale) . V over the key spans, K/V in f16.
func referenceAttendOne(query q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, layer: Int, kvHead: Int,
                        spans: KeySpans, cache: KVCache, scores: UnsafeMutablePointer<Float>, scale: Float) {
    let hd = cache.headDim
    let n = Int64(hd)
    var maxScore = -Float.infinity
    var idx = 0
    for si in 0..<spans.count {
        let span = spans[si]
        let kBase = cache.key(layer, head: kvHead, slot: span.slot)
        for j in 0..<span.count {
            let s = loza_dot_f16_f32(kBase + j * hd, q, n) * scale
            scores[idx] = s
            if s > maxScore { maxScore = s }
            idx += 1
        }
    }
    var sum: Float = 0
    for j in 0..<idx {
        let e = expf(scores[j] - maxScore)
        scores[j] = e
        sum += e
    }
    out.update(repeating: 0, count: hd)
    idx = 0
    for si in 0..<spans.count {
        let span = spans[si]
        let vBase = cache.value(layer, head: kvHead, slot: span.slot)
        for j in 0..<span.count {
            loza_axpy_f16(scores[idx], vBase + j * hd, out, n)
            idx += 1
        }
    }
    let inv = 1 / sum
    for i in 0..<hd { out[i] *= inv }
}
