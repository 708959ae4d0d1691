import AgentCore
import Foundation

/// A spec's `sandbox` settings resolved to absolute paths and concrete values, shared by every
/// subprocess tool of a run.
public struct SandboxPolicy: Sendable {
    public enum ProcessLimit: String, Sendable {
        /// A per-call `pids` cgroup (and `memory` cgroup when available).
        case cgroup
        /// The runner counts the processes of the sandbox's PID namespace every 20 ms and kills them all
        /// past the limit (used when no cgroup can be created).
        case watchdog
    }

    public var settings: SandboxSettings
    /// Absolute path of the work directory (exists).
    public var workdir: String
    /// Absolute extra writable paths (exist).
    public var writable: [String]
    public var processLimit: ProcessLimit
    public var bwrapPath: String
    /// True when `workdir` is a fresh temporary directory made for this run (see `removeTemporaryWorkdir`).
    public var temporaryWorkdir = false

    public init(settings: SandboxSettings, workdir: String, writable: [String] = [], processLimit: ProcessLimit? = nil,
                bwrapPath: String = "/usr/bin/bwrap") {
        self.settings = settings
        self.workdir = workdir
        self.writable = writable
        self.processLimit = processLimit ?? (CallCgroup.parents.pids != nil ? .cgroup : .watchdog)
        self.bwrapPath = bwrapPath
    }

    /// Resolves `settings` against `baseDirectory`: creates the work directory (a fresh temporary one when
    /// `settings.workdir` is nil) and checks the writable paths exist.
    public static func resolve(_ settings: SandboxSettings, baseDirectory: String) throws -> SandboxPolicy {
        let fm = FileManager.default
        func absolute(_ p: String) -> String {
            let path = p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
            return (path as NSString).standardizingPath
        }
        let workdir: String
        if let w = settings.workdir {
            workdir = absolute(w)
            do {
                try fm.createDirectory(atPath: workdir, withIntermediateDirectories: true)
            } catch {
                throw ToolSetupError("sandbox.workdir: cannot create \(workdir): \(error.localizedDescription)")
            }
        } else {
            var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("loza-work-XXXXXX").utf8CString)
            guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw ToolSetupError("sandbox: cannot create a temporary work directory")
            }
            workdir = String(cString: p)
            if let from = settings.workdirFrom {
                let source = absolute(from)
                do {
                    for item in try fm.contentsOfDirectory(atPath: source) {
                        try fm.copyItem(atPath: (source as NSString).appendingPathComponent(item),
                                        toPath: (workdir as NSString).appendingPathComponent(item))
                    }
                } catch {
                    try? fm.removeItem(atPath: workdir)
                    throw ToolSetupError("sandbox.workdir_from: cannot copy \(source): \(error.localizedDescription)")
                }
            }
        }
        let real = (workdir as NSString).resolvingSymlinksInPath
        var writable: [String] = []
        for w in settings.writable {
            let path = absolute(w)
            guard fm.fileExists(atPath: path) else { throw ToolSetupError("sandbox.writable: \(path) does not exist") }
            writable.append((path as NSString).resolvingSymlinksInPath)
        }
        var policy = SandboxPolicy(settings: settings, workdir: real, writable: writable)
        policy.temporaryWorkdir = settings.workdir == nil
        return policy
    }

    /// Removes the work directory if it is a temporary one the spec did not ask to keep (`keep_workdir`).
    /// Returns the directory when it was kept, for a note to the user.
    @discardableResult
    public func removeTemporaryWorkdir() -> String? {
        guard temporaryWorkdir else { return nil }
        if settings.keepWorkdir { return workdir }
        try? FileManager.default.removeItem(atPath: workdir)
        return nil
    }

    /// The environment a tool sees: PATH, HOME (the work directory), LANG, and the names the spec passes through.
    func environment(extra: [String: String] = [:]) -> [(String, String)] {
        let host = ProcessInfo.processInfo.environment
        var env: [(String, String)] = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", workdir),
            ("LANG", host["LANG"] ?? "C.UTF-8"),
        ]
        for name in settings.env where !["PATH", "HOME", "LANG"].contains(name) {
            if let v = host[name] { env.append((name, v)) }
        }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) {
            env.removeAll { $0.0 == k }
            env.append((k, v))
        }
        return env
    }

    /// Files of /etc a shell, python3 and common tools need; nothing else of /etc is visible.
    static let etcFiles = [
        "passwd", "group", "hosts", "host.conf", "resolv.conf", "nsswitch.conf", "gai.conf", "ld.so.cache",
        "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "alternatives", "ssl", "ca-certificates",
        "ca-certificates.conf", "mime.types", "os-release", "debian_version", "python3", "python3.11", "profile",
        "protocols", "services", "networks", "inputrc", "magic", "gitconfig", "locale.alias", "bash.bashrc",
    ]

    /// bubblewrap's arguments (everything before the command).
    func bwrapArguments(readOnly: [String] = [], network: Bool? = nil, extraEnv: [String: String] = [:]) -> [String] {
        var a = [
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "loza-sandbox",
        ]
        if !(network ?? settings.network) { a.append("--unshare-net") }
        a += ["--ro-bind", "/usr", "/usr"]
        let fm = FileManager.default
        for dir in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            if let target = try? fm.destinationOfSymbolicLink(atPath: dir) {
                a += ["--symlink", target, dir]
            } else if fm.fileExists(atPath: dir) {
                a += ["--ro-bind", dir, dir]
            }
        }
        for f in SandboxPolicy.etcFiles { a += ["--ro-bind-try", "/etc/" + f, "/etc/" + f] }
        a += ["--proc", "/proc", "--dev", "/dev", "--size", String(settings.fileSizeBytes), "--tmpfs", "/tmp"]
        for p in readOnly { a += ["--ro-bind", p, p] }
        a += ["--bind", workdir, workdir]
        for p in writable { a += ["--bind", p, p] }
        a += ["--chdir", workdir, "--clearenv"]
        for (k, v) in environment(extra: extraEnv) { a += ["--setenv", k, v] }
        a += ["--json-status-fd", "3"]
        return a
    }
}

/// A tool entry that cannot be set up; the message is one line.
public struct ToolSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}
