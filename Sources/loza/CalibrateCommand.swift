import AgentCore
import ArgumentParser
import Catalog
import Engine
import Foundation
import Logging
import LoZACalibration
import Tokenizer

extension HeadCalibrator.Criterion: ExpressibleByArgument {}

/// `loza calibrate --model M [--ratio 0.5] [--context N] [--corpus FILE...] --out PLAN.json`
struct CalibrateCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Choose the LoZA sparse layers of a model (training-free, greedy on NLL past position 1024).",
        discussion: """
        Calibration text: the corpus files given (default: loza's built-in natural text) with planted \
        passkeys (6 keys planted in the first half of each sequence (at least 1024 tokens), recalled in \
        the second half), --sequences sequences of --context tokens. Each layer is scored by the increase in mean NLL of the tokens past position \
        1024 when it alone runs streaming sparse attention, and by the softmax mass its full attention \
        puts on the keys SSA would hide (queries past 1024), and by the NLL increase on the recalled \
        passkey digits; layers are ranked by rank(NLL) + rank(mass) + --passkey-weight x rank(passkey) \
        and the least sensitive made sparse greedily, re-scoring the --candidate-factor x (places \
        left) least sensitive remaining layers on top of those chosen every --rescore-every layers. \
        Cost: about (layers + candidate-factor x target x (1 + 1/2 + ...)) evaluations of \
        (context - 1024) x sequences tokens each; progress and an estimate go to stderr.
        """)

    @Option(help: "A .gguf file or a model alias.") var model: String
    @Option(help: "Fraction of layers made sparse.") var ratio = 0.5
    @Option(help: "Tokens per calibration sequence (> 1024).") var context = 1536
    @Option(help: "Calibration sequences.") var sequences = 1
    @Option(parsing: .upToNextOption, help: "Natural-text corpus files (default: the built-in corpus).") var corpus: [String] = []
    @Option(help: "Re-score the remaining layers after this many are chosen (default: half the target).") var rescoreEvery: Int?
    @Option(help: "Re-score this many times the places left (the least sensitive layers of the last round).") var candidateFactor = 2.0
    @Option(help: "Measure the dropped attention mass on every n-th query past 1024.") var massStride = 4
    @Option(help: "Filler documents with 8 planted keys, each asked and answered at the end, added to the calibration sequences (their answers count as passkey answers).") var passkeyDocs = 1
    @Option(help: "Weight of the rank of the NLL increase on the planted passkey answers in the layer ranking (0 ignores it).") var passkeyWeight = 1
    @Option(help: "Reuse round 1 (every layer alone) from an earlier run with the same model and settings: a plan JSON written by calibrate, or a JSON array of its single_layer scores.") var firstRound: String?
    @Option(help: "With --per-head: rank heads by the whole attention mass SSA would hide from the recall queries (mass), or only the part on the key digit each recall copies (copy: retrieval heads), or that on each answer's first digit (first-copy: where the key is chosen).")
    var headScore: HeadCalibrator.Criterion = .mass
    @Flag(help: "Choose sparse KV heads instead of layers: one full-attention pass over --passkey-docs passkey documents (the calibration format, --context tokens each) scores each head by the attention mass SSA would hide from the queries that recall the keys; the --ratio x (layers x KV heads) heads with the least are made sparse.") var perHead = false
    @Option(help: "With --per-head: write a plan of as many sparse heads drawn at random with this seed (the control of the same KV budget), measuring nothing.") var randomSeed: UInt64?
    @Option(help: "Threads.") var threads = ThreadPool.defaultThreadCount
    @Option(help: "Where to write the plan JSON.") var out: String
    @OptionGroup var logging: LogOptions

    func validate() throws {
        if !(0...1).contains(ratio) { throw ValidationError("--ratio must be in 0...1") }
        if context < 1280 { throw ValidationError("--context must be at least 1280 (NLL is scored past 1024)") }
        if sequences < 1 { throw ValidationError("--sequences must be >= 1") }
        if candidateFactor < 1 { throw ValidationError("--candidate-factor must be >= 1") }
        if massStride < 1 { throw ValidationError("--mass-stride must be >= 1") }
        if let r = rescoreEvery, r < 1 { throw ValidationError("--rescore-every must be >= 1") }
        if passkeyDocs < 0 { throw ValidationError("--passkey-docs must be >= 0") }
        if passkeyWeight < 0 { throw ValidationError("--passkey-weight must be >= 0") }
        if threads < 1 { throw ValidationError("--threads must be >= 1") }
        if randomSeed != nil && !perHead { throw ValidationError("--random-seed needs --per-head") }
        if perHead && passkeyDocs < 1 && randomSeed == nil { throw ValidationError("--per-head needs --passkey-docs >= 1") }
    }

    func run() async throws {
        let code = await runCLI {
            let path = try EngineCLI.modelPath(model)
            var corpusTexts: [String] = []
            for f in corpus {
                guard let d = FileManager.default.contents(atPath: f), let s = String(data: d, encoding: .utf8) else {
                    throw CLIError.input("\(f): cannot read corpus file (UTF-8 text)")
                }
                corpusTexts.append(s)
            }
            let m: Model
            do { m = try Model(path: path) } catch { throw CLIError.failed("\(error)") }
            let tok: Tokenizer
            do { tok = try Tokenizer(gguf: m.file) } catch { throw CLIError.failed("\(error)") }
            let sha: String
            do { sha = try ModelHash.sha256(path: path) } catch { throw CLIError.failed("\(error)") }
            let texts = LoZATexts(tokenizer: tok)
            if perHead {
                try calibrateHeads(m, path: (path as NSString).lastPathComponent, sha: sha, texts: texts)
                return 0
            }
            var seqs = (0..<sequences).map {
                texts.calibrationSequence(context: context, corpus: corpusTexts, seed: UInt64(1000 + $0),
                                          plantBefore: max(1024, context / 2), recallAfter: max(1040, context / 2 + 16))
            }
            seqs += (0..<passkeyDocs).map { texts.passkeyCalibrationSequence(context: context, seed: UInt64(2000 + $0)) }
            var given: [LoZAPlanFile.LayerScore]?
            if let f = firstRound {
                guard let d = FileManager.default.contents(atPath: f) else { throw CLIError.input("\(f): cannot read") }
                if let a = try? JSONDecoder().decode([LoZAPlanFile.LayerScore].self, from: d) {
                    given = a
                } else {
                    do { given = try LoZAPlanFile.decode(d, source: f).calibration?.single_layer } catch {
                        throw CLIError.input("\(error)")
                    }
                    guard given != nil else { throw CLIError.input("\(f): plan file without calibration figures") }
                }
            }
            let t0 = Date()
            let log = Logger(label: "loza.calibrate")
            let cal = LoZACalibrator(model: m, threads: threads, sequences: seqs) { line in
                log.notice("\(String(format: "[%6.1fs] ", Date().timeIntervalSince(t0)))\(line)")
            }
            let target = Int((ratio * Double(m.config.layerCount)).rounded())
            let every = rescoreEvery ?? max(1, (target + 2) / 3)
            cal.massStride = massStride
            let r: LoZACalibrator.Result
            do { r = try cal.run(ratio: ratio, rescoreEvery: every, candidateFactor: candidateFactor, passkeyWeight: passkeyWeight,
                                         firstRound: given) } catch { throw CLIError.failed("\(error)") }
            var corpusNames: [String] = corpus.map { ($0 as NSString).lastPathComponent }
            if corpusNames.isEmpty { corpusNames = ["built-in (Python documentation prose)"] }
            corpusNames.append("6 planted passkeys per sequence between positions 160 and \(max(1024, context / 2)), recalled past \(max(1040, context / 2 + 16))")
            if passkeyDocs > 0 { corpusNames.append("\(passkeyDocs) filler document(s) of \(context) tokens with 8 keys, each asked and answered at the end") }
            let seconds: Double = (Date().timeIntervalSince(t0) * 10).rounded() / 10
            var file = LoZAPlanFile(
                model: (path as NSString).lastPathComponent, model_sha256: sha, plan: r.plan, ratio: ratio,
                calibration: .init(
                    method: "greedy on rank(NLL increase past position 1024 with the layer sparse) + rank(attention mass SSA drops in the layer, every \(massStride)th query past 1024) + \(passkeyWeight) x rank(NLL increase on the planted passkey answers); each layer alone first, then the \(candidateFactor) x places-left least sensitive re-scored on top of the plan so far every \(every) layers chosen" + (firstRound.map { "; round 1 reused from \(($0 as NSString).lastPathComponent)" } ?? ""),
                    context: context, scored_from: 1024, tokens_scored: r.baseline.tokens,
                    corpus: corpusNames,
                    baseline_nll: r.baseline.nll, final_nll: r.final.nll,
                    single_layer: r.singleLayer, greedy_order: r.greedyOrder, rescore_every: every,
                    evaluations: cal.evaluations, seconds: seconds,
                    threads: threads))
            file.calibration?.rounds = r.rounds
            file.calibration?.baseline_passkey_nll = r.baseline.passkeyNLL
            file.calibration?.final_passkey_nll = r.final.passkeyNLL
            do { try file.encoded().write(to: URL(fileURLWithPath: out)) } catch {
                throw CLIError.failed("\(out): cannot write plan: \(error.localizedDescription)")
            }
            log.notice("wrote \(out): plan \(r.plan)")
            Console.out(r.plan + "\n")
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// `--per-head`: score the KV heads on passkey recall (or draw them at random) and write the plan.
    private func calibrateHeads(_ m: Model, path: String, sha: String, texts: LoZATexts) throws {
        let c = m.config
        let count = Int((ratio * Double(c.layerCount * c.kvHeadCount)).rounded())
        let t0 = Date()
        let log = Logger(label: "loza.calibrate")
        let plan: AttentionPlan
        var calibration: LoZAPlanFile.Calibration?
        if let seed = randomSeed {
            plan = HeadCalibrator.randomPlan(count: count, layers: c.layerCount, kvHeads: c.kvHeadCount,
                                             mode: .sparseDefault, seed: seed)
        } else {
            let seqs = (0..<passkeyDocs).map { texts.passkeyCalibrationSequence(context: context, seed: UInt64(2000 + $0)) }
            let cal = HeadCalibrator(model: m, threads: threads, sequences: seqs, criterion: headScore)
            let r: HeadCalibrator.Result
            do {
                r = try cal.run(sparseHeads: count) { line in
                    log.notice("\(String(format: "[%6.1fs] ", Date().timeIntervalSince(t0)))\(line)")
                }
            } catch { throw CLIError.failed("\(error)") }
            plan = r.plan
            let chosen = Set(r.sparse.map { $0.layer * c.kvHeadCount + $0.head })
            let seconds: Double = (Date().timeIntervalSince(t0) * 10).rounded() / 10
            calibration = .init(
                method: (headScore == .mass
                    ? "per KV head: attention mass SSA would hide from the passkey-recall queries (the query before each answer token past the sink + window)"
                    : "per KV head: attention the passkey-recall queries (the query before each \(headScore == .firstCopy ? "first " : "")answer token past the sink + window) put on the key digit they copy, where SSA would hide it (the most of the group's query heads)")
                    + ", full attention, one pass; the \(count) heads with the least made sparse",
                context: context, scored_from: (LoZADefaults.sinkBlocks + LoZADefaults.localBlocks) * LoZADefaults.blockSize,
                tokens_scored: r.recallQueries,
                corpus: ["\(passkeyDocs) passkey document(s) in the calibration format (\(PasskeyFormat.calibration)) of \(context) tokens with 8 keys, each asked and answered at the end"],
                baseline_nll: 0, final_nll: nil, single_layer: [], greedy_order: [], rescore_every: 0,
                evaluations: passkeyDocs, seconds: seconds, threads: threads)
            calibration?.heads = r.scores.map {
                .init(layer: $0.layer, head: $0.head, recall_mass: $0.recallMass, copy_mass: $0.copyMass,
                      sparse: chosen.contains($0.layer * c.kvHeadCount + $0.head))
            }
        }
        let file = LoZAPlanFile(model: path, model_sha256: sha, plan: plan.planString, ratio: ratio, calibration: calibration)
        do { try file.encoded().write(to: URL(fileURLWithPath: out)) } catch {
            throw CLIError.failed("\(out): cannot write plan: \(error.localizedDescription)")
        }
        log.notice("wrote \(out): plan \(plan.planString) (\(plan.sparseHeadCount(kvHeads: c.kvHeadCount)) of \(c.layerCount * c.kvHeadCount) KV heads sparse)")
        Console.out(plan.planString + "\n")
    }
}
