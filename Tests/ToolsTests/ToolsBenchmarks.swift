import AgentCore
import CCurl
import Foundation
import TestSupport
import Testing
@testable import Tools

/// Figures for the report: `LOZA_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter ToolsBenchmarks`.
@Suite(.serialized, .benchmark)
struct ToolsBenchmarks {
    static func percentiles(_ xs: [Double]) -> String {
        let s = xs.sorted()
        func p(_ q: Double) -> Double { s[min(s.count - 1, Int(Double(s.count - 1) * q))] * 1000 }
        return String(format: "p50 %.2f ms, p95 %.2f ms (n=%d)", p(0.5), p(0.95), s.count)
    }

    func time(_ n: Int, _ body: () async -> Void) async -> [Double] {
        var out: [Double] = []
        for _ in 0..<n {
            let t0 = LibC.monotonicSeconds()
            await body()
            out.append(LibC.monotonicSeconds() - t0)
        }
        return out
    }

    /// The four variants run interleaved (one call of each per round) so that load from other processes
    /// on the machine falls on all of them alike.
    @Test func sandboxedTrueVersusUnsandboxedSpawn() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let none = try TestSandbox { $0.disabled = true }
        defer { none.cleanup() }
        let noneShell = ShellTool(policy: none.policy)
        let shell = ShellTool(policy: sb.policy)
        var wd = sb.policy
        wd.processLimit = .watchdog
        let wdShell = ShellTool(policy: wd)
        var times: [[Double]] = [[], [], [], []]
        for _ in 0..<200 {
            for v in 0..<4 {
                let t0 = LibC.monotonicSeconds()
                switch v {
                case 0:
                    _ = await ProcessRunner.run(ProcessSpec(child: ChildSpec(executable: "/bin/true", arguments: ["true"], environment: []),
                                                            timeoutSeconds: 10, outputLimit: 1024))
                case 1: _ = await noneShell.call(["command": "true"])
                case 2: _ = await shell.call(["command": "true"])
                default: _ = await wdShell.call(["command": "true"])
                }
                times[v].append(LibC.monotonicSeconds() - t0)
            }
        }
        print("BENCH bare posix_spawn /bin/true:            \(Self.percentiles(times[0]))")
        print("BENCH shell `true`, sandbox: none:           \(Self.percentiles(times[1]))")
        print("BENCH shell `true`, bubblewrap + cgroup:     \(Self.percentiles(times[2]))")
        print("BENCH shell `true`, bubblewrap + watchdog:   \(Self.percentiles(times[3]))")
    }

    /// Per-call latency of the three users of a sandboxed child: a plugin call (the shipped calculator),
    /// a shell call, and an MCP server's start (spawn, initialize, tools/list) plus one tools/call.
    /// Interleaved round by round so that load from elsewhere on the machine falls on all alike.
    @Test func sandboxedChildPerCallLatency() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let calculator = try PluginTool(path: "calculator", baseDirectory: shippedTools, policy: sb.policy)
        let shell = ShellTool(policy: sb.policy)
        let server = MCPServerSpec(command: [try mcpServer("mcp-server-time")], timeoutSeconds: 30)
        _ = await calculator.call(["expression": "1 + 1"])   // warm the page cache
        var times: [[Double]] = [[], [], [], []]
        for _ in 0..<30 {
            var t0 = LibC.monotonicSeconds()
            let c = await calculator.call(["expression": "(3 + 4) * 2 ** 10"])
            times[0].append(LibC.monotonicSeconds() - t0)
            #expect(c.output == "7168\n", "\(c)")
            t0 = LibC.monotonicSeconds()
            let s = await shell.call(["command": "echo hi"])
            times[1].append(LibC.monotonicSeconds() - t0)
            #expect(s.output == "hi\n", "\(s)")
            t0 = LibC.monotonicSeconds()
            let tools = try await ToolFactory.makeTools(entries: [.mcp(server)], policy: sb.policy, baseDirectory: sb.root)
            let started = LibC.monotonicSeconds()
            times[2].append(started - t0)
            let get = try #require(tools.first { $0.declaration.name == "get_current_time" })
            let r = await get.call(["timezone": "UTC"])
            times[3].append(LibC.monotonicSeconds() - started)
            #expect(r.ok, "\(r)")
            for t in tools { await t.shutdown() }
        }
        print("BENCH plugin call (calculator):              \(Self.percentiles(times[0]))")
        print("BENCH shell call (echo hi):                  \(Self.percentiles(times[1]))")
        print("BENCH MCP start (spawn+initialize+list):     \(Self.percentiles(times[2]))")
        print("BENCH MCP tools/call (get_current_time):     \(Self.percentiles(times[3]))")
        print("BENCH MCP start + one tools/call:            \(Self.percentiles(zip(times[2], times[3]).map { $0 + $1 }))")
    }

    @Test func httpToolVersusBareLibcurl() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/json"
        let n = 200
        _ = CurlClient.initialized
        let bare = await time(n) {
            guard let h = curl_easy_init() else { return }
            loza_curl_setopt_str(h, CURLOPT_URL, url)
            loza_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            let sink: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { _, s, c, _ in s * c }
            loza_curl_setopt_fn(h, CURLOPT_WRITEFUNCTION, unsafeBitCast(sink, to: UnsafeMutableRawPointer.self))
            _ = curl_easy_perform(h)
            curl_easy_cleanup(h)
        }
        let tool = try HTTPTool(spec: HTTPToolSpec(name: "api", description: "", url: url, allow: ["127.0.0.1:\(server.port)"]))
        let viaTool = await time(n) { _ = await tool.call([:]) }
        print("BENCH bare libcurl GET (same thread):        \(Self.percentiles(bare))")
        print("BENCH HTTP tool GET (checks, pin, thread):   \(Self.percentiles(viaTool))")
    }
}
