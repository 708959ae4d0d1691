import AgentCore
import Foundation
import Testing
@testable import Tools

@Suite struct ShellToolTests {
    @Test func echoAndExitStatus() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let shell = ShellTool(policy: sb.policy)
        let r = await shell.call(["command": "echo hello; echo err >&2; pwd"])
        #expect(r.ok, "\(r)")
        #expect(r.output == "hello\nerr\n\(sb.workdir)\n")
        #expect(r.exitCode == 0)
        #expect(r.metadata["sandbox"] == "bubblewrap")
        let bad = await shell.call(["command": "echo partial; exit 3"])
        #expect(!bad.ok)
        #expect(bad.exitCode == 3)
        #expect(bad.error == "exit status 3")
        #expect(bad.output == "partial\n")
    }
}
