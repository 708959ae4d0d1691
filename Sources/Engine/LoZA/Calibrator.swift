import Foundation

/// Training-free LoZA calibration (DESIGN.md section 2): score each layer by the increase in NLL of
/// the tokens past position `scoredFrom` when that layer (alone, then on top of the layers already
/// chosen) runs SSA, and sparsify greedily the least sensitive layers up to the target ratio.
///
/// Cost control: positions below (S+L)*B are computed identically under every plan (an SSA layer is
/// exact full attention there), so each sequence's first `scoredFrom` positions are prefilled once with
/// full attention and every evaluation copies that K/V (`Session.adoptTimeline`) and only prefills the
/// rest. Re-scoring happens after every `rescoreEvery` layers chosen, on the 2 x (places left) least
/// sensitive remaining layers.
public final class LoZACalibrator {
    public struct Sequence: Sendable {
        public var tokens: [Int32]
        /// Token indices that are planted passkey answers (scored separately as well).
        public var answerTokens: Set<Int>
        public init(tokens: [Int32], answerTokens: Set<Int>) { self.tokens = tokens; self.answerTokens = answerTokens }
    }

    public struct Score: Sendable { public var nll: Double; public var passkeyNLL: Double; public var tokens: Int }

    let model: Model
    let threads: Int
    let sequences: [Sequence]
    let scoredFrom: Int
    let mode: AttentionPlan.Mode
    let log: (String) -> Void
    private var prefixes: [Session] = []
    public private(set) var evaluations = 0

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
    public func evaluate(_ plan: AttentionPlan) throws(EngineError) -> Score {
        if prefixes.isEmpty {
            for (i, seq) in sequences.enumerated() {
                log("prefilling the shared first \(scoredFrom) positions of sequence \(i + 1)/\(sequences.count)")
                let s = Session(model: model, threads: threads, maxLength: seq.tokens.count, initialCapacity: seq.tokens.count)
                try s.append(Array(seq.tokens[..<scoredFrom]))
                prefixes.append(s)
            }
        }
        var sum = 0.0, n = 0, keySum = 0.0, keyN = 0
        for (i, seq) in sequences.enumerated() {
            let s = Session(model: model, threads: threads, plan: plan, maxLength: seq.tokens.count,
                            initialCapacity: seq.tokens.count)
            try s.adoptTimeline(of: prefixes[i])
            let nll = try s.appendScoringNLL(Array(seq.tokens[scoredFrom...]), from: scoredFrom)
            for (j, x) in nll.enumerated() {
                sum += x; n += 1
                if seq.answerTokens.contains(scoredFrom + 1 + j) { keySum += x; keyN += 1 }
            }
        }
        evaluations += 1
        return Score(nll: sum / Double(max(n, 1)), passkeyNLL: keySum / Double(max(keyN, 1)), tokens: n)
    }

    public struct Result: Sendable {
        public var plan: String
        public var baseline: Score
        public var final: Score
        public var singleLayer: [LoZAPlanFile.LayerScore]
        public var greedyOrder: [LoZAPlanFile.LayerScore]
    }

    public func run(ratio: Double, rescoreEvery: Int) throws(EngineError) -> Result {
        let layers = model.config.layerCount
        let target = min(layers, max(0, Int((ratio * Double(layers)).rounded())))
        let base = try evaluate(plan([]))
        log(String(format: "full attention: NLL %.4f over %d tokens (passkey answers %.4f)", base.nll, base.tokens, base.passkeyNLL))
        var chosen = Set<Int>()
        var order: [LoZAPlanFile.LayerScore] = []
        var current = base
        var scores: [Int: LoZAPlanFile.LayerScore] = [:]
        var single: [LoZAPlanFile.LayerScore] = []
        func rescore(_ round: Int) throws(EngineError) {
            var remaining = (0..<layers).filter { !chosen.contains($0) }
            if round > 1 {
                // Only the least sensitive candidates can still be chosen: re-score twice as many as
                // places left (the rest keep their earlier, larger scores).
                let left = target - chosen.count
                remaining = remaining.sorted { (scores[$0]?.delta_nll ?? 0, $0) < (scores[$1]?.delta_nll ?? 0, $1) }
                remaining = Array(remaining.prefix(2 * left)).sorted()
            }
            for (k, l) in remaining.enumerated() {
                let s = try evaluate(plan(chosen.union([l])))
                let score = LoZAPlanFile.LayerScore(layer: l, delta_nll: s.nll - current.nll,
                                                    delta_nll_passkey: s.passkeyNLL - current.passkeyNLL)
                scores[l] = score
                log(String(format: "round %d: layer %2d sparse -> dNLL %+.4f (passkey %+.4f)  [%d/%d]",
                           round, l, score.delta_nll, score.delta_nll_passkey ?? 0, k + 1, remaining.count))
            }
        }
        try rescore(1)
        single = (0..<layers).compactMap { scores[$0] }
        var round = 1
        while chosen.count < target {
            let ranked = scores.values.filter { !chosen.contains($0.layer) }
                .sorted { ($0.delta_nll, $0.layer) < ($1.delta_nll, $1.layer) }
            for s in ranked.prefix(min(max(1, rescoreEvery), target - chosen.count)) {
                chosen.insert(s.layer)
                order.append(s)
                log(String(format: "chose layer %d (dNLL %+.4f); %d/%d sparse", s.layer, s.delta_nll, chosen.count, target))
            }
            if chosen.count < target {
                current = try evaluate(plan(chosen))
                log(String(format: "plan %@: NLL %.4f", plan(chosen).planString, current.nll))
                round += 1
                try rescore(round)
            }
        }
        let final = try evaluate(plan(chosen))
        log(String(format: "final plan %@: NLL %.4f (full %.4f, %+.2f%%), passkey answers %.4f (full %.4f)",
                   plan(chosen).planString, final.nll, base.nll, 100 * (final.nll / base.nll - 1), final.passkeyNLL, base.passkeyNLL))
        return Result(plan: plan(chosen).planString, baseline: base, final: final, singleLayer: single, greedyOrder: order)
    }
}
