import CKernels
import Foundation

/// The attention mass SSA would drop (LoZA calibration, Docs/ARCHITECTURE.md, LoZA): for a layer running full
/// attention, the softmax mass its queries put on keys outside the sink + last-L blocks, i.e. on keys
/// the SSA rule would hide, averaged over heads and over the queries at positions >= `from` (every
/// `stride`-th one). Measured from the real queries of a prefill (Forward.queryProbe) against the
/// layer's dense K cache, so it is exact for the plan being run: layers already sparse are skipped,
/// and the mass of the others reflects the sparse layers before them. Per KV head too (`headMass`: the
/// mean over the query heads of its GQA group), for per-head plans; a layer whose heads are partly
/// sparse is measured on its full heads only. It lives in the engine because it
/// reads the KV cache and the forward pass's query probe; the calibration itself is LoZACalibration's.
public final class DroppedMassMeter {
    let blockSize: Int, sinkBlocks: Int, localBlocks: Int
    let from: Int, stride: Int
    /// Per layer: sum of masses and number of (query, head) pairs.
    private(set) var sum: [Double]
    private(set) var pairs: [Int]
    /// Per (layer, KV head), index layer * kvHeads + head: sum of masses and (query, head) pairs.
    private(set) var headSum: [Double] = []
    private(set) var headPairs: [Int] = []
    private(set) var kvHeads = 0
    private var scratch: [UnsafeMutablePointer<Float>] = []
    private var scratchLength = 0

    /// When set, only the queries at these positions are measured (`from` and `stride` are ignored):
    /// per-head calibration measures the queries that recall planted passkeys.
    let queries: Set<Int>?
    /// Query position -> the earlier position whose token the query's next token copies (a planted
    /// key's digit): the meter also sums, per (layer, KV head), the attention the query puts there
    /// when SSA would hide it (the most any query head of the group puts: a KV head serves them all).
    let copySources: [Int: Int]
    private(set) var copySum: [Double] = []
    private(set) var copyPairs: [Int] = []

    public init(layers: Int, blockSize: Int, sinkBlocks: Int, localBlocks: Int, from: Int, stride: Int,
                queries: Set<Int>? = nil, copySources: [Int: Int] = [:]) {
        self.blockSize = blockSize; self.sinkBlocks = sinkBlocks; self.localBlocks = localBlocks
        self.from = from; self.stride = max(1, stride); self.queries = queries; self.copySources = copySources
        sum = Array(repeating: 0, count: layers)
        pairs = Array(repeating: 0, count: layers)
    }

    deinit { for p in scratch { p.deallocate() } }

    /// Mean dropped mass of each layer measured (nil for layers not measured).
    public var mass: [Int: Double] { Self.means(sum, pairs) }

    /// Mean dropped mass of each (layer, KV head) measured, keyed layer * kvHeads + head.
    public var headMass: [Int: Double] { Self.means(headSum, headPairs) }

    /// Mean copy mass of each (layer, KV head) measured (queries with a copy source SSA would hide),
    /// keyed layer * kvHeads + head: the retrieval-head score of Wu et al. (2024), in its soft form.
    public var headCopyMass: [Int: Double] { Self.means(copySum, copyPairs) }

    /// How many queries each (layer, KV head)'s copy mass is the mean of (its weight across sequences).
    public var headCopyQueries: [Int: Int] {
        Dictionary(uniqueKeysWithValues: copyPairs.indices.filter { copyPairs[$0] > 0 }.map { ($0, copyPairs[$0]) })
    }

    /// sum[i] / n[i] for each i measured at least once.
    private static func means(_ sum: [Double], _ n: [Int]) -> [Int: Double] {
        Dictionary(uniqueKeysWithValues: sum.indices.filter { n[$0] > 0 }.map { ($0, sum[$0] / Double(n[$0])) })
    }

    /// Measure every full-attention KV head of `session` during its next prefills.
    public func install(on session: Session) {
        let cache = session.cache, pool = session.pool, c = session.model.config
        let dense = cache.layouts.map { $0 is FullKVLayout }
        if kvHeads != cache.kvHeads {
            kvHeads = cache.kvHeads
            headSum = Array(repeating: 0, count: sum.count * kvHeads)
            headPairs = Array(repeating: 0, count: sum.count * kvHeads)
            copySum = Array(repeating: 0, count: sum.count * kvHeads)
            copyPairs = Array(repeating: 0, count: sum.count * kvHeads)
        }
        session.forward.queryProbe = { [unowned self] layer, position, count, q in
            let layerDense = Array(dense[layer * cache.kvHeads ..< (layer + 1) * cache.kvHeads])
            guard layerDense.contains(true) else { return }
            self.measure(layer: layer, position: position, count: count, q: q, cache: cache, pool: pool,
                         heads: c.headCount, qDim: c.qDim, dense: layerDense)
        }
    }

    private func measure(layer: Int, position: Int, count T: Int, q: UnsafePointer<Float>, cache: KVCache,
                         pool: ThreadPool, heads: Int, qDim: Int, dense: [Bool]) {
        let B = blockSize, sinkEnd = sinkBlocks * blockSize
        let rows = (0..<T).filter {
            if let queries { return queries.contains(position + $0) }
            return position + $0 >= from && (position + $0 - from) % stride == 0
        }
        guard !rows.isEmpty else { return }
        let need = position + T
        if scratch.count < pool.count || scratchLength < need {
            for p in scratch { p.deallocate() }
            scratchLength = max(need, 2 * scratchLength)
            scratch = (0..<pool.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: scratchLength) }
        }
        let hd = cache.headDim, groups = heads / cache.kvHeads
        let scale = 1 / sqrtf(Float(hd))
        let parts = pool.count
        let kv = cache.kvHeads
        // Per thread: the total, then one sum and one count per KV head.
        var partial = [Double](repeating: 0, count: parts * (1 + 2 * kv))
        let items = rows.count * heads
        // Copy mass of each (row, query head) whose source SSA would hide (-1: none); disjoint writes.
        let sources = rows.map { r -> Int in
            guard let s = copySources[position + r] else { return -1 }
            let lo = max(sinkBlocks, (position + r) / B - (localBlocks - 1)) * B
            return s >= sinkEnd && s < lo ? s : -1
        }
        var copy = [Double](repeating: -1, count: items)
        let L = localBlocks, sinkB = sinkBlocks
        let scr = scratch
        copy.withUnsafeMutableBufferPointer { copyB in
        let copyP = copyB.baseAddress!
        sources.withUnsafeBufferPointer { srcP in
        partial.withUnsafeMutableBufferPointer { out in
            let outP = out.baseAddress!
            rows.withUnsafeBufferPointer { rowsP in
                dense.withUnsafeBufferPointer { denseP in
                pool.run { t in
                    let sc = scr[t]
                    let mine = outP + t * (1 + 2 * kv)
                    var acc = 0.0
                    for item in ThreadPool.split(items, parts: parts, index: t) {
                        let i = rowsP[item / heads], h = item % heads, g = h / groups
                        guard denseP[g] else { continue }
                        let p = position + i
                        let lo = max(sinkB, p / B - (L - 1)) * B  // first visible key after the sink
                        let qh = q + i * qDim + h * hd
                        let kBase = cache.key(layer, head: h / groups, slot: 0)
                        var m = -Float.infinity
                        for s in 0...p {
                            let x = loza_dot_f16_f32(kBase + s * hd, qh, Int64(hd)) * scale
                            sc[s] = x
                            if x > m { m = x }
                        }
                        var all = 0.0, hidden = 0.0
                        for s in 0...p {
                            let e = Double(expf(sc[s] - m))
                            all += e
                            if s >= sinkEnd && s < lo { hidden += e }
                        }
                        acc += hidden / all
                        mine[1 + 2 * g] += hidden / all
                        mine[2 + 2 * g] += 1
                        let src = srcP[item / heads]
                        if src >= 0 { copyP[item] = Double(expf(sc[src] - m)) / all }
                    }
                    mine[0] = acc
                }
                }
            }
        }
        }
        }
        let stride1 = 1 + 2 * kv
        var total = 0.0, measured = 0
        for t in 0..<parts {
            total += partial[t * stride1]
            for g in 0..<kv {
                headSum[layer * kv + g] += partial[t * stride1 + 1 + 2 * g]
                let n = Int(partial[t * stride1 + 2 + 2 * g])
                headPairs[layer * kv + g] += n
                measured += n
            }
        }
        sum[layer] += total
        pairs[layer] += measured
        for r in rows.indices where sources[r] >= 0 {
            for g in 0..<kv where dense[g] {
                let most = (g * groups ..< (g + 1) * groups).map { copy[r * heads + $0] }.max() ?? 0
                copySum[layer * kv + g] += max(0, most)
                copyPairs[layer * kv + g] += 1
            }
        }
    }
}
