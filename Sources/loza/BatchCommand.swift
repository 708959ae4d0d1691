import AgentCore
import ArgumentParser
import Foundation
import LocalModel
import Logging

/// `loza batch TASKS.jsonl --out RESULTS.jsonl [--jobs N] [--json]`: many tasks, one model load.
struct BatchCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run many agent tasks from a JSONL file, one result line each.",
        discussion: """
            Each line of TASKS: {"id": ..., "spec": PATH or an inline spec object, "params": {...}} (PATH relative \
            to the tasks file; params override spec parameters like `run --param`). Each finished task appends \
            {"id","status","answer","reason","calls":[{"name","arguments","turn","step","ungrounded"?}],"steps","tokens","wall_s",\
            "transcript"} to RESULTS and syncs it; a task that cannot run is a line with status "error" and its \
            reason. Ids already in RESULTS are skipped, so a rerun resumes. Up to --jobs tasks run at once. Tasks \
            naming the same local model share one loaded model: their decode steps are computed together, one \
            pass over the weights for the next token of every task decoding (each task's tokens are those it \
            gets alone), their prompts are processed one at a time. With a remote model (`model: {url: ...}`) \
            up to --jobs requests are in flight, for the server to batch. --json summary: "shared_passes" and \
            "shared_rows" count the decode passes that carried several tasks and their rows. Exit status: 0 when every task was tried, \
            2 for bad input (no tasks file, RESULTS not writable), 130 on Ctrl-C (finished results stay).
            """)

    @Argument(help: "The tasks (JSONL).")
    var tasks: String

    @Option(help: "Where the result lines go (appended; ids already there are skipped).")
    var out: String

    @Option(help: "Tasks run at the same time.")
    var jobs: Int = 1

    @Option(help: "Folder of the tasks' transcripts (default: RESULTS without .jsonl, plus .transcripts).")
    var transcripts: String?

    @Option(help: "Compute threads for a local model (default: all cores).")
    var threads: Int?

    @Flag(help: "Print a summary object on stdout at the end.")
    var json = false

    @OptionGroup var logging: LogOptions

    func run() async throws {
        let code = await runCLI { try await execute() }
        if code != 0 { throw ExitCode(code) }
    }

    func execute() async throws -> Int32 {
        guard jobs >= 1 else { throw CLIError.input("--jobs: expected at least 1, got \(jobs)") }
        let all = try BatchTasks.read(tasks)
        let results = try BatchResults(path: out)
        let folder = transcripts ?? ((out as NSString).deletingPathExtension + ".transcripts")
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw CLIError.input("--transcripts \(folder): \(error.localizedDescription)")
        }
        let todo = all.filter { !results.done.contains($0.id) }
        if todo.count < all.count { Console.err("\(all.count - todo.count) of \(all.count) tasks already in \(out): skipped\n") }

        let runner = BatchRunner(results: results, folder: folder, threads: threads, total: todo.count)
        runner.installInterruptHandler()
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var next = todo.makeIterator()
            for _ in 0..<min(jobs, todo.count) {
                if let task = next.next() { group.addTask { await runner.run(task) } }
            }
            while await group.next() != nil {
                if let task = next.next() { group.addTask { await runner.run(task) } }
            }
        }
        runner.finishProgress()
        let summary = runner.summary(tasks: all.count, skipped: all.count - todo.count,
                                     seconds: RunContext.seconds(ContinuousClock.now - started))
        if json { Console.out(summary.serialized(.compact) + "\n") }
        return 0
    }
}

/// What the tasks of one batch share: the loaded models, the results file, the progress and the live runs
/// (for Ctrl-C).
final class BatchRunner: @unchecked Sendable {
    let results: BatchResults
    let folder: String
    let threads: Int?
    let total: Int
    private let lock = NSLock()
    private var models: [String: any LanguageModel] = [:]
    private var live: [ObjectIdentifier: RunContext] = [:]
    private var finished = 0, failed = 0, tokens = 0
    private var byStatus: [String: Int] = [:]
    private let started = ContinuousClock.now
    private let log = Logger(label: "loza.batch")
    private var interrupt: DispatchSourceSignal?
    private let progressOnTerminal = Console.stderrIsTTY

    init(results: BatchResults, folder: String, threads: Int?, total: Int) {
        self.results = results
        self.folder = folder
        self.threads = threads
        self.total = total
    }

    /// One model per distinct model setting, loaded on first use and shared by every task naming it; a local
    /// one is forked per task (its own session and cache, the weights shared, decode steps in shared passes).
    private func model(for spec: TaskSpec) throws -> any LanguageModel {
        let shared = try loadedModel(for: spec)
        return (shared as? LocalChatModel)?.fork() ?? shared
    }

    private func loadedModel(for spec: TaskSpec) throws -> any LanguageModel {
        let key = "\(spec.model)|\(String(describing: spec.attention))|\(spec.constrainToolCalls)|\(spec.parallelCalls)|\(spec.tagCalls)|\(spec.preferCopiedValues)|\(spec.speculation)"
        return try lock.withLock {
            if let m = models[key] { return m }
            let m = try ModelFactory.make(spec, threads: threads)
            log.info("model loaded", metadata: ["model": "\(m.description.name)", "tasks_sharing": "all with this model"])
            models[key] = m
            return m
        }
    }

    func run(_ task: BatchTask) async {
        let spec: TaskSpec
        switch task.spec {
        case .failure(let e):
            record(task.id, outcome: nil, reason: e.description, calls: [], transcript: nil)
            return
        case .success(let s): spec = s
        }
        let path = (folder as NSString).appendingPathComponent(Self.fileName(task.id) + ".jsonl")
        let context: RunContext
        do {
            context = try await RunContext.open(spec, origin: "task \(task.id)", options: .init(transcript: path, threads: threads)) {
                try self.model(for: spec)
            }
        } catch {
            record(task.id, outcome: nil, reason: "\(error)", calls: [], transcript: nil)
            return
        }
        lock.withLock { live[ObjectIdentifier(context)] = context }
        let calls = BatchCallLog()
        let outcome = await context.run { update in
            if case .event(let e) = update { calls.note(e) }
        }
        lock.withLock { _ = live.removeValue(forKey: ObjectIdentifier(context)) }
        await context.close()
        record(task.id, outcome: outcome, reason: nil, calls: calls.all, transcript: path)
    }

    private func record(_ id: String, outcome: RunOutcome?, reason: String?, calls: [JSONValue], transcript: String?) {
        results.append(BatchResults.line(id: id, outcome: outcome, reason: reason, calls: calls, transcript: transcript))
        let status = outcome?.status.rawValue ?? "error"
        let (done, bad, tok, elapsed): (Int, Int, Int, Double) = lock.withLock {
            finished += 1
            if outcome == nil || outcome?.status == .failed { failed += 1 }
            tokens += outcome?.tokens ?? 0
            byStatus[status, default: 0] += 1
            return (finished, failed, tokens, RunContext.seconds(ContinuousClock.now - started))
        }
        let rate = elapsed > 0 ? Double(tok) / elapsed : 0
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        if progressOnTerminal {
            Console.err(String(format: "\r\u{1B}[K[%d/%d] %d failed · %.1f tok/s · ETA %.0fs", done, total, bad, rate, eta))
        } else {
            Console.err("[\(done)/\(total)] \(id): \(status)" + (reason.map { " (\($0))" } ?? "") + "\n")
        }
    }

    func finishProgress() {
        if progressOnTerminal && total > 0 { Console.err("\n") }
    }

    func summary(tasks: Int, skipped: Int, seconds: Double) -> JSONValue {
        lock.withLock {
            // Decode passes that carried the steps of several tasks of one local model, and their rows.
            let shared = models.values.compactMap { ($0 as? LocalChatModel)?.sharedPasses }
            return [
                "tasks": .int(Int64(tasks)), "done": .int(Int64(finished)), "skipped": .int(Int64(skipped)),
                "failed": .int(Int64(failed)), "by_status": .object(byStatus.keys.sorted().map { JSONMember($0, .int(Int64(byStatus[$0] ?? 0))) }),
                "wall_s": .double((seconds * 1000).rounded() / 1000), "tokens": .int(Int64(tokens)),
                "shared_passes": .int(Int64(shared.reduce(0) { $0 + $1.passes })),
                "shared_rows": .int(Int64(shared.reduce(0) { $0 + $1.rows })),
            ]
        }
    }

    /// Ctrl-C: every run in flight gets its final event (its result line is not written: it reruns next
    /// time), then exit 130. Finished results are already on disk.
    func installInterruptHandler() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            let running = lock.withLock { Array(live.values) }
            for context in running { context.recordInterruption() }
            Console.err("\ninterrupted: \(running.count) task(s) in flight will run again; results: \(results.path)\n")
            _exit(130)
        }
        interrupt = source
        source.resume()
    }

    /// A task id as a file name.
    static func fileName(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }.prefix(120))
    }
}
