import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Per-call cgroup (v1 hierarchy) that bounds the number of processes (`pids`) and, when the memory
/// controller is also writable, the memory of all processes of the call together.
///
/// RLIMIT_NPROC counts per real user and does not bound processes created inside a user namespace whose
/// uid maps to root (measured: 60 background `sleep`s under `ulimit -u 20` in bwrap as root all ran), so the
/// process limit needs a cgroup, or else the watchdog of `Sandbox`.
///
/// Creating and removing cgroup directories costs about 9 ms each here, so empty cgroups are kept in a
/// small pool and reused; the pool is emptied by `CallCgroup.drainPool()` (tool shutdown) and at exit.
final class CallCgroup: @unchecked Sendable {
    let pids: String
    let memory: String?
    private(set) var maxProcesses: Int
    private(set) var memoryBytes: Int
    /// Event counters when the current call started (they only grow).
    private var baseline: (hits: Int, kills: Int) = (0, 0)

    private init(pids: String, memory: String?, maxProcesses: Int, memoryBytes: Int) {
        self.pids = pids
        self.memory = memory
        self.maxProcesses = maxProcesses
        self.memoryBytes = memoryBytes
    }

    /// Where new per-call cgroups go, per controller, or nil when this process may not create them.
    static let parents: (pids: String?, memory: String?) = {
        let found = (writableParent("pids"), writableParent("memory"))
        atexit { CallCgroup.drainPool() }
        for parent in [found.0, found.1].compactMap({ $0 }) { removeStale(in: parent) }
        return found
    }()

    private static func writableParent(_ controller: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[1].split(separator: ",").contains(Substring(controller)) else { continue }
            let mount = "/sys/fs/cgroup/" + controller
            for candidate in [mount + String(parts[2]), mount] {
                let path = candidate.hasSuffix("/") ? String(candidate.dropLast()) : candidate
                let probe = path + "/loza-probe-\(getpid())"
                if mkdir(probe, 0o755) == 0 {
                    rmdir(probe)
                    return path
                }
            }
        }
        return nil
    }

    /// Removes empty `loza-PID-N` cgroups left by loza processes that no longer exist.
    private static func removeStale(in parent: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("loza-") {
            let parts = name.split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { rmdir(parent + "/" + name) }
        }
    }

    nonisolated(unsafe) private static var counter = 0
    nonisolated(unsafe) private static var pool: [CallCgroup] = []
    private static let lock = NSLock()
    private static let poolLimit = 8

    /// A cgroup for one call, from the pool or new. Throws a one-line reason when none can be made.
    static func acquire(maxProcesses: Int, memoryBytes: Int) throws -> CallCgroup {
        guard let pidsParent = parents.pids else { throw SandboxError.setup("no writable pids cgroup") }
        let reused: CallCgroup? = lock.withLock { pool.popLast() }
        if let cg = reused {
            if cg.maxProcesses != maxProcesses {
                guard write(String(maxProcesses), to: cg.pids + "/pids.max") else {
                    cg.remove()
                    throw SandboxError.setup("cannot set \(cg.pids)/pids.max")
                }
                cg.maxProcesses = maxProcesses
            }
            if let mem = cg.memory, cg.memoryBytes != memoryBytes {
                _ = write(String(memoryBytes), to: mem + "/memory.limit_in_bytes")
                cg.memoryBytes = memoryBytes
            }
            return cg
        }
        let n: Int = lock.withLock { counter += 1; return counter }
        let name = "loza-\(getpid())-\(n)"
        let pids = pidsParent + "/" + name
        guard mkdir(pids, 0o755) == 0 else { throw SandboxError.setup("mkdir \(pids): \(LibC.errnoText())") }
        guard write(String(maxProcesses), to: pids + "/pids.max") else {
            rmdir(pids)
            throw SandboxError.setup("cannot set \(pids)/pids.max")
        }
        var memory: String?
        if let memParent = parents.memory {
            let mem = memParent + "/" + name
            if mkdir(mem, 0o755) == 0 {
                if write(String(memoryBytes), to: mem + "/memory.limit_in_bytes") {
                    memory = mem
                } else {
                    rmdir(mem)
                }
            }
        }
        return CallCgroup(pids: pids, memory: memory, maxProcesses: maxProcesses, memoryBytes: memoryBytes)
    }

    private var directories: [String] { [pids] + (memory.map { [$0] } ?? []) }

    /// Moves `pid` (the gated launcher, before it runs anything) into every cgroup of the call.
    func join(_ pid: pid_t) -> String? {
        for dir in directories where !CallCgroup.write(String(pid), to: dir + "/cgroup.procs") {
            return "cannot move the tool into \(dir): \(LibC.errnoText())"
        }
        return nil
    }

    /// How often this call hit its process limit (`pids.events`) and how many of its processes the memory
    /// limit's OOM killer ended (`memory.oom_control`).
    func limitEvents() -> (processLimitHits: Int, oomKills: Int) {
        let hits = (try? String(contentsOfFile: pids + "/pids.events", encoding: .utf8)).map { CallCgroup.counter(named: "max", in: $0) } ?? 0
        let kills = memory.flatMap { try? String(contentsOfFile: $0 + "/memory.oom_control", encoding: .utf8) }
            .map { CallCgroup.counter(named: "oom_kill", in: $0) } ?? 0
        defer { baseline = (hits, kills) }
        return (hits - baseline.hits, kills - baseline.kills)
    }

    private static func counter(named name: String, in text: String) -> Int {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name, let n = Int(parts[1]) { return n }
        }
        return 0
    }

    /// After a call: back to the pool once empty. The sandbox's init may still be exiting (reparented and
    /// reaped by the system) when the call returns, so a busy cgroup is waited for in the background.
    func release() {
        if isEmpty {
            recycle()
            return
        }
        DispatchQueue.global(qos: .utility).async {
            for _ in 0..<2000 where !self.isEmpty { usleep(1000) }
            if self.isEmpty { self.recycle() } else { self.remove() }
        }
    }

    /// `pids.current` counts exiting tasks until they are freed (`cgroup.procs` stops listing them earlier).
    private var isEmpty: Bool {
        ((try? String(contentsOfFile: pids + "/pids.current", encoding: .utf8)) ?? "x")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0"
    }

    private func recycle() {
        let kept: Bool = CallCgroup.lock.withLock {
            guard CallCgroup.pool.count < CallCgroup.poolLimit else { return false }
            CallCgroup.pool.append(self)
            return true
        }
        if !kept { remove() }
    }

    /// Removes the directories (retrying briefly while the last processes exit).
    func remove() {
        for dir in directories {
            for attempt in 0..<200 {
                if rmdir(dir) == 0 || errno == ENOENT { break }
                if attempt < 199 { usleep(1000) }
            }
        }
    }

    /// Removes every pooled cgroup.
    static func drainPool() {
        let all: [CallCgroup] = lock.withLock {
            defer { pool.removeAll() }
            return pool
        }
        for cg in all { cg.remove() }
    }

    private static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
