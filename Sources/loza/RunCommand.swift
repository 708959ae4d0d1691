import Agent
import AgentCore
import ArgumentParser
import Foundation
import SpecParser
import Tools
import TranscriptIO

struct RunCommand: AsyncParsableCommand {
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

    @Flag(help: "Print one JSON object at the end instead of streaming the run.")
    var json = false

    @Flag(help: "Local model: prefill the whole conversation every turn instead of reusing the cache (to measure the reuse).")
    var noCacheReuse = false

    func run() async throws {
        let code = await runCLI { try await execute() }
        if code != 0 { throw ExitCode(code) }
    }

    func execute() async throws -> Int32 {
        let task: TaskSpec
        do { task = try SpecParser.parse(file: spec, overrides: params) } catch { throw CLIError.input("\(error)") }

        let tools: [any Tool]
        let policy: SandboxPolicy
        do {
            (tools, policy) = try await ToolFactory.makeToolSet(entries: task.tools, sandbox: task.sandbox, baseDirectory: task.baseDirectory)
        } catch {
            throw CLIError.input("\(spec): \(error)")
        }
        let names = tools.map(\.declaration.name)
        if let unknown = task.answerAfter.first(where: { !names.contains($0) }) {
            for t in tools { await t.shutdown() }
            policy.removeTemporaryWorkdir()
            throw CLIError.input("\(spec): answer_after: unknown tool '\(unknown)' (tools: \(names.joined(separator: ", ")))")
        }
        let model: any LanguageModel
        do { model = try ModelFactory.make(task, threads: threads, reuseCache: !noCacheReuse) } catch {
            for t in tools { await t.shutdown() }
            policy.removeTemporaryWorkdir()
            throw error
        }

        let path = transcript ?? task.transcript ?? Self.defaultTranscriptPath(name: task.name)
        let writer: TranscriptWriter
        do { writer = try TranscriptWriter(path: path) } catch {
            for t in tools { await t.shutdown() }
            policy.removeTemporaryWorkdir()
            throw CLIError.input("\(error)")
        }
        let header = TranscriptHeader(
            runtimeVersion: Runtime.version, spec: SpecJSON.encode(task), model: model.description, sampling: task.sampling,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, tools: tools.map(\.declaration),
            sandboxed: !task.sandbox.disabled, startedAt: TranscriptWriter.timestamp())

        let ui = json ? nil : TerminalUI()
        ui?.start()
        let progress = RunProgress()
        let interrupt = Self.onInterrupt {
            // Ctrl-C: the transcript gets a final event; sandboxed tools die with their parent.
            ui?.stop()
            let (steps, tokens, seconds) = progress.snapshot
            try? writer.record(.final(RunOutcome(status: .failed, reason: "interrupted (SIGINT)", steps: steps, tokens: tokens,
                                                 wallSeconds: seconds)))
            writer.close()
            policy.removeTemporaryWorkdir()
            Console.err("\ninterrupted; transcript: \(path)\n")
            Foundation.exit(130)
        }
        let loop = AgentLoop(model: model, tools: tools, sink: writer) { update in
            progress.note(update)
            ui?.handle(update)
        }
        let outcome = await loop.run(task, header: header)
        interrupt.cancel()
        ui?.stop()
        writer.close()
        for t in tools { await t.shutdown() }
        if let kept = policy.removeTemporaryWorkdir(), !json { Console.err("work directory kept: \(kept)\n") }

        if json {
            let object: JSONValue = [
                "status": .string(outcome.status.rawValue), "answer": outcome.answer.map { .string($0) } ?? .null,
                "reason": .string(outcome.reason), "steps": .int(Int64(outcome.steps)), "tokens": .int(Int64(outcome.tokens)),
                "wall_s": .double((outcome.wallSeconds * 1000).rounded() / 1000), "transcript": .string(path),
            ]
            Console.out(object.serialized(.compact) + "\n")
        } else {
            Console.err("transcript: \(path)\n")
        }
        return outcome.exitCode
    }

    /// Calls `handler` on SIGINT (instead of dying without a final event).
    static func onInterrupt(_ handler: @escaping @Sendable () -> Void) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }

    static func defaultTranscriptPath(name: String) -> String {
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" })
        let stamp = TranscriptWriter.timestamp().replacingOccurrences(of: ":", with: "").replacingOccurrences(of: ".", with: "-")
        return "transcripts/\(safe)-\(stamp).jsonl"
    }
}

/// Steps and tokens so far, for the final event of an interrupted run.
final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var steps = 0
    private var tokens = 0
    private let start = Date()

    func note(_ update: AgentUpdate) {
        if case .event(.modelTurn(let step, let turn)) = update {
            lock.withLock {
                steps = step
                tokens += turn.tokens.count
            }
        }
    }

    var snapshot: (Int, Int, Double) { lock.withLock { (steps, tokens, Date().timeIntervalSince(start)) } }
}
