@testable import Engine
import TestSupport
import Testing

/// LoZA calibration's dropped attention mass (the engine-side probe): the meter (real queries of a prefill against the dense
/// K cache) against the naive f32 reference forward pass of a tiny model, with tiny blocks so the SSA
/// rule hides keys within a few dozen tokens.
struct DroppedMassTests {
    @Test(arguments: [1, 3])
    func meterMatchesReferenceSoftmax(stride: Int) throws {
        let tiny = try TinyModel(arch: "qwen2", matrixType: .f32, tiedOutput: false, seed: 5)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        let tokens: [Int32] = (0..<48).map { Int32(($0 * 37 + 11) % 80) }
        let (B, S, L, from) = (4, 1, 2, 16)
        let rule = SparseKVLayout(blockSize: B, sinkBlocks: S, localBlocks: L)
        var sum = [Double](repeating: 0, count: tiny.nLayer), n = [Int](repeating: 0, count: tiny.nLayer)
        let kv = tiny.nHeadKV, group = tiny.nHead / tiny.nHeadKV
        var headSum = [Double](repeating: 0, count: tiny.nLayer * kv), headN = [Int](repeating: 0, count: tiny.nLayer * kv)
        _ = tiny.referenceLogits(tokens) { layer, p, h, probs in
            guard p >= from, (p - from) % stride == 0 else { return }
            var hidden = 0.0
            for s in 0...p where !rule.isVisible(key: s, query: p) { hidden += Double(probs[s]) }
            sum[layer] += hidden; n[layer] += 1
            headSum[layer * kv + h / group] += hidden; headN[layer * kv + h / group] += 1
        }
        let session = Session(model: model, threads: 2)
        let meter = DroppedMassMeter(layers: tiny.nLayer, blockSize: B, sinkBlocks: S, localBlocks: L, from: from, stride: stride)
        meter.install(on: session)
        try session.append(Array(tokens[..<20]))  // two prefills: queries past `from` in both
        try session.append(Array(tokens[20...]))
        for l in 0..<tiny.nLayer {
            let want = sum[l] / Double(n[l])
            let got = try #require(meter.mass[l])
            #expect(want > 0.05, "the rule hides real mass in layer \(l)")
            #expect(abs(got - want) < 2e-3, "layer \(l): meter \(got), reference \(want)")
            for g in 0..<kv {
                let i = l * kv + g
                let head = try #require(meter.headMass[i])
                #expect(abs(head - headSum[i] / Double(headN[i])) < 2e-3, "layer \(l) KV head \(g)")
            }
        }
        // A per-head layer is measured on its full heads only.
        let mixed = Session(model: model, threads: 2,
                            plan: AttentionPlan(layers: [.heads([.full, .sparse(blockSize: B, sinkBlocks: S, localBlocks: L)]), .full]))
        let m3 = DroppedMassMeter(layers: tiny.nLayer, blockSize: B, sinkBlocks: S, localBlocks: L, from: from, stride: stride)
        m3.install(on: mixed)
        try mixed.append(tokens)
        #expect(m3.headMass[1] == nil)
        #expect(abs(m3.headMass[0]! - headSum[0] / Double(headN[0])) < 2e-3)
        #expect(abs(m3.mass[0]! - headSum[0] / Double(headN[0])) < 2e-3)
        // A layer already sparse is not measured.
        let sparse = Session(model: model, threads: 2,
                             plan: AttentionPlan(layers: [.full, .sparse(blockSize: B, sinkBlocks: S, localBlocks: L)]))
        let m2 = DroppedMassMeter(layers: tiny.nLayer, blockSize: B, sinkBlocks: S, localBlocks: L, from: from, stride: stride)
        m2.install(on: sparse)
        try sparse.append(tokens)
        #expect(m2.mass[1] == nil)
        #expect(abs(m2.mass[0]! - sum[0] / Double(n[0])) < 2e-3)
    }
}
