import Agent
import AgentCore
import ArgumentParser
import Foundation
import Logging
import TranscriptIO

struct ReplayCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Show a transcript, verify that the model reproduces it, or re-run its tool calls.",
        discussion: """
            view    print the transcript for a person
            verify  re-run the model against the recorded tool results; exit 0 only if every token matches,
                    else 1 naming the first divergent event and token
            tools   re-run the tools on the recorded calls and report differences (exit 1 if any)
            stats   figures of the run as JSON: tokens, decode speed, prefill times with cache reuse, malformed calls,
                    and decode ms/token against context position (`decode_profile`); writes that as an SVG plot
                    (--plot; --with adds other runs of the same task, e.g. full attention beside LoZA)
            resume  replay steps before --from N from the record, then continue live with the model and tools,
                    writing a new transcript (exit status as for `loza run`)
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case view, verify, tools, resume, stats
    }

    @Argument(help: "A transcript (JSONL).") var file: String
    @Option(help: "view, verify, tools, stats or resume (see above).") var mode: Mode = .view
    @Option(help: "Compute threads for verify and resume (default: the recorded thread count).") var threads: Int?
    @Option(name: .customLong("from"), help: "resume: the first step to run live.") var fromStep: Int?
    @Option(help: "resume: where to write the new transcript (default: ./transcripts/<name>-<time>.jsonl).") var transcript: String?
    @Option(help: "stats: where to write the SVG plot of decode ms/token against position (default: FILE with .decode.svg; 'none' for no plot).")
    var plot: String?
    @Option(name: .customLong("with"), help: "stats: another transcript to draw in the same plot (repeatable).")
    var others: [String] = []
    @OptionGroup var logging: LogOptions

    var logger: Logger { Logger(label: "loza.replay") }

    func run() async throws {
        let code = await runCLI { try await execute() }
        if code != 0 { throw ExitCode(code) }
    }

    func execute() async throws -> Int32 {
        let transcript: Transcript
        do { transcript = try Transcript.read(path: file) } catch { throw CLIError.input("\(error)") }
        for w in transcript.warnings { logger.warning("\(w)") }
        guard let header = transcript.header else { throw CLIError.input("\(file): no header event") }
        switch mode {
        case .view:
            ReplayView(style: .forStdout()).print(transcript, file: file)
            return 0
        case .verify:
            return try await verify(transcript, header: header)
        case .tools:
            return try await rerunTools(transcript, header: header)
        case .resume:
            return try await resume(transcript, header: header)
        case .stats:
            return try stats(transcript)
        }
    }

    /// Figures as one JSON line, with the decode profile of each run (FILE, then each --with) and the plot.
    func stats(_ transcript: Transcript) throws -> Int32 {
        var runs: [(file: String, transcript: Transcript)] = [(file, transcript)]
        for other in others {
            do { runs.append((other, try Transcript.read(path: other))) } catch { throw CLIError.input("\(error)") }
        }
        var series: [DecodeCostPlot.Series] = []
        var lines: [JSONValue] = []
        for run in runs {
            var object = TranscriptStats(run.transcript).json.objectValue ?? []
            object.insert(JSONMember("file", .string(run.file)), at: 0)
            if let o = run.transcript.outcome {
                object.append(JSONMember("status", .string(o.status.rawValue)))
                object.append(JSONMember("wall_s", .double(o.wallSeconds)))
            }
            let profile = DecodeProfile(run.transcript)
            object.append(JSONMember("decode_profile", profile?.json ?? .null))
            if let profile {
                let attention = run.transcript.header?.model.attention.map { $0.hasPrefix("loza") ? "LoZA" : $0 } ?? "?"
                let name = URL(fileURLWithPath: run.file).deletingPathExtension().lastPathComponent
                series.append(.init(label: "\(name) (\(attention))", profile: profile))
            }
            lines.append(.object(object))
        }
        let target = plot ?? (file.hasSuffix(".jsonl") ? String(file.dropLast(6)) : file) + ".decode.svg"
        var plotted: String?
        if target != "none", !series.isEmpty {
            let title = "decode cost along the trace: " + (transcript.header?.model.name ?? "")
            do {
                try DecodeCostPlot(series: series, title: title).svg().write(toFile: target, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError.input("\(target): cannot write the plot: \(error.localizedDescription)")
            }
            plotted = target
        }
        for case .object(var members) in lines {
            members.append(JSONMember("plot", plotted.map { .string($0) } ?? .null))
            Console.out(JSONValue.object(members).serialized(.compact) + "\n")
        }
        return 0
    }

    func recordedSpec(_ header: TranscriptHeader) throws -> TaskSpec {
        do { return try SpecJSON.decode(header.spec) } catch { throw CLIError.input("\(file): header spec: \(error)") }
    }

    /// The attention the run was recorded with: a spec that left the plan to the model (its shipped plan,
    /// which a later release may change) gets the plan its header recorded (`full` or `loza:<plan>`), so
    /// the verify re-runs what was run. Explicit plans and remote models are left as they are.
    static func pinnedAttention(_ settings: AttentionSettings?, recorded: String?) -> AttentionSettings? {
        guard settings?.plan == nil, let recorded else { return settings }
        var pinned = settings ?? AttentionSettings(mode: .loza)
        if recorded == "full" {
            pinned.mode = .full
        } else if recorded.hasPrefix("loza:") {
            pinned.mode = .loza
            pinned.plan = String(recorded.dropFirst("loza:".count))
        } else {
            return settings
        }
        return pinned
    }

    /// Re-run the model on the recorded conversation, answering tool calls from the record.
    func verify(_ transcript: Transcript, header: TranscriptHeader) async throws -> Int32 {
        var spec = try recordedSpec(header)
        let recordedTurns = transcript.events.filter { if case .modelTurn = $0.event { return true } else { return false } }.count
        // Wall time is not reproducible: run without it, stopping where the record stopped.
        if let outcome = transcript.outcome, outcome.status == .budget, outcome.reason.hasPrefix("wall-time") {
            spec.limits.steps = recordedTurns
        }
        spec.limits.wallSeconds = .infinity
        spec.sampling = header.sampling
        spec.attention = Self.pinnedAttention(spec.attention, recorded: header.model.attention)

        let model = try ModelFactory.make(spec, threads: threads ?? header.threads)
        if let recorded = header.model.fileSHA256, let live = model.description.fileSHA256, recorded != live {
            logger.warning("the model file differs from the recorded one (sha256 \(live.prefix(12))…, recorded \(recorded.prefix(12))…)")
        }
        let log = ReplayLog()
        let verifying = VerifyingModel(model, transcript: transcript, log: log)
        let tools = ReplayTools(transcript, log: log)
        let ui = TerminalUI()
        ui.start()
        let outcome = await AgentLoop(model: verifying, tools: tools.tools, sink: DiscardingSink()) { ui.handle($0) }
            .run(spec, header: header)
        ui.stop()

        if let d = log.divergence {
            Console.out("✗ \(d)\n")
            return 1
        }
        if let first = verifying.unconsumed.first {
            Console.out("✗ diverged at event \(first.seq): the run ended (\(outcome.reason)) before this recorded turn\n")
            return 1
        }
        if let recorded = transcript.outcome, recorded.status != outcome.status {
            Console.out("✗ the run ended with \(outcome.status.rawValue) (\(outcome.reason)), the record with \(recorded.status.rawValue)\n")
            return 1
        }
        let tokens = transcript.events.reduce(0) { n, e in if case .modelTurn(_, let t) = e.event { return n + t.tokens.count } else { return n } }
        Console.out("✓ verified: \(recordedTurns) model turns, \(tokens) tokens identical\n")
        return 0
    }

    /// Replay the steps before `--from`, then continue live.
    func resume(_ recorded: Transcript, header: TranscriptHeader) async throws -> Int32 {
        guard let step = fromStep, step >= 1 else { throw CLIError.input("--mode resume needs --from STEP (1 or more)") }
        let spec = try recordedSpec(header)
        let model = try ModelFactory.make(spec, threads: threads ?? header.threads)
        let path = transcript ?? RunContext.defaultTranscriptPath(name: spec.name)
        let context = try await RunContext.open(spec, origin: file, options: .init(
            transcript: path, threads: threads ?? header.threads, continuing: header)) { model }
        let ui = TerminalUI()
        ui.start()
        context.exitOnInterrupt { ui.stop() }
        let outcome = await context.run(model: Resume.model(model, transcript: recorded, from: step),
                                        tools: Resume.tools(context.tools, transcript: recorded, from: step)) { ui.handle($0) }
        ui.stop()
        await context.close()
        if let kept = context.keptWorkdir { logger.notice("work directory kept: \(kept)") }
        Console.err("transcript: \(path)\n")
        return outcome.exitCode
    }

    /// Re-run the real tools on the recorded calls.
    func rerunTools(_ transcript: Transcript, header: TranscriptHeader) async throws -> Int32 {
        let context = try await RunContext.open(try recordedSpec(header), origin: file)
        let style = Style.forStdout()
        let (compared, differences) = await ToolReplay.run(transcript, tools: context.tools) { seq, call, result in
            Console.out(style.dim("event \(seq) ") + style.cyan(call.name) + " " + call.arguments.serialized(.python)
                        + (result.ok ? style.green(" ok") : style.red(" failed")) + "\n")
        }
        await context.close()
        for d in differences { Console.out(style.red("✗ ") + d.description + "\n") }
        if differences.isEmpty {
            Console.out("✓ \(compared) tool calls, same results\n")
            return 0
        }
        Console.out("✗ \(differences.count) of \(compared) tool calls differ\n")
        return 1
    }
}

/// `replay --mode view`: the transcript for a person.
struct ReplayView {
    let style: Style

    func print(_ transcript: Transcript, file: String) {
        for recorded in transcript.events {
            let tag = style.dim("#\(recorded.seq) ")
            switch recorded.event {
            case .header(let h):
                var model = "model \(h.model.name)"
                if let sha = h.model.fileSHA256 { model += " sha256:\(sha.prefix(12))" }
                if let a = h.model.attention { model += " attention:\(a)" }
                if let e = h.model.endpoint { model += " endpoint:\(e)" }
                let s = h.sampling
                Console.out(tag + style.bold("\(file)") + style.dim(" · \(h.runtimeVersion) · \(h.startedAt)") + "\n")
                Console.out("   \(model)\n")
                Console.out("   sampling: temperature \(s.temperature), top_p \(s.topP), top_k \(s.topK), seed \(s.seed), max_tokens \(s.maxTokens)"
                            + (h.threads.map { ", threads \($0)" } ?? "") + "\n")
                Console.out("   tools: \(h.tools.map(\.name).joined(separator: ", "))" + (h.sandboxed ? "" : style.red(" (UNSANDBOXED)")) + "\n")
            case .message(let m):
                Console.out(tag + style.bold("\(m.role.rawValue):") + " " + m.content + (m.content.hasSuffix("\n") ? "" : "\n"))
            case .modelTurn(let step, let t):
                var stats = "\(t.tokens.count) tokens, stop \(t.stop.rawValue)"
                if t.promptTokens > 0 || t.reusedTokens > 0 { stats += ", prompt +\(t.promptTokens) reused \(t.reusedTokens)" }
                if t.decodeSeconds > 0 { stats += String(format: ", %.2fs", t.prefillSeconds + t.decodeSeconds) }
                if t.toolChoice != .auto { stats += ", tool choice \(t.toolChoice.rawValue)" }
                if let p = t.callProbability { stats += String(format: ", call probability %.2f", p) + (t.callChosen ? " (called)" : "") }
                var body = t.text
                if let r = t.reasoning {
                    stats += ", \(r.count) characters of reasoning" + (t.reasoningLooped ? " (ended: it repeated itself)" : "")
                    body = style.dim(Reasoning.block(r)) + "\n" + (t.content ?? "")
                }
                if let o = t.untaggedOpening {
                    body = style.dim("(the call opened as \(o.debugDescription), written again after the tag)") + "\n" + body
                }
                if let r = t.excludedRepeat {
                    body = style.yellow("(decoded again: the reply repeated a failed or acknowledged call, \(r.name) \(r.arguments.serialized(.python)))") + "\n" + body
                }
                Console.out(tag + style.bold("assistant (step \(step))") + style.dim(" [\(stats)]") + "\n" + body + (body.hasSuffix("\n") ? "" : "\n"))
            case .toolCall(_, let c):
                Console.out(tag + style.cyan("→ \(c.name)") + " " + c.arguments.serialized(.python) + style.dim(" [\(c.id)]")
                            + (c.recovered ? style.yellow(" recovered") : "")
                            + (c.ungrounded.map { style.dim(" dropped (not in the conversation): " + $0.serialized(.python)) } ?? "") + "\n")
            case .malformedCall(_, let m):
                Console.out(tag + style.red("→ malformed") + style.dim(" [\(m.id)] ") + m.reason + "\n")
            case .toolResult(_, let r, let dispatched):
                var head = r.ok ? style.green("← \(r.name) ok") : style.red("← \(r.name) failed: \(r.error ?? "")")
                if !dispatched { head += style.dim(" (not run)") }
                if let code = r.exitCode { head += style.dim(" exit \(code)") }
                head += style.dim(String(format: " %.2fs", r.durationSeconds))
                if let sha = r.fullOutputSHA256 { head += style.dim(" truncated from \(r.fullOutputBytes ?? 0) bytes sha256:\(sha.prefix(12))") }
                Console.out(tag + head + "\n" + (r.output.isEmpty ? "" : style.dim(preview(r.output, maxLines: 20)) + "\n"))
                // What else the model saw with this result (the spec's tool_result_hint).
                if let hint = r.metadata["tool_result_hint"] { Console.out(style.dim("   + hint: ") + hint + "\n") }
            case .error(_, let message):
                Console.out(tag + style.red("error: \(message)") + "\n")
            case .final(let o):
                let word = o.status == .final ? style.green("final") : style.red(o.status.rawValue)
                Console.out(tag + word + style.dim(" · \(o.reason) · \(o.steps) steps · \(o.tokens) tokens · " + String(format: "%.1fs", o.wallSeconds)) + "\n")
                if let a = o.answer { Console.out(a + (a.hasSuffix("\n") ? "" : "\n")) }
            }
        }
        if transcript.outcome == nil { Console.out(style.yellow("(no final event: the run was interrupted)") + "\n") }
    }
}
