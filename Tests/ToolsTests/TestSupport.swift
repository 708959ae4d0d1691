import AgentCore
import Foundation
@testable import Tools

/// A fresh work directory and sandbox policy per test.
struct TestSandbox {
    let root: String
    let workdir: String
    let policy: SandboxPolicy

    init(_ configure: (inout SandboxSettings) -> Void = { _ in }) throws {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("loza-test-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        root = String(cString: p!)
        workdir = root + "/work"
        var settings = SandboxSettings(timeoutSeconds: 10, workdir: workdir)
        configure(&settings)
        policy = try SandboxPolicy.resolve(settings, baseDirectory: root)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Pids of processes whose command line contains `marker` (scanning /proc).
func processes(containing marker: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [Int32] = []
    for e in entries {
        guard let pid = Int32(e), pid != getpid() else { continue }
        guard let data = FileManager.default.contents(atPath: "/proc/\(e)/cmdline") else { continue }
        let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        if cmd.contains(marker) { found.append(pid) }
    }
    return found
}

extension Tool {
    func call(_ arguments: JSONValue) async -> ToolResult {
        await call(id: "t1", arguments: arguments)
    }
}

/// State, parent and command line of a process, for failure messages.
func describeProcess(_ pid: Int32) -> String {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let keep = status.split(separator: "\n").filter { $0.hasPrefix("State") || $0.hasPrefix("PPid") || $0.hasPrefix("NSpid") }
    let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) } ?? ""
    return "\(pid) \(keep.joined(separator: " ")) \(cmd.prefix(120))"
}
