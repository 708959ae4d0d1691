import Engine
import Foundation
import LoZACalibration
import TestSupport
import Testing

/// `loza bench --depths` protocol with several sessions in one process (`--compare-full`): every
/// session gets a row per depth, the timelines end where they should, and sharing a thread pool
/// changes no bit.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct DepthBenchmarkTests {
    @Test func sessionsSideBySide() throws {
        let m = try Model(path: RealModels.require(RealModels.smol))
        let n = m.config.layerCount
        let sparse = AttentionPlan(layers: (0..<n).map { $0 % 2 == 0 ? .full : .sparse(blockSize: 16, sinkBlocks: 1, localBlocks: 2) })
        let a = Session(model: m, threads: 2, plan: sparse, batchSize: 32, maxLength: 128, initialCapacity: 128)
        let b = Session(model: m, plan: .full(layerCount: n), batchSize: 32, maxLength: 128, initialCapacity: 128, pool: a.pool)
        #expect(a.pool === b.pool)
        let rows = try DepthBenchmark.run(sessions: [a, b], depths: [96, 48], genTokens: 3, repeats: 3)
        try #require(rows.count == 2)
        for r in rows {
            #expect(r.map(\.depth) == [48, 96])
            for x in r { #expect(x.decodeRuns.count == 3 && x.decodeMsPerToken > 0 && x.prefillSeconds > 0) }
        }
        // Both timelines are back at the deepest depth, with logits of its last token.
        #expect(a.count == 96 && b.count == 96 && a.tokens == b.tokens && a.hasLogits && b.hasLogits)
        // K/V at 96 + 3 positions: the full session holds every one, the sparse layers only sink + ring.
        let perKey = 2 * 2 * m.config.kvHeadCount * m.config.headDim
        #expect(rows[1][1].kvBytes == 99 * n * perKey)
        #expect(rows[0][1].kvBytes == (n / 2) * (99 + 16 * (1 + 2 + 2)) * perKey)
        // The same appends on a session of its own (own pool, no interleaving) give the same logits. (The
        // benchmark leaves each depth with its last token re-run by a decode step.)
        let solo = Session(model: m, threads: 2, plan: sparse, batchSize: 32, maxLength: 128, initialCapacity: 128)
        try solo.append(Array(a.tokens[0..<48]))
        try solo.rewind(to: 47)
        try solo.append([a.tokens[47]])
        try solo.append(Array(a.tokens[48..<96]))
        try solo.rewind(to: 95)
        try solo.append([a.tokens[95]])
        let same = solo.logits.elementsEqual(a.logits) { $0.bitPattern == $1.bitPattern }
        #expect(same)
    }
}
