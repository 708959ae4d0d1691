import AgentCore
import ArgumentParser
import Engine
import Foundation
import LoZACalibration
import Tokenizer

/// `loza eval passkey|nll --model M --context N [--attention ...] [--plan ...] [--format ...] [--json]`
struct EvalCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Long-context quality: passkey retrieval accuracy, or NLL of the tokens past position 1024.")

    enum Task: String, ExpressibleByArgument, CaseIterable { case passkey, nll }

    @Argument(help: "passkey or nll") var task: Task
    @Option(help: "A .gguf file or a model alias.") var model: String
    @Option(help: "Context length in tokens.") var context = 4096
    @OptionGroup var attention: AttentionOptions
    @Option(help: "nll: the text to score (default: the built-in corpus).") var textFile: String?
    @Option(help: "passkey: documents (each holds one key per depth).") var docs = 2
    @Option(help: "passkey: insertion depths, comma-separated fractions.") var depths = "0.1,0.3,0.5,0.7,0.9"
    @Option(help: """
        passkey: document shapes, comma-separated FILLER-KEY-QUESTION (filler classic|prose|code|records, key \
        digits|words|uuid, question after|before: the labels announced before the document too) or the sets \
        calibration (classic-digits-after, the shape calibration uses), heldout (shapes it never saw), all.
        """) var format = "calibration"
    @Option(help: "Seed of the keys and corpus offset.") var seed: UInt64 = 7
    @Option(help: "Threads.") var threads = ThreadPool.defaultThreadCount
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var logging: LogOptions

    func validate() throws {
        if context < 256 { throw ValidationError("--context must be at least 256") }
        if task == .nll && context < 1100 { throw ValidationError("--context must exceed 1100 for nll (scored past 1024)") }
        if docs < 1 { throw ValidationError("--docs must be >= 1") }
        if threads < 1 { throw ValidationError("--threads must be >= 1") }
    }

    func parsedFormats() throws -> [PasskeyFormat] {
        switch PasskeyFormat.parseList(format) {
        case .success(let f): return f
        case .failure(let e): throw CLIError.input("--format: \(e)")
        }
    }

    func parsedDepths() throws -> [Double] {
        let ds = depths.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !ds.isEmpty, ds.allSatisfy({ $0 != nil && (0...1).contains($0!) }) else {
            throw CLIError.input("--depths: comma-separated fractions in 0...1, got '\(depths)'")
        }
        return ds.map { $0! }
    }

    func run() async throws {
        let code = await runCLI {
            let path = try EngineCLI.modelPath(model)
            let ds = task == .passkey ? try parsedDepths() : []
            let formats = task == .passkey ? try parsedFormats() : []
            var text: String?
            if let textFile {
                guard let d = FileManager.default.contents(atPath: textFile), let s = String(data: d, encoding: .utf8) else {
                    throw CLIError.input("\(textFile): cannot read text file (UTF-8)")
                }
                text = s
            }
            let m: Model
            do { m = try Model(path: path) } catch { throw CLIError.failed("\(error)") }
            let choice = try attention.resolve(m)
            let tok: Tokenizer
            do { tok = try Tokenizer(gguf: m.file) } catch { throw CLIError.failed("\(error)") }
            let texts = LoZATexts(tokenizer: tok)
            let t0 = Date()
            var fields: [JSONMember] = [
                JSONMember("task", .string(task.rawValue)),
                JSONMember("model", .string((path as NSString).lastPathComponent)),
                JSONMember("context", .int(Int64(context))),
                JSONMember("attention", .string(choice.mode)),
                JSONMember("plan", .string(choice.plan.planString)),
            ]
            do {
                switch task {
                case .nll:
                    let tokens = texts.naturalTokens(count: context, corpus: text.map { [$0] } ?? [], offset: Int(seed) * 7919)
                    let s = Session(model: m, threads: threads, plan: choice.plan, maxLength: context, initialCapacity: context)
                    let nll = try s.appendScoringNLL(tokens, from: 1024) { done, total in
                        if !json && Console.stderrIsTTY { Console.err("\r\u{1B}[Kprefill \(done)/\(total)") }
                    }
                    if !json && Console.stderrIsTTY { Console.err("\r\u{1B}[K") }
                    let mean = nll.reduce(0, +) / Double(max(nll.count, 1))
                    fields += [JSONMember("nll", .double((mean * 10000).rounded() / 10000)),
                               JSONMember("tokens", .int(Int64(nll.count)))]
                    if !json { Console.out(String(format: "NLL past 1024: %.4f over %d tokens (ppl %.2f)\n", mean, nll.count, exp(mean))) }
                case .passkey:
                    var correct = 0, trials = 0
                    var byDepth: [Double: (Int, Int)] = [:]
                    var perFormat: [JSONValue] = []
                    var answers: [JSONValue] = []
                    for f in formats {
                        var fCorrect = 0, fTrials = 0
                        for d in 0..<docs {
                            let doc = texts.passkeyDocument(context: context, depths: ds, seed: seed &+ UInt64(d) &* 31, format: f)
                            let s = Session(model: m, threads: threads, plan: choice.plan, maxLength: context + 64,
                                            initialCapacity: context + 64)
                            for q in doc.questions {
                                try s.sync(to: doc.tokens + q.prompt)
                                let answerTokens = f.key == .digits ? 8 : 14
                                var out: [Int32] = []
                                for _ in 0..<answerTokens {
                                    let next = Sampler.argmax(UnsafeBufferPointer(s.logits))
                                    out.append(next)
                                    if out.count < answerTokens { try s.decode(next) }
                                }
                                let answer = tok.decode(out)
                                let ok = f.answer(answer, gives: q.key)
                                fTrials += 1
                                if ok { fCorrect += 1 }
                                var e = byDepth[q.depth] ?? (0, 0); e.1 += 1; if ok { e.0 += 1 }; byDepth[q.depth] = e
                                answers.append(.object([JSONMember("format", .string(f.description)),
                                                        JSONMember("doc", .int(Int64(d))),
                                                        JSONMember("depth", .double(q.depth)),
                                                        JSONMember("key", .string(q.key)),
                                                        JSONMember("answer", .string(answer)),
                                                        JSONMember("correct", .bool(ok))]))
                                if !json {
                                    Console.err("\(f) doc \(d + 1) depth \(q.depth): key \(q.key), answer \(answer.debugDescription) \(ok ? "ok" : "WRONG")\n")
                                }
                            }
                        }
                        correct += fCorrect
                        trials += fTrials
                        let fAcc = Double(fCorrect) / Double(max(fTrials, 1))
                        perFormat.append(.object([JSONMember("format", .string(f.description)),
                                                  JSONMember("accuracy", .double((fAcc * 10000).rounded() / 10000)),
                                                  JSONMember("correct", .int(Int64(fCorrect))),
                                                  JSONMember("trials", .int(Int64(fTrials)))]))
                        if !json {
                            Console.out("passkey \(f): " + String(format: "%.1f%% (%d/%d) at context %d\n", 100 * fAcc,
                                                                              fCorrect, fTrials, context))
                        }
                    }
                    let acc = Double(correct) / Double(max(trials, 1))
                    fields += [JSONMember("accuracy", .double((acc * 10000).rounded() / 10000)),
                               JSONMember("trials", .int(Int64(trials))),
                               JSONMember("by_depth", .object(byDepth.keys.sorted().map {
                                   JSONMember(String($0), .double(Double(byDepth[$0]!.0) / Double(byDepth[$0]!.1)))
                               })),
                               JSONMember("formats", .array(perFormat)),
                               // Every trial, in order: plans compare trial by trial (paired) on them.
                               JSONMember("answers", .array(answers))]
                    if !json && formats.count > 1 {
                        Console.out(String(format: "passkey accuracy %.1f%% (%d/%d) at context %d\n", 100 * acc, correct, trials, context))
                    }
                }
            } catch let e as EngineError { throw CLIError.failed(e.description) }
            fields.append(JSONMember("seconds", .double((Date().timeIntervalSince(t0) * 10).rounded() / 10)))
            if json { Console.out(JSONValue.object(fields).serialized(.compact) + "\n") }
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
