import Engine
import Foundation

/// Training-free LoZA calibration (Docs/ARCHITECTURE.md, LoZA): score each layer by the increase in NLL of
/// the tokens past position `scoredFrom` when that layer (alone, then on top of the layers already
/// chosen) runs SSA, and by the attention mass SSA would drop in it (DroppedMassMeter); rank by the sum
/// of the two ranks and sparsify greedily the least sensitive layers up to the target ratio,
/// re-scoring as layers are chosen.
///
/// Cost control: positions below (S+L)*B are computed identically under every plan (an SSA layer is
/// exact full attention there), so each sequence's first `scoredFrom` positions are prefilled once with
/// full attention and every evaluation copies that K/V (`Session.adoptTimeline`) and only prefills the
/// rest. Re-scoring happens after every `rescoreEvery` layers chosen, on the `candidateFactor` x (places
/// left) least sensitive remaining layers.
public final class LoZACalibrator {
    public struct Sequence: Sendable {
        public var tokens: [Int32]
        /// Token indices that are planted passkey answers (scored separately as well).
        public var answerTokens: Set<Int>
        /// For answer tokens copied from earlier in the sequence (a planted key), the position copied:
        /// per-head calibration scores heads by the attention they give it.
        public var answerSources: [Int: Int]
        public init(tokens: [Int32], answerTokens: Set<Int>, answerSources: [Int: Int] = [:]) {
            self.tokens = tokens; self.answerTokens = answerTokens; self.answerSources = answerSources
        }
    }

    public struct Score: Sendable {
        public var nll: Double
        public var passkeyNLL: Double
        public var tokens: Int
        /// Dropped attention mass of each full layer of the plan (only when measured).
        public var droppedMass: [Int: Double] = [:]
    }

    let model: Model
    let threads: Int
    let sequences: [Sequence]
    let scoredFrom: Int
    let mode: AttentionPlan.Mode
    let log: (String) -> Void
    private var prefixes: [Session] = []
    public private(set) var evaluations = 0
    /// Dropped attention mass is measured on every `massStride`-th query past `scoredFrom`.
    public var massStride = 4

    public init(model: Model, threads: Int, sequences: [Sequence], mode: AttentionPlan.Mode = .sparseDefault,
                log: @escaping (String) -> Void) {
        self.model = model
        self.threads = threads
        self.sequences = sequences
        self.mode = mode
        if case let .sparse(b, s, l) = mode { scoredFrom = (s + l) * b } else { scoredFrom = 1024 }
        self.log = log
    }

    func plan(_ sparse: Set<Int>) -> AttentionPlan {
        AttentionPlan(layers: (0..<model.config.layerCount).map { sparse.contains($0) ? mode : .full })
    }

    /// Mean NLL of the tokens past `scoredFrom` (all, and the passkey answers) under `plan`.
    public func evaluate(_ plan: AttentionPlan, measureMass: Bool = false) throws(EngineError) -> Score {
        if prefixes.isEmpty {
            for (i, seq) in sequences.enumerated() {
                log("prefilling the shared first \(scoredFrom) positions of sequence \(i + 1)/\(sequences.count)")
                let s = Session(model: model, threads: threads, maxLength: seq.tokens.count, initialCapacity: seq.tokens.count)
                try s.append(Array(seq.tokens[..<scoredFrom]))
                prefixes.append(s)
            }
        }
        var sum = 0.0, n = 0, keySum = 0.0, keyN = 0
        var meter: DroppedMassMeter?
        if measureMass, case let .sparse(b, sk, l) = mode {
            meter = DroppedMassMeter(layers: model.config.layerCount, blockSize: b, sinkBlocks: sk, localBlocks: l,
                                     from: scoredFrom, stride: massStride)
        }
        for (i, seq) in sequences.enumerated() {
            let s = Session(model: model, threads: threads, plan: plan, maxLength: seq.tokens.count,
                            initialCapacity: seq.tokens.count)
            try s.adoptTimeline(of: prefixes[i])
            meter?.install(on: s)
            let nll = try s.appendScoringNLL(Array(seq.tokens[scoredFrom...]), from: scoredFrom)
            for (j, x) in nll.enumerated() {
                sum += x; n += 1
                if seq.answerTokens.contains(scoredFrom + 1 + j) { keySum += x; keyN += 1 }
            }
        }
        evaluations += 1
        return Score(nll: sum / Double(max(n, 1)), passkeyNLL: keySum / Double(max(keyN, 1)), tokens: n,
                     droppedMass: meter?.mass ?? [:])
    }

    public struct Result: Sendable {
        public var plan: String
        public var baseline: Score
        public var final: Score
        public var singleLayer: [LoZAPlanFile.LayerScore]
        public var greedyOrder: [LoZAPlanFile.LayerScore]
        public var rounds: [LoZAPlanFile.Round]
    }

    /// Sensitivity ranking of one round: rank of the NLL increase plus rank of the dropped attention
    /// mass plus `passkeyWeight` x rank of the NLL increase on the planted passkey answers (all
    /// ascending, among the round's candidates); ties go to the smaller NLL increase.
    static func rank(_ scores: [LoZAPlanFile.LayerScore], passkeyWeight: Int = 0) -> [LoZAPlanFile.LayerScore] {
        let byNLL = scores.sorted { ($0.delta_nll, $0.layer) < ($1.delta_nll, $1.layer) }.map(\.layer)
        let byMass = scores.sorted { ($0.dropped_mass ?? 0, $0.layer) < ($1.dropped_mass ?? 0, $1.layer) }.map(\.layer)
        let byKey = scores.sorted { ($0.delta_nll_passkey ?? 0, $0.layer) < ($1.delta_nll_passkey ?? 0, $1.layer) }.map(\.layer)
        var out = scores
        for i in out.indices {
            let l = out[i].layer
            out[i].rank_sum = byNLL.firstIndex(of: l)! + byMass.firstIndex(of: l)! + passkeyWeight * byKey.firstIndex(of: l)!
        }
        return out.sorted { ($0.rank_sum!, $0.delta_nll, $0.layer) < ($1.rank_sum!, $1.delta_nll, $1.layer) }
    }

    /// Greedy calibration (`passkeyWeight`: see `rank`; `firstRound`: the single-layer scores of an
    /// earlier run with the same model, text and settings, used as round 1 instead of re-evaluating it;
    /// it must score every layer exactly once). Round 1 scores every layer alone on top of full attention; each round then
    /// makes the `rescoreEvery` least sensitive layers sparse, evaluates the plan so far (its NLL, and the
    /// dropped mass of every layer still full under it), and re-scores the `candidateFactor` x (places
    /// left) least sensitive remaining layers on top of it, until `ratio` of the layers are sparse.
    public func run(ratio: Double, rescoreEvery: Int, candidateFactor: Double = 2,
                    passkeyWeight: Int = 0, firstRound: [LoZAPlanFile.LayerScore]? = nil) throws(EngineError) -> Result {
        let layers = model.config.layerCount
        if let given = firstRound, given.map(\.layer).sorted() != Array(0..<layers) {
            throw .badPlan(source: "first-round scores", message: "they must score layers 0..<\(layers) once each")
        }
        let target = min(layers, max(0, Int((ratio * Double(layers)).rounded())))
        let t0 = Date()
        let base = try evaluate(plan([]), measureMass: true)
        let perEval = Date().timeIntervalSince(t0)
        log(String(format: "full attention: NLL %.4f over %d tokens (passkey answers %.4f); %.1f s per evaluation",
                   base.nll, base.tokens, base.passkeyNLL, perEval))
        log("dropped attention mass under full attention (queries past \(scoredFrom), every \(massStride)th): "
            + (0..<layers).map { String(format: "%d:%.3f", $0, base.droppedMass[$0] ?? 0) }.joined(separator: " "))
        var chosen = Set<Int>()
        var order: [LoZAPlanFile.LayerScore] = []
        var current = base
        var ranked: [LoZAPlanFile.LayerScore] = []  // the latest round, least sensitive first
        var rounds: [LoZAPlanFile.Round] = []
        var single: [LoZAPlanFile.LayerScore] = []
        var round = 0
        while chosen.count < target {
            round += 1
            var candidates = (0..<layers).filter { !chosen.contains($0) }
            if round > 1 {
                let left = target - chosen.count
                let keep = min(candidates.count, max(left + 1, Int((candidateFactor * Double(left)).rounded(.up))))
                let previous = ranked.map(\.layer).filter { !chosen.contains($0) }
                candidates = Array(previous.prefix(keep)).sorted()
            }
            let evalsLeft = candidates.count + (target - chosen.count > rescoreEvery ? 2 : 1)
            log(String(format: "round %d: scoring %d layers on top of %@ (about %.0f s for this round)", round,
                       candidates.count, plan(chosen).planString, Double(evalsLeft) * perEval))
            var scores: [LoZAPlanFile.LayerScore] = []
            if round == 1, let given = firstRound {
                scores = given.sorted { $0.layer < $1.layer }
                log("round 1: reusing the \(scores.count) single-layer scores given (no evaluations)")
                candidates = []
            }
            for (k, l) in candidates.enumerated() {
                let s = try evaluate(plan(chosen.union([l])))
                let score = LoZAPlanFile.LayerScore(layer: l, delta_nll: s.nll - current.nll,
                                                    delta_nll_passkey: s.passkeyNLL - current.passkeyNLL,
                                                    dropped_mass: current.droppedMass[l])
                scores.append(score)
                log(String(format: "round %d: layer %2d sparse -> dNLL %+.4f (passkey %+.4f), dropped mass %.4f  [%d/%d, %.0f s]",
                           round, l, score.delta_nll, score.delta_nll_passkey ?? 0, score.dropped_mass ?? 0,
                           k + 1, candidates.count, Date().timeIntervalSince(t0)))
            }
            ranked = Self.rank(scores, passkeyWeight: passkeyWeight)
            rounds.append(.init(round: round, from_plan: plan(chosen).planString, from_nll: current.nll,
                                scores: scores.map { s in ranked.first { $0.layer == s.layer }! }))
            if round == 1 { single = rounds[0].scores }
            for s in ranked.prefix(min(max(1, rescoreEvery), target - chosen.count)) {
                chosen.insert(s.layer)
                order.append(s)
                log(String(format: "chose layer %d (rank sum %d: dNLL %+.4f, mass %.4f); %d/%d sparse",
                           s.layer, s.rank_sum ?? 0, s.delta_nll, s.dropped_mass ?? 0, chosen.count, target))
            }
            current = try evaluate(plan(chosen), measureMass: chosen.count < target)
            log(String(format: "plan %@: NLL %.4f (%+.2f%% vs full), passkey answers %.4f", plan(chosen).planString,
                       current.nll, 100 * (current.nll / base.nll - 1), current.passkeyNLL))
        }
        let final = current
        log(String(format: "final plan %@: NLL %.4f (full %.4f, %+.2f%%), passkey answers %.4f (full %.4f); %d evaluations, %.0f s",
                   plan(chosen).planString, final.nll, base.nll, 100 * (final.nll / base.nll - 1), final.passkeyNLL,
                   base.passkeyNLL, evaluations, Date().timeIntervalSince(t0)))
        return Result(plan: plan(chosen).planString, baseline: base, final: final, singleLayer: single,
                      greedyOrder: order, rounds: rounds)
    }
}
