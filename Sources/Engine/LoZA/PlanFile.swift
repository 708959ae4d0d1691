import Catalog
import Foundation

/// A LoZA layer plan with the calibration figures that chose it (Docs/ARCHITECTURE.md, LoZA), as JSON:
/// `{"model_sha256", "plan": "FSFS...", "block_size", "sink_blocks", "local_blocks",
/// "ratio", "calibration": {...}}`. A per-head plan writes a layer whose KV heads differ as its heads'
/// characters in brackets (`FS[FS]...`, `AttentionPlan(planString:)`); `ratio` is then the fraction of
/// sparse KV heads.
public struct LoZAPlanFile: Codable, Sendable, Equatable {
    /// Per-layer figures of one calibration round.
    public struct LayerScore: Codable, Sendable, Equatable {
        public var layer: Int
        /// Increase of the mean NLL of tokens past position 1024 when this layer is (also) sparse.
        public var delta_nll: Double
        /// Same, on the planted passkey answers only.
        public var delta_nll_passkey: Double?
        /// Mean softmax mass this layer's full attention puts on the keys SSA would hide (queries past
        /// position 1024, all heads), measured with the layers chosen so far already sparse.
        public var dropped_mass: Double?
        /// Rank of delta_nll plus rank of dropped_mass among the layers of the round (lower = less
        /// sensitive; the greedy choice takes the lowest).
        public var rank_sum: Int?
        public init(layer: Int, delta_nll: Double, delta_nll_passkey: Double? = nil, dropped_mass: Double? = nil,
                    rank_sum: Int? = nil) {
            self.layer = layer; self.delta_nll = delta_nll; self.delta_nll_passkey = delta_nll_passkey
            self.dropped_mass = dropped_mass; self.rank_sum = rank_sum
        }
    }

    /// Figures of one KV head in a per-head calibration.
    public struct HeadScore: Codable, Sendable, Equatable {
        public var layer: Int
        public var head: Int
        /// Mean softmax mass the head's passkey-recall queries put on the keys SSA would hide.
        public var recall_mass: Double
        /// Mean attention the recall queries put on the key digit they copy, where SSA would hide it
        /// (absent in plans calibrated before it was measured).
        public var copy_mass: Double?
        public var sparse: Bool
        public init(layer: Int, head: Int, recall_mass: Double, copy_mass: Double? = nil, sparse: Bool) {
            self.layer = layer; self.head = head; self.recall_mass = recall_mass; self.copy_mass = copy_mass
            self.sparse = sparse
        }
    }

    public struct Calibration: Codable, Sendable, Equatable {
        public var method: String
        public var context: Int
        public var scored_from: Int
        public var tokens_scored: Int
        public var corpus: [String]
        public var baseline_nll: Double
        /// NLL of the chosen plan (nil when the run ended before re-evaluating it).
        public var final_nll: Double?
        /// First-round scores: each layer alone sparse.
        public var single_layer: [LayerScore]
        /// Order in which layers were made sparse, with the score each had when chosen.
        public var greedy_order: [LayerScore]
        public var rescore_every: Int
        public var evaluations: Int
        public var seconds: Double
        public var threads: Int
        /// Every scoring round: the plan it started from (its NLL) and the layers re-scored on top of it.
        public var rounds: [Round]?
        /// NLL of the planted passkey answers: full attention and the chosen plan.
        public var baseline_passkey_nll: Double?
        public var final_passkey_nll: Double?
        /// Per-head calibration: every (layer, KV head) with its score and choice.
        public var heads: [HeadScore]?

        public init(method: String, context: Int, scored_from: Int, tokens_scored: Int, corpus: [String],
                    baseline_nll: Double, final_nll: Double?, single_layer: [LayerScore], greedy_order: [LayerScore],
                    rescore_every: Int, evaluations: Int, seconds: Double, threads: Int) {
            self.method = method; self.context = context; self.scored_from = scored_from
            self.tokens_scored = tokens_scored; self.corpus = corpus; self.baseline_nll = baseline_nll
            self.final_nll = final_nll; self.single_layer = single_layer; self.greedy_order = greedy_order
            self.rescore_every = rescore_every; self.evaluations = evaluations; self.seconds = seconds
            self.threads = threads
        }
    }

    public struct Round: Codable, Sendable, Equatable {
        public var round: Int
        public var from_plan: String
        public var from_nll: Double
        public var scores: [LayerScore]
        public init(round: Int, from_plan: String, from_nll: Double, scores: [LayerScore]) {
            self.round = round; self.from_plan = from_plan; self.from_nll = from_nll; self.scores = scores
        }
    }

    public var model: String?
    public var model_sha256: String
    public var plan: String
    public var block_size: Int
    public var sink_blocks: Int
    public var local_blocks: Int
    public var ratio: Double
    public var calibration: Calibration?

    public init(model: String?, model_sha256: String, plan: String, block_size: Int = LoZADefaults.blockSize,
                sink_blocks: Int = LoZADefaults.sinkBlocks, local_blocks: Int = LoZADefaults.localBlocks, ratio: Double,
                calibration: Calibration?) {
        self.model = model; self.model_sha256 = model_sha256; self.plan = plan; self.block_size = block_size
        self.sink_blocks = sink_blocks; self.local_blocks = local_blocks; self.ratio = ratio; self.calibration = calibration
    }

    /// The attention plan (nil when the string has a character other than F/S or bad B/S/L).
    public var attentionPlan: AttentionPlan? {
        AttentionPlan(planString: plan, blockSize: block_size, sinkBlocks: sink_blocks, localBlocks: local_blocks)
    }

    public static func decode(_ data: Data, source: String) throws(EngineError) -> LoZAPlanFile {
        do {
            return try JSONDecoder().decode(LoZAPlanFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .badPlan(source: source, message: "missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw .badPlan(source: source, message: "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw .badPlan(source: source, message: "not a plan file (JSON with model_sha256, plan, block_size, sink_blocks, local_blocks, ratio)")
        }
    }

    public static func load(path: String) throws(EngineError) -> LoZAPlanFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw .fileNotFound(path: path) }
        return try decode(data, source: path)
    }

    public func encoded() -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? enc.encode(self)) ?? Data()
    }
}
