@testable import Engine
import CKernels
import Testing

/// Decode and prefill attention (Attention.swift: chunked GQA-group kernel, blocked SGEMM prefill)
/// against the straightforward per-key reference (`referenceAttendOne`), on random f16 caches with a
/// dense layout, with sparse layouts whose ring wraps, and with per-head layers (each KV head its own
/// layout); outputs within 1e-5 of max |v|, and the
/// same bits at 1, 2 and 3 threads.
@Suite(.serialized)
struct AttentionTests {
    static func config(heads: Int, kvHeads: Int, headDim: Int) -> ModelConfig {
        ModelConfig(architecture: "llama", embeddingLength: heads * headDim, layerCount: 1, headCount: heads,
                    kvHeadCount: kvHeads, headDim: headDim, feedForwardLength: 8, ropeDimensions: headDim,
                    ropeBase: 10000, ropeStyle: .halfSplit, rmsEpsilon: 1e-6, contextLength: 4096,
                    vocabSize: 8, tiedOutput: true, qkvBias: false)
    }

    static let modes: [AttentionPlan.Mode] = [
        .full,
        .sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2),      // ring of 4 blocks: wraps every 16 positions
        .sparse(blockSize: 16, sinkBlocks: 2, localBlocks: 3),
        .sparse(blockSize: 128, sinkBlocks: 1, localBlocks: 7),
    ]

    struct Setup: CustomTestStringConvertible, Sendable {
        var mode: AttentionPlan.Mode
        var heads: Int, kvHeads: Int, headDim: Int
        var length: Int      // positions before the batch
        var batch: Int       // queries of the prefill batch (1 = decode)
        var testDescription: String { "\(mode) \(heads)/\(kvHeads)x\(headDim) at \(length)+\(batch)" }
    }

    /// Per-head layers: a full head beside sparse ones (their chunk counts differ, so decode cannot
    /// cut the items at group boundaries), and every head sparse with different rules.
    static let sparseTiny = AttentionPlan.Mode.sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2)
    static let perHeadSetups: [Setup] = [
        Setup(mode: .heads([.full, sparseTiny]), heads: 14, kvHeads: 2, headDim: 64, length: 1200, batch: 1),
        Setup(mode: .heads([sparseTiny, .full]), heads: 14, kvHeads: 2, headDim: 64, length: 1100, batch: 150),
        Setup(mode: .heads([.full, .sparseDefault]), heads: 4, kvHeads: 2, headDim: 72, length: 300, batch: 9),
        Setup(mode: .heads([.sparse(blockSize: 16, sinkBlocks: 2, localBlocks: 3), .full, sparseTiny]),
              heads: 9, kvHeads: 3, headDim: 64, length: 700, batch: 1),
        Setup(mode: .heads([.sparse(blockSize: 16, sinkBlocks: 2, localBlocks: 3), .full, sparseTiny]),
              heads: 9, kvHeads: 3, headDim: 64, length: 37, batch: 70),
        Setup(mode: .heads([sparseTiny, .sparseDefault, sparseTiny]), heads: 9, kvHeads: 3, headDim: 64, length: 1300, batch: 1),
    ]

    static let setups: [Setup] = perHeadSetups + modes.flatMap { mode in [
        Setup(mode: mode, heads: 14, kvHeads: 2, headDim: 64, length: 1200, batch: 1),
        Setup(mode: mode, heads: 9, kvHeads: 3, headDim: 64, length: 37, batch: 1),
        Setup(mode: mode, heads: 14, kvHeads: 2, headDim: 64, length: 1100, batch: 150),
        Setup(mode: mode, heads: 9, kvHeads: 3, headDim: 64, length: 0, batch: 70),
        Setup(mode: mode, heads: 4, kvHeads: 2, headDim: 72, length: 300, batch: 9),
    ] }

    /// Runs attention of the batch at `threads`, returns (output, reference output, max |v|).
    static func run(_ s: Setup, threads: Int) -> ([Float], [Float], Float) {
        let c = config(heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim)
        let cache = KVCache(config: c, plan: AttentionPlan(layers: [s.mode]), initialLength: 16)
        var batch = s.batch
        for layout in cache.layouts { batch = min(batch, layout.maxBatch(at: s.length)) }
        let total = s.length + batch
        cache.reserve(length: total)
        var rng = Xoshiro256(seed: UInt64(s.heads * 1000 + s.length + s.batch))
        func values(_ n: Int, _ scale: Float) -> [Float] {
            (0..<n).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
        }
        var vmax: Float = 0
        for p in 0..<total {
            let k = values(c.kvDim, 3), v = values(c.kvDim, 1)
            for x in v { vmax = max(vmax, abs(x)) }
            cache.store(layer: 0, position: p, k: k, v: v)
        }
        cache.setLength(total)
        let q = values(batch * c.qDim, 1)
        var out = [Float](repeating: .nan, count: batch * c.qDim)
        let pool = ThreadPool(threads: threads)
        let attention = Attention(config: c, pool: pool, maxBatch: 512)
        attention.reserve(keys: total)
        q.withUnsafeBufferPointer { qb in
            out.withUnsafeMutableBufferPointer { ob in
                if batch == 1 {
                    attention.decode(q: qb.baseAddress!, out: ob.baseAddress!, layer: 0, position: s.length, cache: cache)
                } else {
                    attention.prefill(Q: qb.baseAddress!, out: ob.baseAddress!, layer: 0, position: s.length, count: batch, cache: cache)
                }
            }
        }
        var want = [Float](repeating: .nan, count: batch * c.qDim)
        var scores = [Float](repeating: 0, count: total)
        let group = c.headCount / c.kvHeadCount
        for i in 0..<batch {
            for h in 0..<c.headCount {
                // Each query head sees what its KV head's layout shows it.
                let spans = cache.layout(0, head: h / group).keySpans(forQuery: s.length + i)
                q.withUnsafeBufferPointer { qb in
                    want.withUnsafeMutableBufferPointer { wb in
                        referenceAttendOne(query: qb.baseAddress! + i * c.qDim + h * c.headDim,
                                           out: wb.baseAddress! + i * c.qDim + h * c.headDim, layer: 0,
                                           kvHead: h / group, spans: spans, cache: cache, scores: &scores,
                                           scale: 1 / Float(c.headDim).squareRoot())
                    }
                }
            }
        }
        return (out, want, vmax)
    }

    @Test(arguments: setups)
    func matchesReference(setup: Setup) {
        let (got, want, vmax) = Self.run(setup, threads: 2)
        var worst: Float = 0
        for i in 0..<got.count { worst = max(worst, abs(got[i] - want[i])) }
        #expect(worst <= 1e-5 * vmax, "\(setup): largest difference \(worst) (max |v| \(vmax))")
        #expect(!got.contains { $0.isNaN })
        for threads in [1, 3] {
            let other = Self.run(setup, threads: threads).0
            #expect(other.map(\.bitPattern) == got.map(\.bitPattern), "\(setup): \(threads) threads differ from 2")
        }
    }
}
