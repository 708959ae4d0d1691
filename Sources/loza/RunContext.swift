import Agent
import AgentCore
import Foundation
import Logging
import Tools
import TranscriptIO

/// Everything one run of a spec holds besides the agent loop: the spec's tools and the sandbox policy they
/// share (with its temporary work directory), and, for a run of a model, the model, the transcript writer and
/// the header. `open` builds them in the order a bad input should be found (tools, `answer_after`, model,
/// transcript); `close()` releases them on every path once the tools exist, and only once.
///
/// `loza run`, `replay --mode resume|tools` and `loza tools` each hold one. A batch holds one per task (own
/// tools, work directory, writer and header) and hands each the same loaded model through `model`.
final class RunContext: @unchecked Sendable {
    struct Options: Sendable {
        /// Where the transcript goes; nil: no writer (the run's events are dropped).
        var transcript: String?
        /// Compute threads of the model, for the header (default: all cores).
        var threads: Int?
        /// A resumed run: the recorded header whose spec, sampling and tools the new one keeps (the runtime,
        /// model, threads and start time are the new run's).
        var continuing: TranscriptHeader?
    }

    let spec: TaskSpec
    let tools: [any Tool]
    let policy: SandboxPolicy
    /// Steps and tokens so far, for the final event of an interrupted run (`run` feeds it).
    let progress = RunProgress()
    /// Set when the context was opened with a model.
    private(set) var model: (any LanguageModel)?
    private(set) var header: TranscriptHeader?
    private(set) var writer: TranscriptWriter?

    private let log = Logger(label: "loza.run")
    private let lock = NSLock()
    private var closed = false
    private var interrupt: DispatchSourceSignal?

    private init(spec: TaskSpec, tools: [any Tool], policy: SandboxPolicy) {
        self.spec = spec
        self.tools = tools
        self.policy = policy
    }

    /// Builds the tools of `spec` and, given `model`, the model, the transcript writer and the header.
    /// `origin` (the spec file, or the transcript it came from) prefixes bad-input messages.
    static func open(_ spec: TaskSpec, origin: String, options: Options = Options(),
                     model makeModel: (() throws -> any LanguageModel)? = nil) async throws -> RunContext {
        let clock = ContinuousClock(), started = clock.now
        let made: (tools: [any Tool], policy: SandboxPolicy)
        do {
            made = try await ToolFactory.makeToolSet(entries: spec.tools, sandbox: spec.sandbox, baseDirectory: spec.baseDirectory)
        } catch {
            throw CLIError.input("\(origin): \(error)")
        }
        let context = RunContext(spec: spec, tools: made.tools, policy: made.policy)
        context.log.debug("tools ready", metadata: [
            "tools": "\(made.tools.map(\.declaration.name).joined(separator: ","))", "seconds": "\(seconds(clock.now - started))",
            "workdir": "\(made.policy.workdir)", "temporary": "\(made.policy.temporaryWorkdir)"])
        guard let makeModel else { return context }
        do {
            try context.attach(makeModel, origin: origin, options: options)
        } catch {
            await context.close()
            throw error
        }
        return context
    }

    private func attach(_ makeModel: () throws -> any LanguageModel, origin: String, options: Options) throws {
        let names = tools.map(\.declaration.name)
        if let unknown = spec.answerAfter.first(where: { !names.contains($0) }) {
            throw CLIError.input("\(origin): answer_after: unknown tool '\(unknown)' (tools: \(names.joined(separator: ", ")))")
        }
        let clock = ContinuousClock(), started = clock.now
        let model = try makeModel()
        let d = model.description
        log.info("model ready", metadata: [
            "model": "\(d.name)", "attention": "\(d.attention ?? "-")", "sha256": "\(d.fileSHA256.map { String($0.prefix(12)) } ?? "-")",
            "seconds": "\(Self.seconds(clock.now - started))"])
        if let path = options.transcript {
            do { writer = try TranscriptWriter(path: path) } catch { throw CLIError.input("\(error)") }
        }
        if var h = options.continuing {
            h.runtimeVersion = Runtime.version
            h.model = d
            h.threads = options.threads
            h.startedAt = TranscriptWriter.timestamp()
            header = h
        } else {
            header = TranscriptHeader(
                runtimeVersion: Runtime.version, spec: SpecJSON.encode(spec), model: d, sampling: spec.sampling,
                threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount, tools: tools.map(\.declaration),
                sandboxed: !spec.sandbox.disabled, startedAt: TranscriptWriter.timestamp())
        }
        self.model = model
    }

    /// The agent loop on this context's model, tools and transcript. `model` and `tools` stand in for the
    /// context's own (a resumed run replays recorded steps through them first).
    func run(model: (any LanguageModel)? = nil, tools: [any Tool]? = nil,
             observer: @escaping @Sendable (AgentUpdate) -> Void) async -> RunOutcome {
        guard let live = self.model, let header else { preconditionFailure("RunContext.run: opened without a model") }
        let progress = self.progress
        progress.begin()
        let loop = AgentLoop(model: model ?? live, tools: tools ?? self.tools, sink: writer ?? DiscardingSink()) { update in
            progress.note(update)
            observer(update)
        }
        return await loop.run(spec, header: header)
    }

    /// Until `close()`: on Ctrl-C, `before()` (stop the terminal UI), then `recordInterruption()`, a note, and exit 130
    /// (everything written is already on disk: the writer syncs the final event, stdout and stderr are unbuffered).
    func exitOnInterrupt(before: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            before()
            recordInterruption()
            Console.err("\ninterrupted; transcript: \(writer?.path ?? "none")\n")
            // _exit, not exit: the exit handlers (OpenBLAS frees its buffers) must not run under a prefill in flight.
            _exit(130)
        }
        lock.withLock { interrupt = source }
        source.resume()
    }

    /// An interrupted run: the final event (with the progress so far) and the closed transcript, and the temporary
    /// work directory removed. Synchronous, for a signal handler; the tools' processes die with loza
    /// (bubblewrap's --die-with-parent), so they are not shut down.
    func recordInterruption() {
        let (steps, tokens, seconds) = progress.snapshot
        try? writer?.record(.final(RunOutcome(status: .failed, reason: "interrupted (SIGINT)", steps: steps, tokens: tokens,
                                              wallSeconds: seconds)))
        writer?.close()
        policy.removeTemporaryWorkdir()
    }

    /// Releases everything: the SIGINT handler, the transcript writer, every tool (shut down in order), the
    /// temporary work directory (unless the spec keeps it: see `keptWorkdir`). Later calls do nothing.
    func close() async {
        let first: Bool = lock.withLock {
            defer { closed = true }
            interrupt?.cancel()
            return !closed
        }
        guard first else { return }
        writer?.close()
        let clock = ContinuousClock()
        for t in tools {
            let started = clock.now
            await t.shutdown()
            let took = Self.seconds(clock.now - started)
            log.debug("tool shut down", metadata: ["tool": "\(t.declaration.name)", "seconds": "\(took)"])
            // An MCP server gets a second to exit once its stdin closes; then it is killed.
            if took >= 1 { log.info("tool '\(t.declaration.name)' was slow to shut down (\(took)s)") }
        }
        if policy.removeTemporaryWorkdir() == nil && policy.temporaryWorkdir {
            log.debug("work directory removed", metadata: ["workdir": "\(policy.workdir)"])
        }
    }

    /// A note for the user when tool calls failed in a work directory the spec gave nothing: a fresh, empty
    /// one (no `sandbox.workdir` and no `sandbox.workdir_from`). Tools get only what the spec grants, so a
    /// question about files next to the spec is answered from an empty directory; the note names the keys
    /// that grant them. Nil when the spec grants a directory, runs unsandboxed, or no call failed.
    var emptyWorkdirNote: String? {
        Self.emptyWorkdirNote(policy: policy, failedCalls: progress.failedToolCalls)
    }

    static func emptyWorkdirNote(policy: SandboxPolicy, failedCalls: Int) -> String? {
        guard failedCalls > 0, policy.temporaryWorkdir, policy.settings.workdirFrom == nil, !policy.settings.disabled else { return nil }
        let calls = failedCalls == 1 ? "1 tool call" : "\(failedCalls) tool calls"
        return "note: \(calls) failed in an empty work directory: the spec gives the tools no files "
            + "(sandbox: {workdir_from: DIR} copies DIR in; sandbox: {workdir: DIR} works in DIR itself)"
    }

    /// The temporary work directory when the spec asked to keep it (`sandbox.keep_workdir`).
    var keptWorkdir: String? { policy.temporaryWorkdir && policy.settings.keepWorkdir ? policy.workdir : nil }

    /// Where a run's transcript goes when neither the command line nor the spec says.
    static func defaultTranscriptPath(name: String) -> String {
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" })
        let stamp = TranscriptWriter.timestamp().replacingOccurrences(of: ":", with: "").replacingOccurrences(of: ".", with: "-")
        return "transcripts/\(safe)-\(stamp).jsonl"
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, attos) = d.components
        return ((Double(s) + Double(attos) / 1e18) * 1000).rounded() / 1000
    }
}
