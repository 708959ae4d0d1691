import Engine
import LoZACalibration
import TestSupport
import Testing

/// Per-head calibration on a tiny 3-layer model with 3 KV heads and tiny blocks (B=4, S=1, L=2): each
/// head's recall score is the mass the naive f32 forward pass puts, on the recall queries only, on the
/// keys SSA hides (averaged over the head's query heads and the sequences' queries), and the plan makes
/// exactly the asked number of least-scored heads sparse.
struct HeadCalibratorTests {
    static let mode = AttentionPlan.Mode.sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2)
    static let rule = SparseKVLayout(blockSize: 4, sinkBlocks: 1, localBlocks: 2)

    @Test func scoresAreTheRecallQueriesMassAndThePlanTakesTheLeast() throws {
        let tiny = try TinyModel(arch: "llama", nEmbd: 96, nLayer: 3, nHead: 6, nHeadKV: 3, matrixType: .f32,
                                 tiedOutput: false, seed: 21)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        let seqs = (0..<2).map { k in
            LoZACalibrator.Sequence(tokens: (0..<50).map { Int32(($0 * 31 + 7 + 11 * k) % 80) },
                                    answerTokens: [5, 30, 31, 44 + k])  // 5 is inside the window: not a recall query
        }
        var sum = [Double](repeating: 0, count: 9), n = [Int](repeating: 0, count: 9)
        for seq in seqs {
            let queries = Set(seq.answerTokens.map { $0 - 1 }.filter { $0 >= 12 })
            _ = tiny.referenceLogits(seq.tokens) { layer, p, h, probs in
                guard queries.contains(p) else { return }
                var hidden = 0.0
                for s in 0...p where !Self.rule.isVisible(key: s, query: p) { hidden += Double(probs[s]) }
                sum[layer * 3 + h / 2] += hidden; n[layer * 3 + h / 2] += 1
            }
        }
        let r = try HeadCalibrator(model: model, threads: 2, sequences: seqs, mode: Self.mode).run(sparseHeads: 4)
        #expect(r.recallQueries == 6)
        #expect(r.scores.count == 9)
        for s in r.scores {
            let want = sum[s.layer * 3 + s.head] / Double(n[s.layer * 3 + s.head])
            #expect(abs(s.recallMass - want) < 2e-3, "layer \(s.layer) head \(s.head): \(s.recallMass), reference \(want)")
        }
        #expect(r.scores.contains { $0.recallMass > 0.05 }, "the rule hides real mass from some head")
        let least = r.scores.sorted { $0.recallMass < $1.recallMass }.prefix(4)
        #expect(Set(r.sparse.map { [$0.layer, $0.head] }) == Set(least.map { [$0.layer, $0.head] }))
        #expect(r.plan.sparseHeadCount(kvHeads: 3) == 4)
        for s in r.scores {
            let chosen = r.sparse.contains { $0.layer == s.layer && $0.head == s.head }
            #expect(r.plan.layers[s.layer].mode(ofHead: s.head, kvHeads: 3) == (chosen ? Self.mode : .full))
        }
    }

    /// Copy mass: per recall query with a copy source SSA hides, the most any query head of the group
    /// puts on that source (reference: the naive forward pass); sources inside the window do not count,
    /// and ranking by it makes the heads with the least sparse.
    @Test func copyMassIsTheGroupsMostOnTheHiddenSource() throws {
        let tiny = try TinyModel(arch: "llama", nEmbd: 96, nLayer: 3, nHead: 6, nHeadKV: 3, matrixType: .f32,
                                 tiedOutput: false, seed: 23)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        // Answers 30, 31 copy 6, 7 (hidden from queries 29, 30); 44 copies 40 (inside the window: no copy score).
        let seq = LoZACalibrator.Sequence(tokens: (0..<50).map { Int32(($0 * 29 + 3) % 80) },
                                          answerTokens: [30, 31, 44], answerSources: [30: 6, 31: 7, 44: 40])
        var most = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 50)
        _ = tiny.referenceLogits(seq.tokens) { layer, p, h, probs in
            guard let src = seq.answerSources[p + 1] else { return }
            let i = layer * 3 + h / 2
            most[p][i] = max(most[p][i], Double(probs[src]))
        }
        let r = try HeadCalibrator(model: model, threads: 2, sequences: [seq], mode: Self.mode, criterion: .copy)
            .run(sparseHeads: 5)
        for s in r.scores {
            let i = s.layer * 3 + s.head
            let want = (most[29][i] + most[30][i]) / 2
            #expect(abs(s.copyMass - want) < 2e-3, "layer \(s.layer) head \(s.head): \(s.copyMass), reference \(want)")
        }
        #expect(r.scores.contains { $0.copyMass > 0.02 }, "some head attends to the copied key")
        let least = r.scores.sorted { ($0.copyMass, $0.layer, $0.head) < ($1.copyMass, $1.layer, $1.head) }.prefix(5)
        #expect(Set(r.sparse.map { [$0.layer, $0.head] }) == Set(least.map { [$0.layer, $0.head] }))
        // Across sequences each head's copy mass is the mean over every hidden source: a second copy of
        // the sequence whose answer 44's source lies in the window adds one query (29), not two.
        let half = LoZACalibrator.Sequence(tokens: seq.tokens, answerTokens: [30, 44], answerSources: [30: 6, 44: 40])
        let two = try HeadCalibrator(model: model, threads: 2, sequences: [seq, half], mode: Self.mode, criterion: .copy)
            .run(sparseHeads: 5)
        for s in two.scores {
            let i = s.layer * 3 + s.head
            let want = (2 * most[29][i] + most[30][i]) / 3
            #expect(abs(s.copyMass - want) < 2e-3, "two sequences, layer \(s.layer) head \(s.head): \(s.copyMass), reference \(want)")
        }
        // first-copy: only each answer's first token (30; 31 follows an answer token) counts.
        let first = try HeadCalibrator(model: model, threads: 2, sequences: [seq], mode: Self.mode, criterion: .firstCopy)
            .run(sparseHeads: 5)
        for s in first.scores {
            let want = most[29][s.layer * 3 + s.head]
            #expect(abs(s.copyMass - want) < 2e-3, "first-copy layer \(s.layer) head \(s.head): \(s.copyMass), reference \(want)")
        }
        // Without any hidden copy source the criterion cannot rank and says so.
        let near = LoZACalibrator.Sequence(tokens: seq.tokens, answerTokens: [44], answerSources: [44: 40])
        #expect(throws: EngineError.self) {
            _ = try HeadCalibrator(model: model, threads: 2, sequences: [near], mode: Self.mode, criterion: .copy).run(sparseHeads: 2)
        }
    }

    @Test func planFoldsUniformLayersAndRandomPlansKeepTheBudget() {
        let p = HeadCalibrator.plan(sparse: [0, 1, 3], layers: 3, kvHeads: 2, mode: Self.mode)
        #expect(p.layers == [Self.mode, .heads([.full, Self.mode]), .full])
        #expect(p.planString == "S[FS]F")
        let a = HeadCalibrator.randomPlan(count: 24, layers: 24, kvHeads: 2, mode: .sparseDefault, seed: 9)
        #expect(a.sparseHeadCount(kvHeads: 2) == 24)
        #expect(a == HeadCalibrator.randomPlan(count: 24, layers: 24, kvHeads: 2, mode: .sparseDefault, seed: 9))
        #expect(a != HeadCalibrator.randomPlan(count: 24, layers: 24, kvHeads: 2, mode: .sparseDefault, seed: 10))
    }
}
