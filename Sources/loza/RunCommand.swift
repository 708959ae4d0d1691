import AgentCore
import ArgumentParser
import Foundation
import Logging
import SpecParser

struct RunCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an agent task from a YAML spec.",
        discussion: "Exit status: 0 when the model gave a final answer, 1 when the run failed or ran out of budget, 2 for bad input.")

    @Argument(help: "The task spec (YAML).")
    var spec: String

    @Option(name: .customLong("param"), help: ArgumentHelp("Override a spec parameter.", valueName: "key=value"))
    var params: [String] = []

    @Option(help: "Where to write the transcript (default: the spec's `transcript`, else ./transcripts/<name>-<time>.jsonl).")
    var transcript: String?

    @Option(help: "Compute threads for the local model (default: all cores).")
    var threads: Int?

    @Option(help: "Attention of a local model: full or loza, over the spec's `attention` (the spec's plan and blocks stay).")
    var attention: AttentionSettings.Mode?

    @Option(help: "Local model: guess tokens from the context and verify them in one pass (lookup, the default), or not (off), over the spec's `speculation`; the tokens are the same.")
    var speculation: SpeculationMode?

    @Option(help: "Reasoning before each reply: think (a thinking block first) or off, over the spec's `reasoning`.")
    var reasoning: Reasoning.Mode?

    @Option(help: "Most tokens in one reply's thinking block (with --reasoning think; default: the spec's, else \(Reasoning.defaultBudget)).")
    var reasoningBudget: Int?

    @Flag(help: "Print one JSON object at the end instead of streaming the run.")
    var json = false

    @Flag(help: "Local model: prefill the whole conversation every turn instead of reusing the cache (to measure the reuse).")
    var noCacheReuse = false

    @OptionGroup var logging: LogOptions

    func run() async throws {
        let code = await runCLI { try await execute() }
        if code != 0 { throw ExitCode(code) }
    }

    func execute() async throws -> Int32 {
        var task: TaskSpec
        do { task = try SpecParser.parse(file: spec, overrides: params) } catch { throw CLIError.input("\(error)") }
        if let attention {
            if task.attention == nil { task.attention = AttentionSettings(mode: attention) } else { task.attention?.mode = attention }
        }
        if let speculation { task.speculation = speculation }
        if reasoning != nil || reasoningBudget != nil {
            guard reasoningBudget.map({ $0 >= 1 }) ?? true else { throw CLIError.input("--reasoning-budget must be at least 1") }
            task.sampling.overrideReasoning(mode: reasoning, budget: reasoningBudget)
        }
        let path = transcript ?? task.transcript ?? RunContext.defaultTranscriptPath(name: task.name)
        let context = try await RunContext.open(task, origin: spec, options: .init(transcript: path, threads: threads)) {
            try ModelFactory.make(task, threads: threads, reuseCache: !noCacheReuse)
        }

        let ui = json ? nil : TerminalUI()
        ui?.start()
        // Ctrl-C: the transcript gets a final event; sandboxed tools die with their parent.
        context.exitOnInterrupt { ui?.stop() }
        let outcome = await context.run { ui?.handle($0) }
        ui?.stop()
        await context.close()
        if let kept = context.keptWorkdir, !json { Logger(label: "loza.run").notice("work directory kept: \(kept)") }
        if let note = context.emptyWorkdirNote { Console.err(note + "\n") }

        if json {
            let object: JSONValue = [
                "status": .string(outcome.status.rawValue), "answer": outcome.answer.map { .string($0) } ?? .null,
                "reason": .string(outcome.reason), "steps": .int(Int64(outcome.steps)), "tokens": .int(Int64(outcome.tokens)),
                "wall_s": .double((outcome.wallSeconds * 1000).rounded() / 1000), "transcript": .string(path),
                // With status "calls": the declared tools' calls for the caller to execute.
                "calls": .array(outcome.calls.map { ["call_id": .string($0.id), "name": .string($0.name), "arguments": $0.arguments] }),
            ]
            Console.out(object.serialized(.compact) + "\n")
        } else {
            Console.err("transcript: \(path)\n")
        }
        return outcome.exitCode
    }
}

extension AttentionSettings.Mode: ExpressibleByArgument {}
extension SpeculationMode: ExpressibleByArgument {}
extension Reasoning.Mode: ExpressibleByArgument {}
