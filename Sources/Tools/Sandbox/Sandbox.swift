import AgentCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One command to run for a tool.
struct SandboxCommand: Sendable {
    var argv: [String]
    /// Bytes on the command's stdin; nil = stdin is `/dev/null`.
    var stdin: [UInt8]? = nil
    /// Keep stderr apart from stdout (plugins); otherwise both go to one pipe, in the order written.
    var separateStderr = false
    /// Host paths bound read-only at the same place (a plugin's folder).
    var readOnly: [String] = []
    var extraEnv: [String: String] = [:]
    var timeoutSeconds: Double? = nil
    var outputLimit: Int? = nil
    var network: Bool? = nil
}

/// The outcome of a sandboxed command.
struct SandboxRun: Sendable {
    var process: ProcessOutcome
    /// The sandbox (or the unsandboxed launcher) could not be set up: nothing ran.
    var failure: String?
    /// The wall-clock limit this run had.
    var timeout: Double? = nil
    /// Times a fork failed on the process limit, and processes the memory limit killed (cgroup mode).
    var processLimitHits = 0
    /// Files of the writable paths whose setuid/setgid bits were cleared after the call (loza as root).
    var setuidCleared: [String] = []
    var oomKills = 0
    /// False only for `sandbox: none`.
    var sandboxed: Bool
    var exitCode: Int32? { process.exitCode }
    var stdout: CapturedText { process.stdout }
    var stderr: CapturedText { sandboxed ? (process.toolStderr ?? .empty) : process.stderr }
}

/// Runs commands under bubblewrap with the limits of a `SandboxPolicy`. Fails closed: when the sandbox
/// cannot be set up, the command does not run and `SandboxRun.failure` says why.
struct Sandbox: Sendable {
    let policy: SandboxPolicy

    /// The launcher waits on fd 5 until loza has set its rlimits and cgroups, then becomes bwrap.
    static let launcherScript = "read -r _ <&5 || exit 125; exec 5<&-; exec \"$@\""
    /// Inside the sandbox: fd 4 is the tool's stderr (bwrap's own diagnostics stay on fd 2, apart).
    static let innerScript = "exec 2>&4 4>&- 3>&-; exec \"$@\""

    /// Runs the command in the sandbox. A setup failure that the kernel calls temporary (EAGAIN when bwrap
    /// forks the sandbox's init, seen when many processes start at once on the machine) is retried twice
    /// after a short pause: nothing of the tool ran, so trying again is safe.
    func run(_ command: SandboxCommand) async -> SandboxRun {
        var attempt = 0
        while true {
            let run = await runOnce(command)
            attempt += 1
            guard attempt < 3, let failure = run.failure, failure.hasSuffix("(nothing was run unsandboxed)"),
                  failure.contains("Resource temporarily unavailable") else { return run }
            try? await Task.sleep(nanoseconds: UInt64(attempt) * 200_000_000)
        }
    }

    private func runOnce(_ command: SandboxCommand) async -> SandboxRun {
        let s = policy.settings
        let sandboxed = !s.disabled
        let launch: Launch
        switch self.launch(command, role: .call) {
        case .success(let l): launch = l
        case .failure(let e): return SandboxRun(process: ProcessOutcome(), failure: e.description, sandboxed: sandboxed)
        }
        defer { launch.cgroup?.release() }

        let spec = ProcessSpec(child: launch.spec, stdin: command.stdin,
                               timeoutSeconds: command.timeoutSeconds ?? s.timeoutSeconds,
                               outputLimit: command.outputLimit ?? s.outputBytes)
        var hooks = ProcessHooks(prepare: launch.prepare)
        if sandboxed && policy.processLimit == .watchdog {
            let maxProcesses = s.processes
            hooks.watchdog = { initPid in
                guard initPid > 0 else { return nil }
                let n = Sandbox.countProcesses(initPid: initPid)
                return n > maxProcesses ? "more than \(maxProcesses) processes (limit); all processes of the call killed" : nil
            }
        }
        let outcome = await ProcessRunner.run(spec, hooks: hooks)
        let events = launch.cgroup?.limitEvents() ?? (processLimitHits: 0, oomKills: 0)
        var run = SandboxRun(process: outcome, failure: nil, timeout: spec.timeoutSeconds, sandboxed: sandboxed)
        if let e = outcome.spawnError {
            run.failure = "sandbox setup failed: \(e)"
        } else if sandboxed && !outcome.timedOut && outcome.killReason == nil && !outcome.status.contains("\"exit-code\"") {
            let diag = outcome.stderr.text.split(separator: "\n").first { $0.hasPrefix("bwrap:") }
                ?? outcome.stderr.text.split(separator: "\n").first
            let what = diag.map(String.init) ?? "bubblewrap exited with status \(outcome.exitCode.map(String.init) ?? "?") before running the tool"
            run.failure = "sandbox setup failed: \(what) (nothing was run unsandboxed)"
        }
        if sandboxed && SetuidScrub.needed {
            run.setuidCleared = SetuidScrub.scrub([policy.workdir] + policy.writable)
        }
        run.processLimitHits = events.processLimitHits
        run.oomKills = events.oomKills
        return run
    }

    /// What a child in the sandbox is for.
    enum Role: Sendable {
        /// A tool call, run to completion under every limit.
        case call
        /// A server (MCP) living for the whole run: no CPU-time limit (per-request timeouts bound it).
        case server
    }

    /// A child ready to start in this sandbox.
    struct Launch: Sendable {
        var spec: ChildSpec
        /// Runs while the launcher waits at its gate: the rlimits, then the per-call cgroup.
        var prepare: @Sendable (pid_t) -> String?
        var cgroup: CallCgroup?
    }

    /// The one way a tool process starts, for a call and for a server alike: the checks that fail closed,
    /// the per-call cgroup, and the gated launcher, then bwrap, then the inner script (fd 4 = the
    /// command's stderr), with the descriptors they expect. Failures are the one-line error to show.
    func launch(_ command: SandboxCommand, role: Role) -> Result<Launch, ToolSetupError> {
        let s = policy.settings
        if !s.disabled && access(policy.bwrapPath, X_OK) != 0 {
            return .failure(ToolSetupError("sandbox unavailable: \(policy.bwrapPath) is missing or not executable (install bubblewrap; nothing was run)"))
        }
        var cgroup: CallCgroup?
        if policy.processLimit == .cgroup {
            do {
                cgroup = try CallCgroup.acquire(maxProcesses: s.processes, memoryBytes: s.memoryBytes)
            } catch {
                return .failure(ToolSetupError("\(error)"))
            }
        }
        var spec = ChildSpec(executable: "/bin/sh", arguments: ["/bin/sh", "-c", Sandbox.launcherScript, "loza-launch"],
                             environment: [], stdinPipe: command.stdin != nil, gated: true)
        if s.disabled {
            spec.arguments += command.argv
            // A call runs in the work directory; a server keeps loza's own, as it always has.
            if role == .call { spec.workingDirectory = policy.workdir }
            spec.stderrIntoStdout = !command.separateStderr
            spec.environment = policy.environment(extra: command.extraEnv).map { "\($0.0)=\($0.1)" }
        } else {
            spec.arguments += [policy.bwrapPath] + policy.bwrapArguments(readOnly: command.readOnly, network: command.network,
                                                                        extraEnv: command.extraEnv)
            spec.arguments += ["--", "/bin/sh", "-c", Sandbox.innerScript, role == .call ? "loza-tool" : "loza-mcp"] + command.argv
            spec.statusFD = true
            spec.toolStderr = command.separateStderr ? .separate : .stdout
            spec.environment = ["PATH=/usr/bin:/bin"]
        }
        let limits = role == .call ? self.limits : serverLimits
        let group = cgroup
        return .success(Launch(spec: spec, prepare: { pid in
            Sandbox.applyLimits(limits, to: pid) ?? group?.join(pid)
        }, cgroup: cgroup))
    }

    var serverLimits: Limits {
        var l = limits
        l.cpuSeconds = Int(Int32.max)
        return l
    }

    struct Limits: Sendable {
        var cpuSeconds: Int, memoryBytes: Int, fileSizeBytes: Int, openFiles: Int
    }

    var limits: Limits {
        let s = policy.settings
        return Limits(cpuSeconds: s.cpuSeconds, memoryBytes: s.memoryBytes, fileSizeBytes: s.fileSizeBytes,
                      openFiles: s.openFiles)
    }

    /// rlimits of the gated launcher, inherited by bwrap and everything in the sandbox.
    static func applyLimits(_ l: Limits, to pid: pid_t) -> String? {
        guard let prlimit = LibC.prlimit else { return "prlimit is unavailable" }
        let table: [(Int32, Int, String)] = [
            (Int32(RLIMIT_CPU.rawValue), l.cpuSeconds, "CPU"),
            (Int32(RLIMIT_AS.rawValue), l.memoryBytes, "address space"),
            (Int32(RLIMIT_FSIZE.rawValue), l.fileSizeBytes, "file size"),
            (Int32(RLIMIT_NOFILE.rawValue), l.openFiles, "open files"),
            (Int32(RLIMIT_CORE.rawValue), 0, "core"),
        ]
        for (resource, value, name) in table {
            // CPU: the soft limit sends SIGXCPU (reported as such); the hard one, 2 s later, SIGKILL.
            let hard = resource == Int32(RLIMIT_CPU.rawValue) ? value + 2 : value
            var r = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(hard))
            if prlimit(pid, resource, &r, nil) != 0 { return "cannot set the \(name) limit: \(LibC.errnoText())" }
        }
        return nil
    }

    /// Processes in the sandbox's PID namespace, read from its own /proc.
    static func countProcesses(initPid: pid_t) -> Int {
        guard let dir = opendir("/proc/\(initPid)/root/proc") else { return 0 }
        defer { closedir(dir) }
        var n = 0
        while let entry = readdir(dir) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if first >= 0x31 && first <= 0x39 { n += 1 }
        }
        return n
    }
}
