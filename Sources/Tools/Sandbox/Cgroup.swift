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
struct CallCgroup: Sendable {
    let directories: [String]

    /// Where new per-call cgroups go, per controller, or nil when this process may not create them.
    static let parents: (pids: String?, memory: String?) = {
        (writableParent("pids"), writableParent("memory"))
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

    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    /// Creates the cgroups for one call. Throws a one-line reason when the pids cgroup cannot be made.
    static func create(maxProcesses: Int, memoryBytes: Int) throws -> CallCgroup {
        guard let pidsParent = parents.pids else { throw SandboxError.setup("no writable pids cgroup") }
        let n: Int = lock.withLock { counter += 1; return counter }
        let name = "loza-\(getpid())-\(n)"
        var dirs: [String] = []
        let pids = pidsParent + "/" + name
        guard mkdir(pids, 0o755) == 0 else { throw SandboxError.setup("mkdir \(pids): \(LibC.errnoText())") }
        dirs.append(pids)
        let cg = CallCgroup(directories: dirs)
        guard write(String(maxProcesses), to: pids + "/pids.max") else {
            cg.remove()
            throw SandboxError.setup("cannot set \(pids)/pids.max")
        }
        var all = dirs
        if let memParent = parents.memory {
            let mem = memParent + "/" + name
            if mkdir(mem, 0o755) == 0 {
                if write(String(memoryBytes), to: mem + "/memory.limit_in_bytes") {
                    all.append(mem)
                } else {
                    rmdir(mem)
                }
            }
        }
        return CallCgroup(directories: all)
    }

    /// Moves `pid` (the gated launcher, before it runs anything) into every cgroup of the call.
    func join(_ pid: pid_t) -> String? {
        for dir in directories where !CallCgroup.write(String(pid), to: dir + "/cgroup.procs") {
            return "cannot move the tool into \(dir): \(LibC.errnoText())"
        }
        return nil
    }

    /// Removes the cgroups once every process of the call is gone (retrying briefly while they exit).
    func remove() {
        for dir in directories {
            for attempt in 0..<200 {
                if rmdir(dir) == 0 || errno == ENOENT { break }
                if attempt < 199 { usleep(1000) }
            }
        }
    }

    private static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
