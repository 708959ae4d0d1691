#if canImport(Glibc)
import Glibc
#endif

/// `posix_spawn` with the child's descriptors given explicitly: `fds[i] = (parentFD, childFD)` are dup'ed
/// into place, every other descriptor is closed, signals are reset to their defaults, and the child starts
/// a new session. Used for long-running children (MCP servers); `ProcessRunner` has its own copy tuned to
/// run-to-completion calls.
enum Spawn {
    static func spawn(executable: String, arguments: [String], environment: [String], fds: [(Int32, Int32)]) -> Result<pid_t, SandboxError> {
        guard let addCloseFrom = LibC.addCloseFrom else {
            return .failure(.setup("this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34+ required)"))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (from, to) in fds { posix_spawn_file_actions_adddup2(&actions, from, to) }
        let highest = fds.map(\.1).max() ?? 2
        _ = addCloseFrom(&actions, highest + 1)
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
        posix_spawnattr_setflags(&attr, Int16(Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | LibC.spawnSetSID))
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        guard rc == 0 else { return .failure(.setup("cannot start \(executable): \(LibC.errnoText(rc))")) }
        return .success(pid)
    }

    static func pipe() -> (r: Int32, w: Int32)? {
        guard let pipe2 = LibC.pipe2 else { return nil }
        var fds: [Int32] = [-1, -1]
        guard pipe2(&fds, O_CLOEXEC) == 0 else { return nil }
        return (fds[0], fds[1])
    }
}
