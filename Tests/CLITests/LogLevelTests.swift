import Foundation
import Logging
import Testing
@testable import loza

/// `--log-level` / `LOZA_LOG_LEVEL`: loza's diagnostics on stderr, one line each; the default (notice) prints
/// what loza always printed and nothing more.
@Suite(.serialized) struct LogLevelTests {
    func spec(in dir: String) throws -> String {
        try "name: logs\nprompt: p\ntools:\n  - exec: \(CLI.repository)/Tools/calculator\n"
            .write(toFile: dir + "/task.yaml", atomically: true, encoding: .utf8)
        return "task.yaml"
    }

    @Test func levelFromTheOptionThenTheEnvironment() throws {
        let dir = try CLI.tempDirectory()
        let spec = try spec(in: dir)
        let quiet = try CLI.run(["tools", "list", spec], in: dir)
        #expect(quiet.code == 0 && quiet.err == "")

        for (arguments, environment) in [(["--log-level", "debug"], [String: String?]()),
                                         ([], ["LOZA_LOG_LEVEL": "debug"]), ([], ["LOZA_LOG_LEVEL": "DEBUG"])] {
            let r = try CLI.run(["tools", "list", spec] + arguments, in: dir, environment: environment)
            let lines = r.err.split(separator: "\n").map(String.init)
            #expect(r.code == 0 && lines.count == 3, "\(r.err)")
            #expect(lines.first?.hasPrefix("debug [loza.run]: tools ready seconds=") == true, "\(r.err)")
            #expect(lines.first?.contains(" temporary=true tools=calculator workdir=/") == true, "\(r.err)")
            #expect(lines.dropFirst().first?.hasPrefix("debug [loza.run]: tool shut down seconds=") == true, "\(r.err)")
            #expect(lines.last?.hasPrefix("debug [loza.run]: work directory removed workdir=/") == true, "\(r.err)")
        }
        // The option wins over the environment.
        let option = try CLI.run(["tools", "list", spec, "--log-level", "notice"], in: dir, environment: ["LOZA_LOG_LEVEL": "trace"])
        #expect(option.code == 0 && option.err == "")

        let unknown = try CLI.run(["tools", "list", spec], in: dir, environment: ["LOZA_LOG_LEVEL": "loud"])
        #expect(unknown.code == 0)
        #expect(unknown.err == "warning: LOZA_LOG_LEVEL=loud is not a level (trace, debug, info, notice, warning, error, critical); using notice\n")
        let bad = try CLI.run(["tools", "list", spec, "--log-level", "loud"], in: dir)
        #expect(bad.code == 2 && bad.err.contains("The value 'loud' is invalid for '--log-level <level>'"), "\(bad.err)")
    }

    /// A warning (a torn last line of a transcript) shows by default, not at `--log-level error`.
    @Test func warningsAreLogged() throws {
        let dir = try CLI.tempDirectory()
        let text = try String(contentsOfFile: CLI.repository + "/Transcripts/calculator.jsonl", encoding: .utf8)
        try String(text.dropLast(10)).write(toFile: dir + "/torn.jsonl", atomically: true, encoding: .utf8)
        let shown = try CLI.run(["replay", "torn.jsonl"], in: dir)
        #expect(shown.code == 0 && shown.err.hasPrefix("warning: torn.jsonl:") && shown.err.contains("torn last line skipped"), "\(shown.err)")
        let hidden = try CLI.run(["replay", "torn.jsonl", "--log-level", "error"], in: dir)
        #expect(hidden.code == 0 && hidden.err == "" && hidden.out == shown.out)
    }

    @Test func oneLinePerMessage() {
        let handler = StderrLogHandler(label: "loza.test", level: .trace)
        func line(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata? = nil) -> String {
            handler.line(LogEvent(level: level, message: message, metadata: metadata, source: nil, file: #fileID, function: #function, line: #line))
        }
        #expect(line(.notice, "work directory kept: /tmp/w") == "work directory kept: /tmp/w")
        #expect(line(.warning, "the model file differs") == "warning: the model file differs")
        #expect(line(.error, "x") == "error: x")
        #expect(line(.debug, "tool shut down", ["tool": "calc", "seconds": "0.5"]) == "debug [loza.test]: tool shut down seconds=0.5 tool=calc")
        #expect(line(.info, "two\nlines") == "info [loza.test]: two\\nlines")
    }

    @Test func levelResolution() {
        #expect(Log.level(option: .error, environment: ["LOZA_LOG_LEVEL": "debug"]).level == .error)
        #expect(Log.level(option: nil, environment: ["LOZA_LOG_LEVEL": "Info"]).level == .info)
        let none = Log.level(option: nil, environment: [:])
        #expect(none.level == .notice && none.problem == nil)
        let bad = Log.level(option: nil, environment: ["LOZA_LOG_LEVEL": "2"])
        #expect(bad.level == .notice && bad.problem?.hasPrefix("LOZA_LOG_LEVEL=2 is not a level") == true)
    }
}
