import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one child process is started. File descriptors the child sees:
/// 0 stdin (`/dev/null` or the bytes of `stdin`), 1 stdout, 2 stderr (or stdout when `stderrIntoStdout`),
/// 3 a status pipe (`statusFD`, bwrap's `--json-status-fd`), 4 the tool's own stderr (`toolStderr`),
/// 5 a gate (`gated`: the child blocks reading it until `prepare` has run). Nothing else is inherited.
struct ProcessSpec: Sendable {
    enum ToolStderr: Sendable { case none, stdout, separate }

    var executable: String
    var arguments: [String]
    var environment: [String]
    var workingDirectory: String? = nil
    var stdin: [UInt8]? = nil
    var stderrIntoStdout = false
    var statusFD = false
    var toolStderr: ToolStderr = .none
    var gated = false
    var newSession = true
    var timeoutSeconds: Double
    var outputLimit: Int
    var stderrLimit: Int = 16 << 10
}

/// What happened to a child process.
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
    /// The child could not be started at all.
    var spawnError: String?
    /// `ProcessHooks.prepare` refused; the child was killed before it ran anything.
    var prepareFailure: String?
}

/// Hooks run on the runner's thread.
struct ProcessHooks: Sendable {
    /// Called once the gated child exists and before it may proceed; a non-nil result kills it.
    var prepare: (@Sendable (pid_t) -> String?)? = nil
    /// Polled every `watchdogInterval` with the sandbox's init pid (from the status pipe);
    /// a non-nil result kills the child with that reason.
    var watchdog: (@Sendable (pid_t) -> String?)? = nil
    var watchdogInterval = 0.02
}

/// Spawns a child with `posix_spawn` and collects its output with non-blocking reads under `poll`,
/// on a dedicated thread so that the Swift concurrency pool is never blocked.
enum ProcessRunner {
    static func run(_ spec: ProcessSpec, hooks: ProcessHooks = ProcessHooks()) async -> ProcessOutcome {
        await withCheckedContinuation { (cont: CheckedContinuation<ProcessOutcome, Never>) in
            let thread = Thread {
                cont.resume(returning: runBlocking(spec, hooks: hooks))
            }
            thread.name = "loza-tool-process"
            thread.start()
        }
    }

    static func runBlocking(_ spec: ProcessSpec, hooks: ProcessHooks) -> ProcessOutcome {
        _ = ignoreSIGPIPE
        var outcome = ProcessOutcome()
        var stdoutCapture = OutputCapture(limit: spec.outputLimit)
        var stderrCapture = OutputCapture(limit: spec.stderrLimit)
        var toolStderrCapture = OutputCapture(limit: spec.stderrLimit)
        let start = LibC.monotonicSeconds()
        execute(spec, hooks: hooks, start: start, outcome: &outcome, stdoutCapture: &stdoutCapture,
                stderrCapture: &stderrCapture, toolStderrCapture: &toolStderrCapture)
        outcome.durationSeconds = LibC.monotonicSeconds() - start
        outcome.stdout = stdoutCapture.finished
        outcome.stderr = stderrCapture.finished
        if spec.toolStderr == .separate { outcome.toolStderr = toolStderrCapture.finished }
        return outcome
    }

    private static func execute(_ spec: ProcessSpec, hooks: ProcessHooks, start: Double, outcome: inout ProcessOutcome,
                                stdoutCapture: inout OutputCapture, stderrCapture: inout OutputCapture,
                                toolStderrCapture: inout OutputCapture) {

        guard let addCloseFrom = LibC.addCloseFrom, let pipe2 = LibC.pipe2 else {
            outcome.spawnError = "this C library lacks posix_spawn_file_actions_addclosefrom_np or pipe2 (glibc 2.34+ required)"
            return
        }
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        func makePipe() -> (r: Int32, w: Int32)? {
            var fds: [Int32] = [-1, -1]
            guard pipe2(&fds, O_CLOEXEC) == 0 else { return nil }
            opened += fds
            return (fds[0], fds[1])
        }
        func forget(_ fd: Int32) {
            if let i = opened.firstIndex(of: fd) { opened.remove(at: i) }
            close(fd)
        }

        guard let outPipe = makePipe(), let errPipe = makePipe() else {
            outcome.spawnError = "pipe: \(LibC.errnoText())"
            return
        }
        let inPipe = spec.stdin != nil ? makePipe() : nil
        let statusPipe = spec.statusFD ? makePipe() : nil
        let toolErrPipe = spec.toolStderr == .separate ? makePipe() : nil
        let gatePipe = spec.gated ? makePipe() : nil
        if (spec.stdin != nil && inPipe == nil) || (spec.statusFD && statusPipe == nil)
            || (spec.toolStderr == .separate && toolErrPipe == nil) || (spec.gated && gatePipe == nil) {
            outcome.spawnError = "pipe: \(LibC.errnoText())"
            return
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let inPipe {
            posix_spawn_file_actions_adddup2(&actions, inPipe.r, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe.w, 1)
        posix_spawn_file_actions_adddup2(&actions, spec.stderrIntoStdout ? outPipe.w : errPipe.w, 2)
        if let statusPipe { posix_spawn_file_actions_adddup2(&actions, statusPipe.w, 3) }
        switch spec.toolStderr {
        case .none: break
        case .stdout: posix_spawn_file_actions_adddup2(&actions, outPipe.w, 4)
        case .separate: posix_spawn_file_actions_adddup2(&actions, toolErrPipe!.w, 4)
        }
        if let gatePipe { posix_spawn_file_actions_adddup2(&actions, gatePipe.r, 5) }
        _ = addCloseFrom(&actions, 6)
        if let dir = spec.workingDirectory {
            guard let addChdir = LibC.addChdir else {
                outcome.spawnError = "this C library lacks posix_spawn_file_actions_addchdir_np"
                return
            }
            _ = dir.withCString { addChdir(&actions, $0) }
        }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attr, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in 1..<32 where sig != SIGKILL && sig != SIGSTOP { sigaddset(&defaults, Int32(sig)) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if spec.newSession { flags |= LibC.spawnSetSID }
        posix_spawnattr_setflags(&attr, Int16(flags))

        var pid: pid_t = 0
        let argv = spec.arguments.map { strdup($0) } + [nil]
        let envp = spec.environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        let rc = posix_spawn(&pid, spec.executable, &actions, &attr, argv, envp)
        guard rc == 0 else {
            outcome.spawnError = "cannot start \(spec.executable): \(LibC.errnoText(rc))"
            return
        }
        // The child's ends are the child's now.
        forget(outPipe.w); forget(errPipe.w)
        if let inPipe { forget(inPipe.r) }
        if let statusPipe { forget(statusPipe.w) }
        if let toolErrPipe { forget(toolErrPipe.w) }
        if let gatePipe { forget(gatePipe.r) }

        var initPid: pid_t = 0
        var killed = false
        func killAll() {
            if spec.newSession { kill(-pid, SIGKILL) }
            kill(pid, SIGKILL)
            if initPid > 0 { kill(initPid, SIGKILL) }
            killed = true
        }

        if let gatePipe {
            if let problem = hooks.prepare?(pid) {
                outcome.prepareFailure = problem
                killAll()
            } else {
                var nl: UInt8 = 10
                _ = write(gatePipe.w, &nl, 1)
            }
            forget(gatePipe.w)
        }

        // Readers: (fd, which capture). 0 stdout, 1 stderr, 2 status, 3 tool stderr.
        var readers: [(fd: Int32, kind: Int)] = [(outPipe.r, 0), (errPipe.r, 1)]
        if let statusPipe { readers.append((statusPipe.r, 2)) }
        if let toolErrPipe { readers.append((toolErrPipe.r, 3)) }
        for r in readers { _ = fcntl(r.fd, F_SETFL, fcntl(r.fd, F_GETFL) | O_NONBLOCK) }
        var stdinFD: Int32 = -1
        var stdinBytes = spec.stdin ?? []
        var stdinOffset = 0
        if let inPipe {
            stdinFD = inPipe.w
            _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
            if stdinBytes.isEmpty { forget(stdinFD); stdinFD = -1 }
        }

        let deadline = start + max(spec.timeoutSeconds, 0)
        var drainDeadline = Double.infinity
        var nextWatchdog = start
        var reaped = false
        var waitStatus: Int32 = 0
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }

        while !readers.isEmpty || stdinFD >= 0 || !reaped {
            let now = LibC.monotonicSeconds()
            if !killed && now >= deadline {
                outcome.timedOut = true
                killAll()
                drainDeadline = now + 2
            }
            if now >= drainDeadline {
                // Only an unsandboxed descendant that escaped the process group can hold a pipe this long.
                break
            }
            if !killed, let watchdog = hooks.watchdog, initPid > 0, now >= nextWatchdog {
                nextWatchdog = now + hooks.watchdogInterval
                if let reason = watchdog(initPid) {
                    outcome.killReason = reason
                    killAll()
                    drainDeadline = now + 2
                }
            }
            if !reaped {
                let r = waitpid(pid, &waitStatus, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) {
                    reaped = true
                    // Unsandboxed: a child's background descendants die with it.
                    if spec.newSession { kill(-pid, SIGKILL) }
                    if !readers.isEmpty { drainDeadline = min(drainDeadline, now + 2) }
                }
            }
            if readers.isEmpty && stdinFD < 0 {
                if reaped { break }
                // Outputs closed, child still running: wait for it (or the deadline) in small sleeps.
                usleep(2000)
                continue
            }

            var pfds = readers.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if stdinFD >= 0 { pfds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            var waitMs = min(deadline, drainDeadline) - now
            if hooks.watchdog != nil { waitMs = min(waitMs, hooks.watchdogInterval) }
            if reaped == false { waitMs = min(waitMs, 0.1) }
            let timeout = Int32(max(0, min(waitMs, 1.0)) * 1000) + 1
            let n = poll(&pfds, nfds_t(pfds.count), timeout)
            if n < 0 && errno != EINTR { break }
            if n <= 0 { continue }

            var closedReaders: [Int32] = []
            for (i, r) in readers.enumerated() where pfds[i].revents != 0 {
                while true {
                    let got = read(r.fd, buffer, 1 << 16)
                    if got > 0 {
                        let chunk = UnsafeRawBufferPointer(start: buffer, count: got)
                        switch r.kind {
                        case 0: stdoutCapture.append(chunk)
                        case 1: stderrCapture.append(chunk)
                        case 2:
                            if outcome.status.utf8.count < 4096 { outcome.status += String(decoding: chunk, as: UTF8.self) }
                            if initPid == 0, let p = parseChildPid(outcome.status) { initPid = p }
                        default: toolStderrCapture.append(chunk)
                        }
                        if got < (1 << 16) { break }
                    } else if got == 0 || (errno != EAGAIN && errno != EINTR) {
                        closedReaders.append(r.fd)
                        break
                    } else if errno == EAGAIN {
                        break
                    }
                }
            }
            for fd in closedReaders {
                readers.removeAll { $0.fd == fd }
                forget(fd)
            }
            if stdinFD >= 0, let pf = pfds.last, pf.revents != 0 {
                if pf.revents & Int16(POLLOUT) != 0 {
                    let wrote = stdinBytes.withUnsafeBytes { raw in
                        write(stdinFD, raw.baseAddress! + stdinOffset, raw.count - stdinOffset)
                    }
                    if wrote > 0 { stdinOffset += wrote }
                    if stdinOffset >= stdinBytes.count || (wrote < 0 && errno != EAGAIN) {
                        forget(stdinFD); stdinFD = -1; stdinBytes = []
                    }
                } else {
                    forget(stdinFD); stdinFD = -1; stdinBytes = []
                }
            }
        }
        if !reaped {
            killAll()
            waitpid(pid, &waitStatus, 0)
        }
        if stdinFD >= 0 { forget(stdinFD) }
        // bwrap may exit as soon as its init reports the command's status, while the init is still tearing
        // down the PID namespace. The call is over only when the init is dead (a zombie or gone): by then
        // the kernel has killed and reaped every other process of the namespace.
        if initPid > 0 {
            for _ in 0..<2000 where isAlive(initPid) { usleep(500) }
        }
        let termSig = waitStatus & 0x7f
        if termSig == 0 {
            outcome.exitCode = (waitStatus >> 8) & 0xff
        } else {
            outcome.signal = termSig
        }
    }

    /// True while `pid` exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buf, buf.count)
        guard n > 0, let close = buf[0..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        let state = buf[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    /// `"child-pid": 1234` from bwrap's JSON status (only once the number is complete).
    static func parseChildPid(_ status: String) -> pid_t? {
        guard let r = status.range(of: "\"child-pid\":") else { return nil }
        let rest = status[r.upperBound...].drop(while: { $0 == " " })
        let digits = rest.prefix(while: { $0.isNumber })
        guard !digits.isEmpty, rest.count > digits.count else { return nil }
        return pid_t(digits)
    }

    /// Writing to a pipe whose reader died must be an error, not a signal that ends loza.
    static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()
}
