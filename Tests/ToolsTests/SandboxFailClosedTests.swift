import AgentCore
import Foundation
import Testing
@testable import Tools

@Suite(.serialized) struct SandboxFailClosedTests {
    @Test func missingBubblewrapFailsClosed() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        var policy = sb.policy
        policy.bwrapPath = "/nonexistent/bwrap"
        let r = await ShellTool(policy: policy).call(["command": .string("touch \(sb.workdir)/ran")])
        #expect(!r.ok)
        #expect(r.error == "sandbox unavailable: /nonexistent/bwrap is missing or not executable (install bubblewrap; nothing was run)")
        #expect(!FileManager.default.fileExists(atPath: sb.workdir + "/ran"))
    }

    @Test func bubblewrapSetupErrorFailsClosed() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        var policy = sb.policy
        policy.writable = ["/nonexistent-loza-path"]   // bwrap cannot bind it
        let r = await ShellTool(policy: policy).call(["command": .string("touch \(sb.workdir)/ran")])
        #expect(!r.ok)
        #expect(r.error?.hasPrefix("sandbox setup failed: bwrap: Can't find source path /nonexistent-loza-path") == true, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: sb.workdir + "/ran"))
    }

    @Test func sandboxNoneRunsUnsandboxedAndSaysSo() async throws {
        let sb = try TestSandbox { $0.disabled = true }
        defer { sb.cleanup() }
        let mark = "lozanone\(UInt32.random(in: 100_000...999_999))"
        let r = await ShellTool(policy: sb.policy).call(["command": .string("pwd; echo $HOME; sh -c 'sleep 1000; : \(mark)' & echo bye")])
        #expect(r.ok, "\(r)")
        #expect(r.output == "\(sb.workdir)\n\(sb.workdir)\nbye\n")
        #expect(r.metadata["sandbox"] == "none")
        // Even unsandboxed, the call's process group is killed when it returns.
        try await Task.sleep(for: .milliseconds(100))
        #expect(processes(containing: mark).isEmpty)
    }

    /// Without cgroups the watchdog polls the sandbox's process count every 50 ms and kills the sandbox's
    /// init once it is over the limit. A real fork bomb is NOT used here: between two polls, on a loaded
    /// machine, an unbounded bomb can take the whole pid space (32768 here) and starve every other test
    /// (seen in CI: MCP servers started beside it were killed). The burst below is bounded (200 sleeps).
    @Test func watchdogKillsACallOverItsProcessLimitWithoutCgroups() async throws {
        let sb = try TestSandbox { $0.processes = 32; $0.timeoutSeconds = 10 }
        defer { sb.cleanup() }
        var policy = sb.policy
        policy.processLimit = .watchdog
        let mark = "lozawd\(UInt32.random(in: 100_000...999_999))"
        let shell = ShellTool(policy: policy)
        let call = Task { await shell.call(["command": .string("for i in $(seq 200); do sleep 30 & done; wait; : \(mark)")]) }
        var peak = 0
        for _ in 0..<30 {
            try await Task.sleep(for: .milliseconds(50))
            peak = max(peak, processes(containing: mark).count)
        }
        let r = await call.value
        #expect(!r.ok)
        #expect(r.error == "more than 32 processes (limit); all processes of the call killed", "\(r)")
        #expect(r.metadata["process_limit"] == "watchdog")
        #expect(processes(containing: mark).isEmpty)
        print("watchdog burst: peak \(peak) processes seen from the host (limit 32)")
    }
}
