#if canImport(Glibc)
import Glibc
#endif

/// A child that could not be started; nothing of it is left running.
struct SpawnFailure: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// One child process and the parent's ends of its pipes. `spawn` is the only place loza calls
/// `posix_spawn`; a `ChildPump` drives the child from then on and owns these descriptors.
final class Child: @unchecked Sendable {
    let pid: pid_t
    let newSession: Bool
    /// Parent ends of the pipes, -1 where the spec wires none.
    let stdin: Int32, stdout: Int32, stderr: Int32, status: Int32, toolStderr: Int32
    /// A pidfd of the child (readable once it exited), or -1 where the kernel has none.
    let exitFD: Int32
    /// The sandbox's init (pid 1 of its PID namespace) as seen from here, once bwrap's status names it
    /// (`adoptInit`). Set and read by the pump's thread only.
    private(set) var initPid: pid_t = 0
    /// A pidfd of the sandbox's init, or -1. The init is not our child: once it exits, the system reaps it
    /// and its pid may be reused at once (a fork bomb elsewhere cycles through all 32768 in seconds), so it
    /// is signalled and awaited through this descriptor, never by number.
    private var initFD: Int32 = -1
    private(set) var reaped = false

    private init(pid: pid_t, newSession: Bool, fds: [Int32]) {
        self.pid = pid
        self.newSession = newSession
        (stdin, stdout, stderr, status, toolStderr) = (fds[0], fds[1], fds[2], fds[3], fds[4])
        exitFD = LibC.pidfdOpen?(pid, 0) ?? -1
    }

    deinit {
        if initFD >= 0 { close(initFD) }
    }

    /// Takes `pid` as the sandbox's init once it is pinned by a pidfd and is still a child of ours
    /// (bwrap's); a pid already gone (or reused) is not adopted.
    func adoptInit(_ pid: pid_t) {
        guard initPid == 0, pid > 0, let open = LibC.pidfdOpen else { return }
        let fd = open(pid, 0)
        guard fd >= 0 else { return }
        guard Child.parentPid(of: pid) == self.pid else {
            close(fd)
            return
        }
        initFD = fd
        initPid = pid
    }

    /// The parent pid from `/proc/PID/stat`, or nil.
    static func parentPid(of pid: pid_t) -> pid_t? {
        guard let text = statLine(pid), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    private static func statLine(_ pid: pid_t) -> String? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buf, buf.count)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
    }

    /// Starts the child. With `spec.gated`, `prepare` runs once the child exists and before it may go on
    /// (rlimits, cgroups); a non-nil answer kills and reaps it, and is the failure.
    /// It is spawned from `SpawnThread` (see there why).
    static func spawn(_ spec: ChildSpec, prepare: ((pid_t) -> String?)? = nil) -> Result<Child, SpawnFailure> {
        SpawnThread.shared.perform { spawnHere(spec, prepare: prepare) }
    }

    private static func spawnHere(_ spec: ChildSpec, prepare: ((pid_t) -> String?)?) -> Result<Child, SpawnFailure> {
        guard let addCloseFrom = LibC.addCloseFrom, let pipe2 = LibC.pipe2 else {
            return .failure(SpawnFailure(description: "this C library lacks posix_spawn_file_actions_addclosefrom_np or pipe2 (glibc 2.34+ required)"))
        }
        var opened: [Int32] = []
        var pipeError: String?
        func makePipe(_ wanted: Bool = true) -> (r: Int32, w: Int32)? {
            guard wanted, pipeError == nil else { return nil }
            var fds: [Int32] = [-1, -1]
            guard pipe2(&fds, O_CLOEXEC) == 0 else {
                pipeError = LibC.errnoText()
                return nil
            }
            opened += fds
            return (fds[0], fds[1])
        }
        func closeAll() { for fd in opened { close(fd) } }
        let outPipe = makePipe(), errPipe = makePipe(!spec.stderrIntoStdout), inPipe = makePipe(spec.stdinPipe)
        let statusPipe = makePipe(spec.statusFD), toolErrPipe = makePipe(spec.toolStderr == .separate)
        let gatePipe = makePipe(spec.gated)
        guard pipeError == nil, let outPipe else {
            closeAll()
            return .failure(SpawnFailure(description: "pipe: \(pipeError ?? "?")"))
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
        posix_spawn_file_actions_adddup2(&actions, errPipe?.w ?? outPipe.w, 2)
        var extra: [Int32: Int32] = [:]
        if let statusPipe { extra[3] = statusPipe.w }
        switch spec.toolStderr {
        case .none: break
        case .stdout: extra[4] = outPipe.w
        case .separate: extra[4] = toolErrPipe!.w
        }
        if let gatePipe { extra[5] = gatePipe.r }
        for fd: Int32 in 3...5 {
            if let from = extra[fd] {
                posix_spawn_file_actions_adddup2(&actions, from, fd)
            } else {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }
        _ = addCloseFrom(&actions, 6)
        if let dir = spec.workingDirectory {
            guard let addChdir = LibC.addChdir else {
                closeAll()
                return .failure(SpawnFailure(description: "this C library lacks posix_spawn_file_actions_addchdir_np"))
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
            closeAll()
            return .failure(SpawnFailure(description: "cannot start \(spec.executable): \(LibC.errnoText(rc))"))
        }
        // The child's ends are the child's now.
        let childEnds = [inPipe?.r, outPipe.w, errPipe?.w, statusPipe?.w, toolErrPipe?.w, gatePipe?.r].compactMap { $0 }
        for fd in childEnds { close(fd) }
        let child = Child(pid: pid, newSession: spec.newSession,
                          fds: [inPipe?.w ?? -1, outPipe.r, errPipe?.r ?? -1, statusPipe?.r ?? -1, toolErrPipe?.r ?? -1])
        if let gatePipe {
            defer { close(gatePipe.w) }
            if let problem = prepare?(pid) {
                child.signal(SIGKILL)
                _ = child.reap()
                for fd in child.descriptors { close(fd) }
                return .failure(SpawnFailure(description: problem))
            }
            var nl: UInt8 = 10
            _ = write(gatePipe.w, &nl, 1)
        }
        return .success(child)
    }

    /// `sig` to everything of the child: its process group (with `newSession`), itself, and the sandbox's
    /// init, whose death makes the kernel kill every process of the sandbox's PID namespace.
    func signal(_ sig: Int32) {
        if !reaped {
            if newSession { kill(-pid, sig) }
            kill(pid, sig)
        }
        if initFD >= 0 { _ = LibC.pidfdSendSignal?(initFD, sig, nil, 0) }
    }

    /// True once the child exited (it stays a zombie, so its pid and process group cannot be reused
    /// until `reap`).
    var hasExited: Bool {
        if reaped { return true }
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_signo != 0
    }

    /// Waits for the child and returns its raw wait status.
    func reap() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        return status
    }

    /// bwrap may exit as soon as its init reports the command's status, while the init is still tearing
    /// down the PID namespace. The child is gone only when the init is dead (a zombie or gone): by then
    /// the kernel has killed and reaped every other process of the namespace.
    func awaitSandboxGone() {
        guard initFD >= 0 else { return }
        var pfd = pollfd(fd: initFD, events: Int16(POLLIN), revents: 0)
        let until = LibC.monotonicSeconds() + 1
        while pfd.revents == 0 {
            let left = until - LibC.monotonicSeconds()
            if left <= 0 || (poll(&pfd, 1, Int32(left * 1000) + 1) < 0 && errno != EINTR) { return }
        }
    }

    /// Every open parent-side descriptor; whoever drives the child closes each once.
    var descriptors: [Int32] {
        [stdin, stdout, stderr, status, toolStderr, exitFD].filter { $0 >= 0 }
    }

    /// `"child-pid": 1234` from bwrap's JSON status (only once the number is complete).
    static func parseChildPid(_ status: String) -> pid_t? {
        guard let r = status.range(of: "\"child-pid\":") else { return nil }
        let rest = status[r.upperBound...].drop(while: { $0 == " " })
        let digits = rest.prefix(while: { $0.isNumber })
        guard !digits.isEmpty, rest.count > digits.count else { return nil }
        return pid_t(digits)
    }
}
