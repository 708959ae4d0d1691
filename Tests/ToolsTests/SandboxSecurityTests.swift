import AgentCore
import Foundation
import Testing
@testable import Tools

/// Attacks from inside a tool call. Each must end with an error result (or contained output), loza still
/// running, no process of the call left, and the host unchanged.
@Suite(.serialized) struct SandboxSecurityTests {
    static func marker() -> String { "lozamark\(UInt32.random(in: 100_000...999_999))" }

    @Test func networkEgressToLoopbackServerIsBlocked() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let probe = "import socket; s = socket.create_connection(('127.0.0.1', \(server.port)), 3); s.sendall(b'GET /egress HTTP/1.0\\r\\n\\r\\n'); print(s.recv(64))"
        let r = await ShellTool(policy: sb.policy).call(["command": .string("python3 -c \"\(probe)\"")])
        #expect(!r.ok)
        #expect(r.output.contains("Connection refused") || r.output.contains("unreachable"), "\(r.output)")
        #expect(!server.requests.contains { $0.contains("/egress") })

        // Control: with network granted the same probe reaches the server, so the check above can fail.
        let open = try TestSandbox { $0.network = true }
        defer { open.cleanup() }
        let ok = await ShellTool(policy: open.policy).call(["command": .string("python3 -c \"\(probe)\"")])
        #expect(ok.ok, "\(ok)")
        #expect(server.requests.contains { $0.contains("/egress") })
    }

    @Test func writesOutsideTheWorkDirectoryDoNotReachTheHost() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let outside = sb.root + "/outside.txt"
        try "original".write(toFile: outside, atomically: true, encoding: .utf8)
        let r = await ShellTool(policy: sb.policy).call(["command": .string(
            "echo pwned > \(outside); echo pwned > /usr/loza-pwned; echo pwned >> /etc/passwd; echo pwned > /loza-pwned; echo inside > \(sb.workdir)/ok.txt")])
        #expect(r.output.contains("/usr/loza-pwned: Read-only file system"), "\(r.output)")
        #expect(r.output.contains("/etc/passwd: Read-only file system"), "\(r.output)")
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "original")
        #expect(!FileManager.default.fileExists(atPath: "/usr/loza-pwned"))
        #expect(!FileManager.default.fileExists(atPath: "/loza-pwned"))
        #expect(!(try String(contentsOfFile: "/etc/passwd", encoding: .utf8)).contains("pwned"))
        // The work directory itself is writable and shared with the host.
        #expect(try String(contentsOfFile: sb.workdir + "/ok.txt", encoding: .utf8) == "inside\n")
    }

    @Test func setuidFilesDoNotSurviveTheCall() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let r = await ShellTool(policy: sb.policy).call(["command": "mkdir -p d && cp /bin/true d/x && chmod 4755 d/x && cp /bin/true y && chmod 2755 y && ln -s d/x link"])
        #expect(r.ok, "\(r)")
        // Only loza running as root needs this (a setuid file of an ordinary user grants nothing new).
        for f in ["/d/x", "/y"] where geteuid() == 0 {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: sb.workdir + f)[.posixPermissions] as? Int)
            #expect(mode & 0o6000 == 0, "\(f): \(String(mode, radix: 8))")
        }
        if geteuid() == 0 { #expect(r.metadata["setuid_cleared"]?.contains("/d/x") == true, "\(r.metadata)") }
    }

    @Test func symlinksOutOfTheWorkDirectoryLeadNowhere() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let secret = sb.root + "/secret.txt"
        try "top secret".write(toFile: secret, atomically: true, encoding: .utf8)
        // A link planted by the host before the call, and links the tool makes itself.
        try FileManager.default.createSymbolicLink(atPath: sb.workdir + "/planted", withDestinationPath: secret)
        let r = await ShellTool(policy: sb.policy).call(["command": .string(
            "cat planted; ln -s \(secret) mine; cat mine; echo pwned > mine; echo pwned > planted; ln -s /etc/passwd pw; echo pwned >> pw; ln \(secret) hard")])
        #expect(!r.ok)
        #expect(!r.output.contains("top secret"))
        #expect(try String(contentsOfFile: secret, encoding: .utf8) == "top secret")
        #expect(!(try String(contentsOfFile: "/etc/passwd", encoding: .utf8)).contains("pwned"))
    }

    @Test func runtimeEnvironmentSecretsAreInvisible() async throws {
        setenv("LOZA_TEST_SECRET", "hunter2-secret", 1)
        setenv("LOZA_TEST_PASSED", "visible-value", 1)
        let sb = try TestSandbox { $0.env = ["LOZA_TEST_PASSED"] }
        defer { sb.cleanup() }
        let r = await ShellTool(policy: sb.policy).call(["command": "env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; true"])
        #expect(r.ok)
        #expect(!r.output.contains("hunter2-secret"))
        #expect(r.output.contains("LOZA_TEST_PASSED=visible-value"))
        #expect(r.output.contains("HOME=\(sb.workdir)"))
    }

    @Test func hostProcessesAreInvisible() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let me = ProcessInfo.processInfo.processName
        let r = await ShellTool(policy: sb.policy).call(["command": "ls /proc | grep -c '^[0-9]'; cat /proc/*/cmdline | tr '\\0' ' '; grep -h CapEff /proc/self/status; grep -h NoNewPrivs /proc/self/status"])
        #expect(r.ok)
        let count = Int(r.output.split(separator: "\n").first ?? "") ?? 999
        #expect(count <= 6, "\(r.output)")
        #expect(!r.output.contains(me), "\(r.output)")
        #expect(r.output.contains("CapEff:\t0000000000000000"), "\(r.output)")
        #expect(r.output.contains("NoNewPrivs:\t1"), "\(r.output)")
    }

    @Test func forkBombIsBoundedAndCleanedUp() async throws {
        let sb = try TestSandbox { $0.processes = 64; $0.timeoutSeconds = 4 }
        defer { sb.cleanup() }
        let mark = Self.marker()
        let shell = ShellTool(policy: sb.policy)
        let call = Task { await shell.call(["command": .string("bomb() { bomb | bomb & }; bomb; sleep 30; : \(mark)")]) }
        var peak = 0
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(75))
            peak = max(peak, processes(containing: mark).count)
        }
        let r = await call.value
        #expect(!r.ok)
        if sb.policy.processLimit == .cgroup {
            // Either the main shell itself cannot fork (exit 2) or the bomb runs into the timeout; both hit the limit.
            #expect(r.error?.contains("(the process limit of 64 was hit") == true, "\(r.error ?? "")")
        } else {
            #expect(r.error == "more than 64 processes (limit); all processes of the call killed", "\(r.error ?? "")")
        }
        #expect(peak <= 64 + 2, "peak \(peak)")
        #expect(processes(containing: mark).isEmpty)
        let after = await shell.call(["command": "echo alive"])
        #expect(after.ok && after.output == "alive\n")
    }

    @Test func memoryBombIsStopped() async throws {
        let sb = try TestSandbox { $0.memoryBytes = 256 << 20 }
        defer { sb.cleanup() }
        let r = await ShellTool(policy: sb.policy).call(["command": "python3 -c 'x = []\nwhile True: x.append(bytearray(16 << 20))'"])
        #expect(!r.ok)
        #expect(r.output.contains("MemoryError") || r.error?.contains("signal 9") == true, "\(r)")
    }

    @Test func infiniteLoopHitsTheWallClockAndCPULimits() async throws {
        let sb = try TestSandbox { $0.timeoutSeconds = 2 }
        defer { sb.cleanup() }
        let t0 = Date()
        let r = await ShellTool(policy: sb.policy).call(["command": "while :; do :; done"])
        #expect(!r.ok)
        #expect(r.error == "timed out after 2s; every process of the call was killed")
        // The loop never ends by itself; the bound is loose because CI runs suites in parallel on 2 cores.
        #expect(Date().timeIntervalSince(t0) < 30)

        let cpu = try TestSandbox { $0.timeoutSeconds = 20; $0.cpuSeconds = 1 }
        defer { cpu.cleanup() }
        let c = await ShellTool(policy: cpu.policy).call(["command": "while :; do :; done"])
        #expect(!c.ok)
        #expect(c.error?.contains("CPU limit") == true, "\(c)")
    }

    @Test func backgroundChildrenDieWithTheCall() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let mark = Self.marker()
        let t0 = Date()
        // One child keeps the output pipe open, one detaches with setsid and nohup.
        let r = await ShellTool(policy: sb.policy).call(["command": .string(
            "sh -c 'sleep 1000; : \(mark)' & nohup setsid sh -c 'sleep 1000; : \(mark)' >/dev/null 2>&1 & echo started")])
        #expect(r.ok)
        #expect(r.output == "started\n")
        // The children sleep 1000 s; returning long before shows the call did not wait for them.
        #expect(Date().timeIntervalSince(t0) < 60)
        let left = processes(containing: mark)
        #expect(left.isEmpty, "\(left.map { describeProcess($0) })")
    }

    @Test func gigabyteOfOutputIsCappedAndHashed() async throws {
        let sb = try TestSandbox { $0.timeoutSeconds = 60; $0.outputBytes = 1000 }
        defer { sb.cleanup() }
        let r = await ShellTool(policy: sb.policy).call(["command": "head -c 1073741824 /dev/zero | tr '\\0' 'a'"])
        #expect(r.ok, "\(r)")
        #expect(r.fullOutputBytes == 1 << 30)
        // sha256 of 2^30 'a' bytes (computed with `head -c 1073741824 /dev/zero | tr '\0' a | sha256sum`).
        #expect(r.fullOutputSHA256 == Self.gigabyteOfA)
        #expect(r.output.hasPrefix(String(repeating: "a", count: 500) + "\n[... 1073740824 bytes truncated ...]\n"))
        #expect(r.output.utf8.count < 1100)
    }

    static let gigabyteOfA = "c4d3e5935f50de4f0ad36ae131a72fb84a53595f81f92678b42b91fc78992d84"
}
