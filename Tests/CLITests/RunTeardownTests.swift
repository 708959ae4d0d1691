import AgentCore
import Foundation
import TestSupport
import Testing
import TranscriptIO

/// `loza run` tears a run down on every failure path once its tools exist: the temporary work directory is
/// removed and every tool is shut down (a plugin from Tools/ and the PyPI MCP time server). Each run gets its
/// own $TMPDIR, so "nothing left behind" is that folder being empty; `--log-level debug` shows the work
/// directory was made there and each tool's shutdown.
@Suite(.serialized) struct RunTeardownTests {
    static var mcpTimeServer: String {
        (ProcessInfo.processInfo.environment["LOZA_MCP_VENV"] ?? NSHomeDirectory() + "/.cache/loza/mcp-venv") + "/bin/mcp-server-time"
    }

    /// A folder with `fail.yaml` (calculator plugin, MCP time server, then `extraTool` if any; `extraTop`
    /// appended at the top level), a regular file `afile`, and an empty `tmp` for $TMPDIR.
    func fixture(model: String, extraTool: String? = nil, extraTop: String? = nil) throws -> (dir: String, tmp: String) {
        #expect(FileManager.default.isExecutableFile(atPath: Self.mcpTimeServer), "run scripts/install-mcp-servers.sh")
        let dir = try CLI.tempDirectory()
        var yaml = """
            name: fail
            prompt: What time is it in Paris?
            model: \(model)
            tools:
              - exec: \(CLI.repository)/Tools/calculator
              - mcp: {command: [\(Self.mcpTimeServer)]}

            """
        if let extraTool { yaml += "  - \(extraTool)\n" }
        if let extraTop { yaml += extraTop + "\n" }
        try yaml.write(toFile: dir + "/fail.yaml", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/afile", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        return (dir, dir + "/tmp")
    }

    /// Runs `loza run fail.yaml ARGS --log-level debug` with its own $TMPDIR; checks exit 2, the message, and
    /// that the tools came up, were shut down, and left no work directory behind.
    func expectTeardown(_ dir: String, tmp: String, arguments: [String] = [], toolsCameUp: Bool = true,
                        message: (String) -> Bool) throws {
        let r = try CLI.run(["run", "fail.yaml", "--threads", "2", "--log-level", "debug"] + arguments, in: dir,
                            environment: ["TMPDIR": tmp])
        #expect(r.code == 2, "\(r.err)")
        let lines = r.err.split(separator: "\n").map(String.init)
        let errorLine = lines.first { !$0.hasPrefix("debug [") && !$0.hasPrefix("info [") } ?? ""
        #expect(message(errorLine), "\(r.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == [], "left behind in $TMPDIR: \(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/transcripts"))
        if toolsCameUp {
            #expect(lines.contains { $0.hasPrefix("debug [loza.run]: tools ready") && $0.contains("workdir=\(tmp)/loza-work-") }, "\(r.err)")
            for tool in ["calculator", "get_current_time", "convert_time"] {
                #expect(lines.contains { $0.hasPrefix("debug [loza.run]: tool shut down") && $0.hasSuffix("tool=\(tool)") }, "\(tool): \(r.err)")
            }
            #expect(lines.contains { $0.hasPrefix("debug [loza.run]: work directory removed workdir=\(tmp)/loza-work-") }, "\(r.err)")
        }
    }

    /// A tool entry that cannot be set up, after the MCP server started: ToolFactory stops the server and
    /// removes the directory before the run holds anything.
    @Test func badSpecTool() throws {
        let (dir, tmp) = try fixture(model: "smollm2-135m-instruct", extraTool: "exec: ./NoSuchTool")
        try expectTeardown(dir, tmp: tmp, toolsCameUp: false) {
            $0.hasPrefix("fail.yaml: tools[2] (exec: ") && $0.hasSuffix("/NoSuchTool does not exist")
        }
    }

    @Test func badAnswerAfter() throws {
        let (dir, tmp) = try fixture(model: "smollm2-135m-instruct", extraTop: "answer_after: [get_current_time, nope]")
        try expectTeardown(dir, tmp: tmp) {
            $0 == "fail.yaml: answer_after: unknown tool 'nope' (tools: calculator, get_current_time, convert_time)"
        }
    }

    @Test func badModel() throws {
        let (dir, tmp) = try fixture(model: "missing.gguf")
        try expectTeardown(dir, tmp: tmp) { $0.hasPrefix("model ") && $0.hasSuffix("/missing.gguf: no such file") }
    }

    /// The model loads; then the transcript cannot be created (its folder is a file).
    @Test(.requiresModel(RealModels.smol)) func unwritableTranscript() throws {
        _ = try RealModels.require(RealModels.smol)
        let (dir, tmp) = try fixture(model: "smollm2-135m-instruct")
        try expectTeardown(dir, tmp: tmp, arguments: ["--transcript", "afile/t.jsonl"]) {
            $0 == "afile/t.jsonl: cannot create the transcript: Not a directory"
        }
    }

    /// Ctrl-C in the middle of a model turn: exit 130, the transcript ends with a final event, and the work
    /// directory is gone.
    @Test(.requiresModel(RealModels.smol)) func interruptWritesTheFinalEventAndRemovesTheWorkdir() throws {
        _ = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        try """
            name: interrupted
            model: smollm2-135m-instruct
            sampling: {temperature: 0.7, top_k: 40, seed: 7, max_tokens: 2000}
            prompt: Write a very long story about a robot who learns to paint, with many chapters.
            tools:
              - exec: \(CLI.repository)/Tools/calculator
            limits: {steps: 1}
            """.write(toFile: dir + "/long.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["run", "long.yaml", "--threads", "2", "--transcript", "run.jsonl"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = dir + "/tmp"
        env["LOZA_LOG_LEVEL"] = nil
        process.environment = env
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        // Interrupt once the first model turn is under way (the header and the messages are written).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: dir + "/run.jsonl", encoding: .utf8)) ?? ""
            if text.contains("\"type\":\"message\"") && text.contains("\"role\":\"user\"") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(process.isRunning, "the run ended before it could be interrupted")
        process.interrupt()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(errText)")
        #expect(errText.hasSuffix("interrupted; transcript: run.jsonl\n"), "\(errText)")
        let transcript = try Transcript.read(path: dir + "/run.jsonl")
        #expect(transcript.outcome?.status == .failed && transcript.outcome?.reason == "interrupted (SIGINT)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp") == [])
    }
}
