import Engine
@testable import LoZACalibration
import Testing

/// The layer ranking of LoZA calibration: rank of the NLL increase + rank of the dropped attention mass
/// (+ a weight times the rank of the passkey NLL increase), ties to the smaller NLL increase.
struct RankTests {
    @Test func rankSumsNLLAndMassRanks() {
        typealias S = LoZAPlanFile.LayerScore
        let r = LoZACalibrator.rank([S(layer: 0, delta_nll: 0.010, dropped_mass: 0.01),
                                     S(layer: 1, delta_nll: -0.002, dropped_mass: 0.35),
                                     S(layer: 2, delta_nll: 0.001, dropped_mass: 0.02),
                                     S(layer: 3, delta_nll: 0.050, dropped_mass: 0.30)])
        #expect(r.map(\.layer) == [2, 0, 1, 3])
        #expect(r.map { $0.rank_sum! } == [2, 2, 3, 5])
    }

    @Test func passkeyWeightAddsThePasskeyRank() {
        typealias S = LoZAPlanFile.LayerScore
        let scores = [S(layer: 0, delta_nll: 0.001, delta_nll_passkey: 0.30, dropped_mass: 0.01),
                      S(layer: 1, delta_nll: 0.002, delta_nll_passkey: 0.00, dropped_mass: 0.02),
                      S(layer: 2, delta_nll: 0.003, delta_nll_passkey: 0.01, dropped_mass: 0.03)]
        #expect(LoZACalibrator.rank(scores).map(\.layer) == [0, 1, 2])
        let r = LoZACalibrator.rank(scores, passkeyWeight: 2)
        // layer 1: 1 + 1 + 2x0, layer 0: 0 + 0 + 2x2, layer 2: 2 + 2 + 2x1
        #expect(r.map(\.layer) == [1, 0, 2])
        #expect(r.map { $0.rank_sum! } == [2, 4, 6])
    }
}
