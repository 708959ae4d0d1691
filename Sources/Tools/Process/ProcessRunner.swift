#if canImport(Glibc)
import Glibc
#endif

/// A run-to-completion call: the child's wiring, the bytes for its stdin, its wall-clock limit and the
/// caps on what of its output is kept.
struct ProcessSpec: Sendable {
    var child: ChildSpec
    /// Bytes on the child's stdin; nil = stdin is `/dev/null`.
    var stdin: [UInt8]? = nil
    var timeoutSeconds: Double
    var outputLimit: Int
    var stderrLimit: Int = 16 << 10
}

/// What happened to a run-to-completion child.
struct ProcessOutcome: Sendable {
    var exitCode: Int32?
    var signal: Int32?
    var timedOut = false
    /// Set when the runner killed the child for a reason other than the timeout (e.g. too many processes).
    var killReason: String?
    var stdout = CapturedText.empty
    var stderr = CapturedText.empty
    var toolStderr: CapturedText?
    var status = ""
    var durationSeconds = 0.0
    /// The child could not be started, or `ProcessHooks.prepare` refused: nothing of it ran.
    var spawnError: String?
}

/// Hooks run on the runner's thread.
struct ProcessHooks: Sendable {
    /// Called once the gated child exists and before it may proceed; a non-nil result kills it.
    var prepare: (@Sendable (pid_t) -> String?)? = nil
    /// Polled every `watchdogInterval` with the sandbox's init pid (0 until bwrap names it); a non-nil
    /// result kills the child with that reason.
    var watchdog: (@Sendable (pid_t) -> String?)? = nil
    var watchdogInterval = 0.02
}

/// Run to completion, as a thin use of `Child` and `ChildPump`: write stdin, keep the head and tail of
/// each output (hashing all of it) until the child exits, or kill every process of it at the deadline.
enum ProcessRunner {
    static func run(_ spec: ProcessSpec, hooks: ProcessHooks = ProcessHooks()) async -> ProcessOutcome {
        await withCheckedContinuation { (cont: CheckedContinuation<ProcessOutcome, Never>) in
            ChildPump.detach("loza-tool-process") {
                cont.resume(returning: runBlocking(spec, hooks: hooks))
            }
        }
    }

    static func runBlocking(_ spec: ProcessSpec, hooks: ProcessHooks) -> ProcessOutcome {
        let start = LibC.monotonicSeconds()
        var outcome = ProcessOutcome()
        var wiring = spec.child
        wiring.stdinPipe = spec.stdin != nil
        let pump: ChildPump
        switch ChildPump.spawn(wiring, prepare: hooks.prepare) {
        case .success(let p): pump = p
        case .failure(let e):
            outcome.spawnError = e.description
            outcome.durationSeconds = LibC.monotonicSeconds() - start
            return outcome
        }
        var stdout = OutputCapture(limit: spec.outputLimit)
        var stderr = OutputCapture(limit: spec.stderrLimit)
        var toolStderr = OutputCapture(limit: spec.stderrLimit)
        pump.sinks = [.stdout: { stdout.append($0) }, .stderr: { stderr.append($0) }, .toolStderr: { toolStderr.append($0) }]
        pump.deadline = start + max(spec.timeoutSeconds, 0)
        if let watchdog = hooks.watchdog {
            pump.check = { _, initPid in watchdog(initPid) }
            pump.checkInterval = hooks.watchdogInterval
        }
        if let bytes = spec.stdin { pump.send(bytes) }
        pump.finishInput()
        let end = pump.run()
        outcome.exitCode = end.exitCode
        outcome.signal = end.signal
        outcome.timedOut = end.timedOut
        outcome.killReason = end.killReason
        outcome.status = end.status
        outcome.durationSeconds = LibC.monotonicSeconds() - start
        outcome.stdout = stdout.finished
        outcome.stderr = stderr.finished
        if spec.child.toolStderr == .separate { outcome.toolStderr = toolStderr.finished }
        return outcome
    }
}
