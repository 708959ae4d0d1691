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

/// One MCP server over stdio (JSON-RPC 2.0, newline-delimited), started inside the sandbox: a thin use of
/// `ChildPump`, whose thread writes requests, hands back stdout line by line and keeps the tail of stderr.
/// Responses are paired with requests by id; every request has a deadline. A server that crashes, hangs
/// or writes garbage fails the requests in flight with a clear message.
final class MCPServer: @unchecked Sendable {
    static let protocolVersion = "2025-06-18"
    /// Stopping: close stdin and give the server a second to exit, then SIGTERM, then kill the sandbox.
    static let teardown: [TeardownStep] = [.closeInput(grace: 1), .signal(SIGTERM, grace: 0.5)]

    let label: String
    let timeoutSeconds: Double
    private let pump: ChildPump
    private let lock = NSLock()
    private var pending: [Int64: (cont: CheckedContinuation<Result<JSONValue, MCPFailure>, Never>, deadline: Double, method: String)] = [:]
    private var nextID: Int64 = 1
    private var dead: String?
    private var stderrTail = OutputCapture(limit: 4096)
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private var finished = false
    /// Bytes of stdout after the last newline (the pump's thread only).
    private var lineBuffer: [UInt8] = []

    private init(label: String, timeout: Double, pump: ChildPump) {
        self.label = label
        self.timeoutSeconds = timeout
        self.pump = pump
    }

    /// Starts the server in `sandbox` (its executable's folder bound read-only when outside the system).
    static func start(_ spec: MCPServerSpec, sandbox: Sandbox) throws -> MCPServer {
        guard !spec.command.isEmpty else { throw ToolSetupError("mcp.command must not be empty") }
        let command = SandboxCommand(argv: spec.command, stdin: [], separateStderr: true,
                                     readOnly: readOnlyPaths(for: spec.command), extraEnv: spec.env,
                                     network: spec.network || sandbox.policy.settings.network)
        let launch = try sandbox.launch(command, role: .server).get()
        let pump: ChildPump
        switch ChildPump.spawn(launch.spec, prepare: launch.prepare) {
        case .success(let p): pump = p
        case .failure(let e):
            launch.cgroup?.release()
            throw ToolSetupError("sandbox setup failed: \(e)")
        }
        let server = MCPServer(label: spec.command.joined(separator: " "), timeout: spec.timeoutSeconds, pump: pump)
        pump.sinks = [.stdout: { server.received($0) }, .stderr: { server.keepStderr($0) }, .toolStderr: { server.keepStderr($0) }]
        pump.check = { now, _ in
            server.expireRequests(now: now)
            return nil
        }
        pump.teardown = MCPServer.teardown
        pump.stopWhenStdoutCloses = true
        let cgroup = launch.cgroup
        ChildPump.detach("loza-mcp") {
            let end = pump.run()
            cgroup?.release()
            server.ended(end)
        }
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
                pending[id] = (cont, LibC.monotonicSeconds() + limit, method)
                pump.send(Array((msg.serialized(.compact) + "\n").utf8))
                return nil
            }
            if let failure { cont.resume(returning: .failure(MCPFailure(failure))) }
        }
    }

    func notify(_ method: String, params: JSONValue? = nil) {
        var msg: JSONValue = ["jsonrpc": "2.0", "method": .string(method)]
        if let params, case .object(var m) = msg {
            m.append(JSONMember("params", params))
            msg = .object(m)
        }
        pump.send(Array((msg.serialized(.compact) + "\n").utf8))
    }

    /// Runs the teardown sequence (`MCPServer.teardown`) and waits until every process of the server is gone.
    func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                if finished { return true }
                stopWaiters.append(c)
                return false
            }
            if done { c.resume() } else { pump.stop() }
        }
    }

    var stderrText: String { lock.withLock { stderrTail.text } }

    // MARK: the pump's thread

    private func keepStderr(_ chunk: UnsafeRawBufferPointer) {
        lock.withLock { stderrTail.append(chunk) }
    }

    private func received(_ chunk: UnsafeRawBufferPointer) {
        lineBuffer.append(contentsOf: chunk)
        var start = 0
        while let nl = lineBuffer[start...].firstIndex(of: 10) {
            handleLine(Array(lineBuffer[start..<nl]))
            start = nl + 1
        }
        lineBuffer.removeFirst(start)
        if lineBuffer.count > 32 << 20 {
            failAll("the server wrote a line of more than 32 MiB without a newline")
            lineBuffer.removeAll()
        }
    }

    /// The server is gone: every request in flight, and every later one, fails with how it ended.
    private func ended(_ end: ChildPump.End) {
        let tail = stderrText.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        let how = end.signal.map { "was killed by signal \($0)" } ?? "exited with status \(end.exitCode ?? 0)"
        let why = "MCP server '\(label)' \(how)" + (tail.map { ": \($0.prefix(300))" } ?? "")
        let waiters: [CheckedContinuation<Void, Never>] = lock.withLock {
            dead = why
            finished = true
            defer { stopWaiters = [] }
            return stopWaiters
        }
        failAll(why)
        for w in waiters { w.resume() }
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
                pump.send(Array((reply.serialized(.compact) + "\n").utf8))
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
