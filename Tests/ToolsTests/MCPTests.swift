import AgentCore
import Foundation
import Testing
@testable import Tools

/// The virtualenv holding the PyPI servers `mcp-server-time` and `mcp-server-git`:
/// `$LOZA_MCP_VENV`, default `~/.cache/loza/mcp-venv` (created by `scripts/install-mcp-servers.sh`).
let mcpVenv: String = ProcessInfo.processInfo.environment["LOZA_MCP_VENV"]
    ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/loza/mcp-venv")

func mcpServer(_ name: String) throws -> String {
    let path = mcpVenv + "/bin/" + name
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw ToolSetupErrorForTests("\(path) is missing: run scripts/install-mcp-servers.sh (pip install mcp-server-time mcp-server-git into \(mcpVenv))")
    }
    return path
}

@Suite(.serialized) struct MCPTests {
    @Test func timeServerFromPyPI() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let tools = try await ToolFactory.makeTools(entries: [.mcp(MCPServerSpec(command: [try mcpServer("mcp-server-time")], timeoutSeconds: 30))],
                                                    policy: sb.policy, baseDirectory: sb.root)
        let names = tools.map(\.declaration.name)
        #expect(names.contains("get_current_time") && names.contains("convert_time"), "\(names)")
        let get = try #require(tools.first { $0.declaration.name == "get_current_time" })
        #expect(get.declaration.parameters["properties"]?["timezone"] != nil)
        let r = await get.call(["timezone": "Europe/Paris"])
        #expect(r.ok, "\(r)")
        #expect(r.output.contains("Europe/Paris"), "\(r.output)")
        let convert = try #require(tools.first { $0.declaration.name == "convert_time" })
        let c = await convert.call(["source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"])
        #expect(c.ok && c.output.contains("21:00"), "\(c)")
        let bad = await get.call(["timezone": "Mars/Olympus"])
        #expect(!bad.ok, "\(bad)")
        for t in tools { await t.shutdown() }
    }

    /// bwrap runs with --die-with-parent (PR_SET_PDEATHSIG): it is killed when the *thread* that spawned it
    /// exits. A server started from a short-lived thread must outlive it (spawns go through `SpawnThread`).
    @Test func aServerOutlivesTheThreadThatStartedIt() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let spec = MCPServerSpec(command: [try mcpServer("mcp-server-time")], timeoutSeconds: 30)
        let started = StartedServer()
        let release = DispatchSemaphore(value: 0)
        // The thread lives until the server answered once (bwrap has set its parent-death signal by then),
        // then exits.
        let thread = Thread {
            started.set(Result { try MCPServer.start(spec, sandbox: Sandbox(policy: sb.policy)) })
            release.wait()
        }
        thread.start()
        var result: Result<MCPServer, Error>?
        while result == nil {
            try await Task.sleep(for: .milliseconds(20))
            result = started.get()
        }
        let server = try #require(try result?.get())
        let hello = await server.request("initialize", params: [
            "protocolVersion": .string(MCPServer.protocolVersion), "capabilities": [:],
            "clientInfo": ["name": "loza-test", "version": "0"],
        ])
        #expect(throws: Never.self) { try hello.get() }
        release.signal()
        while !thread.isFinished { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(500))   // the kernel's SIGKILL, if it comes, comes at once
        let again = await server.request("ping", params: [:])
        if case .failure(let e) = again { Issue.record("the server died with the thread that started it: \(e)") }
        await server.stop()
    }

    final class StartedServer: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<MCPServer, Error>?
        func set(_ v: Result<MCPServer, Error>) { lock.withLock { value = v } }
        func get() -> Result<MCPServer, Error>? { lock.withLock { value } }
    }

    @Test func gitServerFromPyPIOnARepositoryTheTestCreates() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let setup = await ShellTool(policy: sb.policy).call(["command": """
            git init -q repo && cd repo && git config user.email t@example.com && git config user.name Tester \
            && echo hello > a.txt && git add a.txt && git commit -qm 'first commit' && echo change >> a.txt
            """])
        #expect(setup.ok, "\(setup)")
        let repo = sb.workdir + "/repo"
        let tools = try await ToolFactory.makeTools(
            entries: [.mcp(MCPServerSpec(command: [try mcpServer("mcp-server-git"), "--repository", repo], timeoutSeconds: 30))],
            policy: sb.policy, baseDirectory: sb.root)
        let byName = Dictionary(tools.map { ($0.declaration.name, $0) }, uniquingKeysWith: { a, _ in a })
        let log = try #require(byName["git_log"], "\(byName.keys.sorted())")
        let l = await log.call(["repo_path": .string(repo)])
        #expect(l.ok && l.output.contains("first commit"), "\(l)")
        let status = try #require(byName["git_status"])
        let s = await status.call(["repo_path": .string(repo)])
        #expect(s.ok && s.output.contains("a.txt"), "\(s)")
        let diff = try #require(byName["git_diff_unstaged"])
        let d = await diff.call(["repo_path": .string(repo)])
        #expect(d.ok && d.output.contains("+change"), "\(d)")
        for t in tools { await t.shutdown() }
    }

    static let fakeServer = #"""
import json, sys, time
mode = sys.argv[1]
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    m = msg["method"]
    if m == "initialize":
        r = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}}
    elif m == "tools/list":
        r = {"tools": [{"name": "act", "description": "does things", "inputSchema": {"type": "object", "properties": {}}}]}
    elif m == "tools/call":
        if mode == "crash":
            sys.stderr.write("boom: fake server crashed\n"); sys.stderr.flush(); sys.exit(3)
        if mode == "garbage":
            print("this is not json", flush=True); continue
        if mode == "hang":
            time.sleep(1000)
        r = {"content": [{"type": "text", "text": "acted"}], "isError": mode == "error"}
    else:
        r = {}
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": r}), flush=True)
"""#

    func fakeTool(_ mode: String, _ sb: TestSandbox, mark: String, timeout: Double = 10) async throws -> any Tool {
        let dir = sb.root + "/fake"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.fakeServer.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
        let tools = try await ToolFactory.makeTools(
            entries: [.mcp(MCPServerSpec(command: ["python3", dir + "/server.py", mode, mark], timeoutSeconds: timeout))],
            policy: { var p = sb.policy; p.writable = [dir]; return p }(), baseDirectory: sb.root)
        return try #require(tools.first)
    }

    @Test(arguments: ["crash", "garbage", "hang", "error"])
    func misbehavingServerGivesAClearErrorAndTheRunGoesOn(mode: String) async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let mark = "lozamcp\(UInt32.random(in: 100_000...999_999))"
        let tool = try await fakeTool(mode, sb, mark: mark, timeout: 2)
        let t0 = Date()
        let r = await tool.call([:])
        #expect(!r.ok)
        switch mode {
        case "crash": #expect(r.error == "MCP server 'python3 \(sb.root)/fake/server.py crash \(mark)' exited with status 3: boom: fake server crashed", "\(r)")
        case "garbage": #expect(r.error?.contains("wrote something that is not JSON-RPC: this is not json") == true, "\(r)")
        case "hang": #expect(r.error?.hasSuffix("did not answer tools/call within 2s") == true, "\(r)")
        default: #expect(r.error == "acted" && r.output == "acted", "\(r)")
        }
        // Well under the hang itself (loose: CI runs suites in parallel on 2 cores).
        #expect(Date().timeIntervalSince(t0) < 30)
        // A second call gets a clear answer too (the crashed server stays down).
        let again = await tool.call([:])
        if mode == "crash" { #expect(again.error?.contains("exited with status 3") == true, "\(again)") }
        await tool.shutdown()
        #expect(processes(containing: mark).isEmpty)
    }
}
