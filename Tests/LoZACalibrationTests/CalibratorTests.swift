import Engine
import LoZACalibration
import TestSupport
import Testing

/// LoZA calibration end to end on a tiny 6-layer model with tiny blocks (the SSA rule hides keys after
/// a dozen tokens): the greedy run sparsifies the asked ratio, its single-layer round is the NLL change
/// of each layer alone, and reusing that round gives the same plan with fewer evaluations.
struct CalibratorTests {
    static let mode = AttentionPlan.Mode.sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2)

    func calibrator(_ model: Model) -> LoZACalibrator {
        var seqs: [LoZACalibrator.Sequence] = []
        for k in 0..<2 {
            var tokens: [Int32] = []
            for i in 0..<56 { tokens.append(Int32((i * 37 + 11 + 13 * k) % 80)) }
            seqs.append(LoZACalibrator.Sequence(tokens: tokens, answerTokens: [40, 41, 50]))
        }
        return LoZACalibrator(model: model, threads: 2, sequences: seqs, mode: Self.mode) { _ in }
    }

    @Test func greedyRunAndReusedFirstRoundAgree() throws {
        let tiny = try TinyModel(arch: "qwen2", nLayer: 6, matrixType: .f32, tiedOutput: false, seed: 9)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        let cal = calibrator(model)
        let r = try cal.run(ratio: 0.5, rescoreEvery: 1, candidateFactor: 1, passkeyWeight: 1)
        #expect(r.plan.count == 6 && r.plan.filter { $0 == "S" }.count == 3)
        #expect(r.singleLayer.map(\.layer) == Array(0..<6))
        #expect(r.greedyOrder.count == 3)
        for s in r.greedyOrder { #expect(Array(r.plan)[s.layer] == "S") }
        // Round 1 is each layer alone on top of full attention: check one against a direct evaluation.
        let alone = try calibrator(model).evaluate(AttentionPlan(layers: (0..<6).map { $0 == 2 ? Self.mode : .full }))
        let s2 = try #require(r.singleLayer.first { $0.layer == 2 })
        #expect(abs((alone.nll - r.baseline.nll) - s2.delta_nll) < 1e-9)
        #expect(r.baseline.tokens == 2 * (56 - 12 - 1))

        let again = calibrator(model)
        let r2 = try again.run(ratio: 0.5, rescoreEvery: 1, candidateFactor: 1, passkeyWeight: 1, firstRound: r.singleLayer)
        #expect(r2.plan == r.plan)
        #expect(again.evaluations == cal.evaluations - 6)

        #expect(throws: EngineError.self) {
            _ = try calibrator(model).run(ratio: 0.5, rescoreEvery: 1, firstRound: Array(r.singleLayer.prefix(5)))
        }
    }
}
