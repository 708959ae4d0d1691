import CKernels
import Foundation

/// The attention mass SSA would drop (LoZA calibration, Docs/ARCHITECTURE.md, LoZA): for a layer running full
/// attention, the softmax mass its queries put on keys outside the sink + last-L blocks, i.e. on keys
/// the SSA rule would hide, averaged over heads and over the queries at positions >= `from` (every
/// `stride`-th one). Measured from the real queries of a prefill (Forward.queryProbe) against the
/// layer's dense K cache, so it is exact for the plan being run: layers already sparse are skipped,
/// and the mass of the others reflects the sparse layers before them. It lives in the engine because it
/// reads the KV cache and the forward pass's query probe; the calibration itself is LoZACalibration's.
public final class DroppedMassMeter {
    let blockSize: Int, sinkBlocks: Int, localBlocks: Int
    let from: Int, stride: Int
    /// Per layer: sum of masses and number of (query, head) pairs.
    private(set) var sum: [Double]
    private(set) var pairs: [Int]
    private var scratch: [UnsafeMutablePointer<Float>] = []
    private var scratchLength = 0

    public init(layers: Int, blockSize: Int, sinkBlocks: Int, localBlocks: Int, from: Int, stride: Int) {
        self.blockSize = blockSize; self.sinkBlocks = sinkBlocks; self.localBlocks = localBlocks
        self.from = from; self.stride = max(1, stride)
        sum = Array(repeating: 0, count: layers)
        pairs = Array(repeating: 0, count: layers)
    }

    deinit { for p in scratch { p.deallocate() } }

    /// Mean dropped mass of each layer measured (nil for layers not measured).
    public var mass: [Int: Double] {
        var m: [Int: Double] = [:]
        for l in 0..<sum.count where pairs[l] > 0 { m[l] = sum[l] / Double(pairs[l]) }
        return m
    }

    /// Measure every full-attention layer of `session` during its next prefills.
    public func install(on session: Session) {
        let cache = session.cache, pool = session.pool, c = session.model.config
        let dense = cache.layouts.map { $0 is FullKVLayout }
        session.forward.queryProbe = { [unowned self] layer, position, count, q in
            guard dense[layer] else { return }
            self.measure(layer: layer, position: position, count: count, q: q, cache: cache, pool: pool,
                         heads: c.headCount, qDim: c.qDim)
        }
    }

    private func measure(layer: Int, position: Int, count T: Int, q: UnsafePointer<Float>, cache: KVCache,
                         pool: ThreadPool, heads: Int, qDim: Int) {
        let B = blockSize, sinkEnd = sinkBlocks * blockSize
        let rows = (0..<T).filter { position + $0 >= from && (position + $0 - from) % stride == 0 }
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
        var partial = [Double](repeating: 0, count: parts)
        let items = rows.count * heads
        let L = localBlocks, sinkB = sinkBlocks
        let scr = scratch
        partial.withUnsafeMutableBufferPointer { out in
            let outP = out.baseAddress!
            rows.withUnsafeBufferPointer { rowsP in
                pool.run { t in
                    let sc = scr[t]
                    var acc = 0.0
                    for item in ThreadPool.split(items, parts: parts, index: t) {
                        let i = rowsP[item / heads], h = item % heads
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
                    }
                    outP[t] = acc
                }
            }
        }
        sum[layer] += partial.reduce(0, +)
        pairs[layer] += items
    }
}
