import Agent
import AgentCore
import AgentTesting
import Foundation
import Testing
import Tools
import TranscriptIO

/// Runs the built `loza` binary.
struct CLI {
    static var binary: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("loza").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/loza").path
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The test's environment without `LOZA_LOG_LEVEL`, plus `environment` (a nil value removes the variable).
    static func run(_ arguments: [String], in directory: String, environment: [String: String?] = [:]) throws
        -> (code: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["LOZA_LOG_LEVEL"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// A fresh directory under the temporary folder, removed when the test process exits (kept with
    /// LOZA_KEEP_TEST_DIRS=1, to look into a failure).
    static func tempDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "loza-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        TestDirectories.shared.add(dir)
        return dir
    }
}

/// The directories `CLI.tempDirectory` made, removed at exit.
final class TestDirectories: @unchecked Sendable {
    static let shared = TestDirectories()
    private let lock = NSLock()
    private var paths: [String] = []
    private var registered = false

    func add(_ path: String) {
        let first: Bool = lock.withLock {
            paths.append(path)
            defer { registered = true }
            return !registered
        }
        if first && ProcessInfo.processInfo.environment["LOZA_KEEP_TEST_DIRS"] == nil {
            atexit { TestDirectories.shared.removeAll() }
        }
    }

    func removeAll() {
        for p in lock.withLock({ paths }) { try? FileManager.default.removeItem(atPath: p) }
    }
}

@Suite(.serialized) struct AgentCommandTests {
    func spec(in dir: String) throws -> String {
        let text = """
            name: cli-test
            prompt: Compute {{what}}.
            parameters: {what: "6*7"}
            tools:
              - builtin: shell
              - exec: \(CLI.repository)/Tools/calculator
            sandbox: {workdir: work}
            """
        try text.write(toFile: dir + "/task.yaml", atomically: true, encoding: .utf8)
        return "task.yaml"
    }

    @Test func toolsListAndCall() throws {
        let dir = try CLI.tempDirectory()
        let spec = try spec(in: dir)
        let list = try CLI.run(["tools", "list", spec, "--json"], in: dir)
        #expect(list.code == 0, "\(list.err)")
        let declared = try JSONValue.parse(list.out).arrayValue ?? []
        #expect(declared.compactMap { $0["function"]?["name"]?.stringValue } == ["shell", "calculator"])

        let call = try CLI.run(["tools", "call", spec, "calculator", "{\"expression\": \"6*7\"}"], in: dir)
        #expect(call.code == 0, "\(call.err)")
        let result = try JSONValue.parse(call.out)
        #expect(result["ok"] == true && result["output"]?.stringValue?.contains("42") == true && result["exit_code"] == 0)
        #expect(result.objectValue?.map(\.key) == ["ok", "output", "error", "exit_code", "duration_s"])

        // A failing tool is still a call that was made: exit 0, ok false.
        let failing = try CLI.run(["tools", "call", spec, "shell", "{\"command\": \"echo out; exit 3\"}"], in: dir)
        let failed = try JSONValue.parse(failing.out)
        #expect(failing.code == 0 && failed["ok"] == false && failed["exit_code"] == 3 && failed["output"] == "out\n")
    }

    @Test(arguments: [
        (["tools", "call", "task.yaml", "nope", "{}"], "unknown tool 'nope' in task.yaml (tools: shell, calculator)\n"),
        (["tools", "call", "task.yaml", "shell", "{\"command\": 3}"], "invalid arguments for shell: arguments.command: expected string, got integer\n"),
        (["tools", "call", "task.yaml", "shell", "{\"command\""], "arguments: invalid JSON at byte 10: expected ':'\n"),
        (["run", "bad.yaml"], "bad.yaml:4:3: unknown key 'stesp' in limits (did you mean 'steps'?)\n"),
        (["run", "task.yaml", "--param", "who=me"], "--param who=me: no parameter 'who' in task.yaml (declared: what)\n"),
        (["run", "missing.yaml"], "missing.yaml: no such file\n"),
        (["replay", "garbage.jsonl"], "garbage.jsonl:1: not a JSON object: invalid JSON at byte 0: unexpected character 'h'\n"),
    ])
    func badInputExitsTwo(arguments: [String], message: String) throws {
        let dir = try CLI.tempDirectory()
        _ = try spec(in: dir)
        try "name: t\nprompt: p\nlimits:\n  stesp: 3\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        try "hello\n{}\n".write(toFile: dir + "/garbage.jsonl", atomically: true, encoding: .utf8)
        let r = try CLI.run(arguments, in: dir)
        #expect(r.code == 2)
        #expect(r.err == message)
    }

    /// Records a run with a scripted model and the real shell tool, then replays it from the command line.
    @Test func replayViewAndTools() async throws {
        let dir = try CLI.tempDirectory()
        var spec = TaskSpec(name: "replay", model: .local("scripted"), prompt: "Say hello with the shell.",
                            tools: [.builtin("shell")], baseDirectory: dir)
        spec.sandbox.workdir = dir + "/work"
        let tools = try await ToolFactory.makeTools(entries: spec.tools, sandbox: spec.sandbox, baseDirectory: dir)
        let path = dir + "/run.jsonl"
        let writer = try TranscriptWriter(path: path)
        let header = TranscriptHeader(runtimeVersion: "test", spec: SpecJSON.encode(spec), model: ModelDescription(name: "scripted"),
                                      sampling: spec.sampling, tools: tools.map(\.declaration))
        let outcome = await AgentLoop(model: ScriptedModel([
            ScriptedModel.call("shell", ["command": "echo hello"], id: "call_0_0"),
            ScriptedModel.answer("It said hello."),
        ]), tools: tools, sink: writer).run(spec, header: header)
        writer.close()
        #expect(outcome.status == .final)

        let view = try CLI.run(["replay", path], in: dir)
        #expect(view.code == 0)
        #expect(view.out.contains("#3 → shell {\"command\": \"echo hello\"} [call_0_0]"))
        #expect(view.out.contains("#4 ← shell ok exit 0"))
        #expect(view.out.contains("final · the model gave a final answer · 2 steps"))

        let same = try CLI.run(["replay", path, "--mode", "tools"], in: dir)
        #expect(same.code == 0, "\(same.out)\(same.err)")
        #expect(same.out.hasSuffix("✓ 1 tool calls, same results\n"))

        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"output\":\"hello\\n\"", with: "\"output\":\"bye\\n\"").write(toFile: path, atomically: true, encoding: .utf8)
        let changed = try CLI.run(["replay", path, "--mode", "tools"], in: dir)
        #expect(changed.code == 1)
        #expect(changed.out.contains("✗ event 3 shell [call_0_0]: output differs (first at byte 0; 6 bytes now, 4 recorded)"))

        // A torn last line is skipped with a warning.
        let bytes = Array(text.utf8)
        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: path))
        let torn = try CLI.run(["replay", path], in: dir)
        #expect(torn.code == 0)
        #expect(torn.err.hasPrefix("warning: \(path):7: torn last line skipped"))
        #expect(torn.out.hasSuffix("(no final event: the run was interrupted)\n"))
    }
}
