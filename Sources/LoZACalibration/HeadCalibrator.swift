import Engine
import Foundation

/// Training-free calibration per KV head (issue 12; DuoAttention's observation that only some heads
/// retrieve, without its trained gate): one full-attention prefill of each calibration sequence
/// measures, for every (layer, KV head), the softmax mass the head's queries put on keys SSA would
/// hide, on the queries that recall the planted passkeys (the query before each answer token past the
/// sink + window). A head whose recall queries lose little mass when it goes sparse can go sparse; the
/// plan makes sparse the `sparseHeads` heads with the least recall mass (ties: the lower index) and
/// keeps the rest full.
public struct HeadCalibrator {
    public struct HeadScore: Sendable, Equatable {
        public var layer: Int
        public var head: Int
        /// Mean mass SSA would hide from the passkey-recall queries (all query heads of the group).
        public var recallMass: Double
        /// Mean attention the recall queries put on the key digit they copy, where SSA would hide it (the
        /// most of any query head of the group): how much the head retrieves.
        public var copyMass: Double = 0
    }

    /// What ranks the heads: the whole mass SSA would hide from the recall queries, or only the part on
    /// the digit each recall copies (retrieval heads, Wu et al. 2024; DuoAttention keeps those full), or
    /// that part on the first digit of each answer only (where the key is chosen by its label; the later
    /// digits follow the first).
    public enum Criterion: String, Sendable, CaseIterable {
        case mass, copy
        case firstCopy = "first-copy"
    }

    public struct Result: Sendable {
        public var plan: AttentionPlan
        /// Every (layer, KV head), in layer then head order.
        public var scores: [HeadScore]
        /// The sparse heads, least recall mass first.
        public var sparse: [HeadScore]
        public var recallQueries: Int
    }

    let model: Model
    let threads: Int
    let sequences: [LoZACalibrator.Sequence]
    let mode: AttentionPlan.Mode
    let criterion: Criterion

    public init(model: Model, threads: Int, sequences: [LoZACalibrator.Sequence], mode: AttentionPlan.Mode = .sparseDefault,
                criterion: Criterion = .mass) {
        precondition(!sequences.isEmpty, "per-head calibration needs a sequence")
        self.model = model; self.threads = threads; self.sequences = sequences; self.mode = mode
        self.criterion = criterion
    }

    /// Scores every head and makes the `sparseHeads` least recall-sensitive ones sparse.
    public func run(sparseHeads: Int, log: (String) -> Void = { _ in }) throws(EngineError) -> Result {
        guard case let .sparse(b, s, l) = mode else { preconditionFailure("per-head calibration needs a sparse mode") }
        let c = model.config, kv = c.kvHeadCount
        let window = (s + l) * b
        var recall = [Double](repeating: 0, count: c.layerCount * kv), recallN = [Int](repeating: 0, count: recall.count)
        var copy = recall, copyN = recallN
        var recallQueries = 0
        for (i, seq) in sequences.enumerated() {
            // The query at t-1 predicts the answer token at t; only those past the window lose anything.
            let queries = Set(seq.answerTokens.map { $0 - 1 }.filter { $0 >= window })
            recallQueries += queries.count
            let sources = Dictionary(uniqueKeysWithValues: seq.answerSources.compactMap { t, src in
                queries.contains(t - 1) && (criterion != .firstCopy || !seq.answerTokens.contains(t - 1)) ? (t - 1, src) : nil
            })
            let meter = DroppedMassMeter(layers: c.layerCount, blockSize: b, sinkBlocks: s, localBlocks: l,
                                         from: window, stride: 1, queries: queries, copySources: sources)
            log("sequence \(i + 1)/\(sequences.count): \(seq.tokens.count) tokens, \(queries.count) recall queries, \(sources.count) with their copy source")
            let session = Session(model: model, threads: threads, maxLength: seq.tokens.count, initialCapacity: seq.tokens.count)
            meter.install(on: session)
            try session.append(seq.tokens)
            // Each sequence weighs by its queries (the meter's per-head figures are means over them).
            for (key, m) in meter.headMass {
                recall[key] += m * Double(queries.count); recallN[key] += queries.count
            }
            // Each by the queries whose source SSA hides (the meter's mean is over those).
            let copyQueries = meter.headCopyQueries
            for (key, m) in meter.headCopyMass {
                let n = copyQueries[key] ?? 0
                copy[key] += m * Double(n); copyN[key] += n
            }
        }
        var scores: [HeadScore] = []
        for layer in 0..<c.layerCount {
            for h in 0..<kv {
                let i = layer * kv + h
                scores.append(HeadScore(layer: layer, head: h, recallMass: recallN[i] > 0 ? recall[i] / Double(recallN[i]) : 0,
                                        copyMass: copyN[i] > 0 ? copy[i] / Double(copyN[i]) : 0))
            }
        }
        if criterion != .mass && !copyN.contains(where: { $0 > 0 }) {
            throw EngineError.badPlan(source: "per-head calibration by copy mass", message: "no recall query has a copy source SSA would hide (context too short?)")
        }
        let key: (HeadScore) -> Double = criterion == .mass ? { $0.recallMass } : { $0.copyMass }
        let order = scores.sorted {
            (key($0), $0.layer, $0.head) < (key($1), $1.layer, $1.head)
        }
        let sparse = Array(order.prefix(max(0, min(sparseHeads, scores.count))))
        return Result(plan: HeadCalibrator.plan(sparse: Set(sparse.map { $0.layer * kv + $0.head }), layers: c.layerCount,
                                                kvHeads: kv, mode: mode),
                      scores: scores, sparse: sparse, recallQueries: recallQueries)
    }

    /// The plan with exactly the heads `sparse` (index layer * kvHeads + head) in `mode`: a layer whose
    /// heads are all sparse or all full gets that mode for the whole layer, a mixed one per-head modes.
    public static func plan(sparse: Set<Int>, layers: Int, kvHeads: Int, mode: AttentionPlan.Mode) -> AttentionPlan {
        AttentionPlan(layers: (0..<layers).map { layer in
            let heads = (0..<kvHeads).map { sparse.contains(layer * kvHeads + $0) }
            if heads.allSatisfy({ $0 }) { return mode }
            if !heads.contains(true) { return .full }
            return .heads(heads.map { $0 ? mode : .full })
        })
    }

    /// A plan with `count` sparse heads drawn at random (seeded), the control of the same KV budget.
    public static func randomPlan(count: Int, layers: Int, kvHeads: Int, mode: AttentionPlan.Mode, seed: UInt64) -> AttentionPlan {
        var rng = Xoshiro256(seed: seed)
        var all = Array(0..<(layers * kvHeads))
        for i in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return plan(sparse: Set(all.prefix(count)), layers: layers, kvHeads: kvHeads, mode: mode)
    }
}
