import AgentCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed MCP exchange, one line.
struct MCPFailure: Error, Sendable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// One MCP server over stdio (JSON-RPC 2.0, newline-delimited), started inside the sandbox. A dedicated
/// I/O thread writes requests, reads responses and pairs them by id; every request has a deadline.
/// A server that crashes, hangs or writes garbage fails the requests in flight with a clear message.
final class MCPServer: @unchecked Sendable {
    static let protocolVersion = "2025-06-18"

    let label: String
    let timeoutSeconds: Double
    private let lock = NSLock()
    private var pending: [Int64: (cont: CheckedContinuation<Result<JSONValue, MCPFailure>, Never>, deadline: Double, method: String)] = [:]
    private var outgoing: [UInt8] = []
    private var nextID: Int64 = 1
    private var dead: String?
    private var stopping = false
    private var stderrTail = OutputCapture(limit: 4096)
    private var stopped: CheckedContinuation<Void, Never>?
    private var finished = false

    private let pid: pid_t
    private let stdinFD: Int32
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private let statusFD: Int32
    private let wakeR: Int32
    private let wakeW: Int32
    private let cgroup: CallCgroup?
    private var initPid: pid_t = 0

    private init(label: String, timeout: Double, pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32, status: Int32,
                 wake: (Int32, Int32), cgroup: CallCgroup?) {
        self.label = label
        self.timeoutSeconds = timeout
        self.pid = pid
        stdinFD = stdin
        stdoutFD = stdout
        stderrFD = stderr
        statusFD = status
        wakeR = wake.0
        wakeW = wake.1
        self.cgroup = cgroup
    }

    /// Starts the server in `sandbox` (its executable's folder bound read-only when outside the system).
    static func start(_ spec: MCPServerSpec, sandbox: Sandbox) throws -> MCPServer {
        guard !spec.command.isEmpty else { throw ToolSetupError("mcp.command must not be empty") }
        let label = spec.command.joined(separator: " ")
        let policy = sandbox.policy
        if !policy.settings.disabled && access(policy.bwrapPath, X_OK) != 0 {
            throw ToolSetupError("sandbox unavailable: \(policy.bwrapPath) is missing or not executable (install bubblewrap; nothing was run)")
        }
        let argv = sandbox.serverCommand(spec.command, readOnly: readOnlyPaths(for: spec.command),
                                         env: spec.env, network: spec.network || policy.settings.network)
        var cgroup: CallCgroup?
        if policy.processLimit == .cgroup {
            do { cgroup = try CallCgroup.acquire(maxProcesses: policy.settings.processes, memoryBytes: policy.settings.memoryBytes) }
            catch { throw ToolSetupError("\(error)") }
        }
        guard let inP = Spawn.pipe(), let outP = Spawn.pipe(), let errP = Spawn.pipe(), let statP = Spawn.pipe(),
              let gate = Spawn.pipe(), let wake = Spawn.pipe() else {
            cgroup?.release()
            throw ToolSetupError("pipe: \(LibC.errnoText())")
        }
        var env = ["PATH=/usr/bin:/bin"]
        if policy.settings.disabled {
            env = policy.environment(extra: spec.env).map { "\($0.0)=\($0.1)" }
        }
        let spawned = Spawn.spawn(executable: "/bin/sh", arguments: argv, environment: env,
                                  fds: [(inP.r, 0), (outP.w, 1), (errP.w, 2), (statP.w, 3), (errP.w, 4), (gate.r, 5)])
        for fd in [inP.r, outP.w, errP.w, statP.w, gate.r] { close(fd) }
        guard case .success(let pid) = spawned else {
            for fd in [inP.w, outP.r, errP.r, statP.r, gate.w, wake.r, wake.w] { close(fd) }
            cgroup?.release()
            if case .failure(let e) = spawned { throw ToolSetupError("\(e)") }
            throw ToolSetupError("cannot start the MCP server")
        }
        var problem = Sandbox.applyLimits(sandbox.serverLimits, to: pid)
        if problem == nil { problem = cgroup?.join(pid) }
        if let problem {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            for fd in [inP.w, outP.r, errP.r, statP.r, gate.w, wake.r, wake.w] { close(fd) }
            cgroup?.release()
            throw ToolSetupError("sandbox setup failed: \(problem)")
        }
        var nl: UInt8 = 10
        _ = write(gate.w, &nl, 1)
        close(gate.w)
        for fd in [inP.w, outP.r, errP.r, statP.r, wake.r] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let server = MCPServer(label: label, timeout: spec.timeoutSeconds, pid: pid, stdin: inP.w, stdout: outP.r,
                               stderr: errP.r, status: statP.r, wake: (wake.r, wake.w), cgroup: cgroup)
        let thread = Thread { server.ioLoop() }
        thread.name = "loza-mcp"
        thread.start()
        return server
    }

    /// A command outside the system directories needs its folder bound read-only; in a virtualenv, the
    /// venv's root and the Python installation it was made from (`home` in `pyvenv.cfg`).
    static func readOnlyPaths(for command: [String]) -> [String] {
        guard let exe = command.first, exe.hasPrefix("/") else { return [] }
        let system = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/"]
        if system.contains(where: { exe.hasPrefix($0) }) { return [] }
        let dir = (exe as NSString).deletingLastPathComponent
        let venv = (dir as NSString).deletingLastPathComponent
        guard let cfg = try? String(contentsOfFile: venv + "/pyvenv.cfg", encoding: .utf8) else { return [dir] }
        var paths = [venv]
        for line in cfg.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0] == "home", kv[1].hasPrefix("/") else { continue }
            let prefix = ((kv[1] as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
            if !system.contains(where: { (prefix + "/").hasPrefix($0) }) && prefix != "/" && prefix != "/usr" {
                paths.append(prefix)
            }
        }
        return paths
    }

    // MARK: requests

    /// Sends a request and waits for its response (or the deadline, or the server's death).
    func request(_ method: String, params: JSONValue, timeout: Double? = nil) async -> Result<JSONValue, MCPFailure> {
        let limit = timeout ?? timeoutSeconds
        return await withCheckedContinuation { cont in
            let failure: String? = lock.withLock {
                if let dead { return dead }
                let id = nextID
                nextID += 1
                let msg: JSONValue = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
                outgoing += Array((msg.serialized(.compact) + "\n").utf8)
                pending[id] = (cont, LibC.monotonicSeconds() + limit, method)
                return nil
            }
            if let failure {
                cont.resume(returning: .failure(MCPFailure(failure)))
            } else {
                wake()
            }
        }
    }

    func notify(_ method: String, params: JSONValue? = nil) {
        var msg: JSONValue = ["jsonrpc": "2.0", "method": .string(method)]
        if let params, case .object(var m) = msg {
            m.append(JSONMember("params", params))
            msg = .object(m)
        }
        lock.withLock { outgoing += Array((msg.serialized(.compact) + "\n").utf8) }
        wake()
    }

    private func wake() {
        var b: UInt8 = 1
        _ = write(wakeW, &b, 1)
    }

    /// Closes stdin, gives the server a second to exit, then kills the whole sandbox.
    func stop() async {
        let already: Bool = lock.withLock {
            if finished { return true }
            stopping = true
            return false
        }
        if already { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                if finished { return true }
                stopped = c
                return false
            }
            if done { c.resume() } else { wake() }
        }
    }

    var stderrText: String { lock.withLock { stderrTail.text } }

    // MARK: I/O thread

    private func ioLoop() {
        var lineBuffer: [UInt8] = []
        var status = ""
        var stdinOpen = true
        var stopDeadline = Double.infinity
        var outputsOpen = true
        var errOpen = true
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var exitStatus: Int32 = 0
        var reaped = false

        while true {
            let now = LibC.monotonicSeconds()
            let (wantStop, hasOutgoing) = lock.withLock { (stopping, !outgoing.isEmpty) }
            if wantStop && stdinOpen {
                close(stdinFD)
                stdinOpen = false
                stopDeadline = now + 1
            }
            if now >= stopDeadline {
                killAll()
                stopDeadline = .infinity
            }
            expireRequests(now: now)
            if !reaped {
                let r = waitpid(pid, &exitStatus, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { reaped = true }
            }
            if reaped && (!outputsOpen || wantStop) { break }

            var fds = [pollfd(fd: wakeR, events: Int16(POLLIN), revents: 0)]
            if outputsOpen { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if errOpen { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            fds.append(pollfd(fd: statusFD, events: Int16(POLLIN), revents: 0))
            if stdinOpen && hasOutgoing { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 50)

            // Drain the wake pipe.
            while read(wakeR, buffer, 256) > 0 {}
            if outputsOpen {
                while true {
                    let n = read(stdoutFD, buffer, 1 << 16)
                    if n > 0 {
                        lineBuffer.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: n))
                        while let nl = lineBuffer.firstIndex(of: 10) {
                            let line = Array(lineBuffer[..<nl])
                            lineBuffer.removeSubrange(...nl)
                            handleLine(line)
                        }
                        if lineBuffer.count > 32 << 20 {
                            failAll("the server wrote a line of more than 32 MiB without a newline")
                            lineBuffer.removeAll()
                        }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        outputsOpen = false
                        break
                    } else {
                        break
                    }
                }
            }
            if errOpen {
                while true {
                    let n = read(stderrFD, buffer, 1 << 16)
                    if n > 0 {
                        let chunk = UnsafeRawBufferPointer(start: buffer, count: n)
                        lock.withLock { stderrTail.append(chunk) }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        errOpen = false
                        break
                    } else {
                        break
                    }
                }
            }
            while true {
                let n = read(statusFD, buffer, 4096)
                guard n > 0 else { break }
                status += String(decoding: UnsafeRawBufferPointer(start: buffer, count: n), as: UTF8.self)
                if initPid == 0, let p = ProcessRunner.parseChildPid(status) { initPid = p }
            }
            if stdinOpen {
                let chunk: [UInt8] = lock.withLock { outgoing }
                if !chunk.isEmpty {
                    let n = chunk.withUnsafeBytes { write(stdinFD, $0.baseAddress!, $0.count) }
                    if n > 0 {
                        lock.withLock { outgoing.removeFirst(n) }
                    } else if n < 0 && errno != EAGAIN && errno != EINTR {
                        close(stdinFD)
                        stdinOpen = false
                    }
                }
            }
            if !outputsOpen && !reaped {
                // stdout closed: the server is exiting (or closed it on purpose); give it a moment.
                if stopDeadline == .infinity { stopDeadline = LibC.monotonicSeconds() + 1 }
            }
        }
        if !reaped { killAll(); waitpid(pid, &exitStatus, 0) }
        if initPid > 0 { for _ in 0..<2000 where ProcessRunner.isAlive(initPid) { usleep(500) } }
        let why: String
        let tail = stderrText.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        let sig = exitStatus & 0x7f
        let code = (exitStatus >> 8) & 0xff
        let how = sig != 0 ? "was killed by signal \(sig)" : "exited with status \(code)"
        why = "MCP server '\(label)' \(how)" + (tail.map { ": \($0.prefix(300))" } ?? "")
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            dead = why
            finished = true
            return stopped
        }
        failAll(why)
        if stdinOpen { close(stdinFD) }
        for fd in [stdoutFD, stderrFD, statusFD, wakeR, wakeW] { close(fd) }
        cgroup?.release()
        waiter?.resume()
    }

    private func killAll() {
        kill(pid, SIGKILL)
        if initPid > 0 { kill(initPid, SIGKILL) }
    }

    private func expireRequests(now: Double) {
        let expired: [(CheckedContinuation<Result<JSONValue, MCPFailure>, Never>, String)] = lock.withLock {
            let ids = pending.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { id in pending.removeValue(forKey: id).map { ($0.cont, $0.method) } }
        }
        for (c, method) in expired {
            c.resume(returning: .failure(MCPFailure("MCP server '\(label)' did not answer \(method) within \(ToolResult.formatSeconds(timeoutSeconds))")))
        }
    }

    private func failAll(_ why: String) {
        let all = lock.withLock {
            defer { pending.removeAll() }
            return pending.values.map(\.cont)
        }
        for c in all { c.resume(returning: .failure(MCPFailure(why))) }
    }

    private func handleLine(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return }
        guard let msg = try? JSONValue.parse(text), case .object = msg else {
            failAll("MCP server '\(label)' wrote something that is not JSON-RPC: \(text.prefix(120))")
            return
        }
        let id = msg["id"]
        if let method = msg["method"]?.stringValue {
            if let id, id != .null {
                // A request from the server: answer ping, decline the rest.
                let reply: JSONValue = method == "ping"
                    ? ["jsonrpc": "2.0", "id": id, "result": [:]]
                    : ["jsonrpc": "2.0", "id": id, "error": ["code": -32601, "message": "method not supported by loza"]]
                lock.withLock { outgoing += Array((reply.serialized(.compact) + "\n").utf8) }
            }
            return   // notifications (logging, progress, list_changed) are ignored
        }
        guard let n = id?.intValue else { return }
        let entry = lock.withLock { pending.removeValue(forKey: n) }
        guard let entry else { return }
        if let error = msg["error"] {
            let message = error["message"]?.stringValue ?? error.serialized(.compact)
            let code = error["code"]?.intValue.map { " (\($0))" } ?? ""
            entry.cont.resume(returning: .failure(MCPFailure("MCP server '\(label)' answered \(entry.method) with an error\(code): \(message)")))
        } else {
            entry.cont.resume(returning: .success(msg["result"] ?? .null))
        }
    }
}
