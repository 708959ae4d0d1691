import AgentCore
import Foundation
import Testing
@testable import Tools

/// The repository's top-level Tools/ folder (shipped plugins).
let shippedTools: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Tools").path
}()

@Suite struct PluginTests {
    func load(_ name: String, _ sb: TestSandbox) throws -> PluginTool {
        try PluginTool(path: name, baseDirectory: shippedTools, policy: sb.policy)
    }

    @Test func manifestErrorsNameFileLineAndColumn() throws {
        func error(_ yaml: String) -> String {
            do {
                _ = try PluginManifest.parse(yaml, file: "x/tool.yaml")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(error("name: a\ndescription: d\nparameters: {type: object}\ncommand: [x]\ntimout: 3s\n")
            == "x/tool.yaml:5:1: unknown key 'timout' (allowed: name, description, parameters, command, timeout, limits)")
        #expect(error("name: a\ndescription: d\nparameters: {type: object}\n")
            == "x/tool.yaml:1:1: missing required key 'command'")
        #expect(error("name: a\ndescription: d\nparameters:\n  type: array\ncommand: x\n")
            == "x/tool.yaml:4:3: parameters: expected a JSON Schema with type: object")
        #expect(error("name: a\ndescription: d\nparameters: {type: object}\ncommand: x\ntimeout: soon\n")
            == "x/tool.yaml:5:10: timeout: expected a duration like 10s, 500ms or 2m")
        #expect(error("name: [a\n").hasPrefix("x/tool.yaml:2:1: invalid YAML"))
        #expect(error("name: 'a b'\ndescription: d\nparameters: {type: object}\ncommand: x\n")
            == "x/tool.yaml:1:7: name: use letters, digits, '_' or '-' (at most 64), got \"a b\"")
        #expect(error("name: a\ndescription: d\nparameters: {type: object}\ncommand: x\nlimits: {memory: lots}\n")
            == "x/tool.yaml:5:18: limits.memory: expected a size like 64KiB or 1GiB")
    }

    @Test func manifestParametersKeepOrderAndTypes() throws {
        let m = try PluginManifest.parse("""
            name: t
            description: d
            parameters:
              type: object
              properties:
                b: {type: integer, minimum: 1}
                a: {type: string, enum: ["1", two]}
              required: [b]
            command: [python3, t.py]
            timeout: 2s
            limits: {memory: 64MiB, processes: 4}
            """, file: "t.yaml")
        #expect(m.parameters.serialized() == #"{"type":"object","properties":{"b":{"type":"integer","minimum":1},"a":{"type":"string","enum":["1","two"]}},"required":["b"]}"#)
        #expect(m.timeoutSeconds == 2)
        #expect(m.memoryBytes == 64 << 20)
        #expect(m.processes == 4)
    }

    @Test func allShippedPluginsLoad() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let entries = ["read_file", "search", "calculator", "write_file", "list_dir"].map { ToolEntry.exec(path: $0) }
        let tools = try await ToolFactory.makeTools(entries: entries, policy: sb.policy, baseDirectory: shippedTools)
        #expect(tools.map(\.declaration.name) == ["read_file", "search", "calculator", "write_file", "list_dir"])
    }

    @Test func readFileShowsNumberedLines() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        try (1...30).map { "line \($0)" }.joined(separator: "\n").write(toFile: sb.workdir + "/a.txt", atomically: true, encoding: .utf8)
        let tool = try load("read_file", sb)
        let r = await tool.call(["path": "a.txt", "start_line": 9, "end_line": 11])
        #expect(r.ok, "\(r)")
        #expect(r.output == " 9\tline 9\n10\tline 10\n11\tline 11\n")
        let missing = await tool.call(["path": "nope.txt"])
        #expect(!missing.ok)
        // A missing path is answered with what is there: files of a similar name, or the directory's top.
        #expect(missing.error == "exit status 1: no such file: nope.txt (the work directory holds: a.txt)")
        let near = await tool.call(["path": "/work/a.txt"])
        #expect(near.error == "exit status 1: no such file: /work/a.txt (did you mean a.txt?)", "\(near)")
    }

    @Test func searchFindsMatchesWithGlobAndCap() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        try FileManager.default.createDirectory(atPath: sb.workdir + "/src", withIntermediateDirectories: true)
        try "def foo():\n    return 1\n".write(toFile: sb.workdir + "/src/a.py", atomically: true, encoding: .utf8)
        try "foo = 2\n".write(toFile: sb.workdir + "/src/b.txt", atomically: true, encoding: .utf8)
        let tool = try load("search", sb)
        let r = await tool.call(["pattern": "foo", "glob": "*.py"])
        #expect(r.ok, "\(r)")
        #expect(r.output == "src/a.py:1:def foo():\n")
        let capped = await tool.call(["pattern": "o", "max_results": 1])
        #expect(capped.output.hasSuffix("[stopped after 1 matches; narrow the pattern or raise max_results]\n"))
        let bad = await tool.call(["pattern": "("])
        #expect(!bad.ok && bad.error?.hasPrefix("exit status 1: invalid pattern") == true, "\(bad)")
    }

    @Test func calculatorIsExactAndSafe() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let tool = try load("calculator", sb)
        #expect(await tool.call(["expression": "(3 + 4) * 2 ** 10"]).output == "7168\n")
        #expect(await tool.call(["expression": "sqrt(16) + pi - pi"]).output == "4.0\n")
        let hostile = await tool.call(["expression": "__import__('os').system('id')"])
        #expect(!hostile.ok && hostile.error?.contains("unsupported syntax") == true, "\(hostile)")
        let huge = await tool.call(["expression": "9 ** 9 ** 9"])
        #expect(!huge.ok && huge.error?.contains("too large") == true, "\(huge)")
        #expect(await tool.call(["expression": "mean(12.5, 15, 11.5) + sum(1, 2)"]).output == "16.0\n")
        let unknown = await tool.call(["expression": "avg(temperature)"])
        #expect(unknown.error?.hasPrefix("exit status 1: cannot evaluate: unknown function 'avg' (the functions are sqrt,") == true, "\(unknown)")
        let name = await tool.call(["expression": "price * 2"])
        #expect(name.error == "exit status 1: cannot evaluate: unknown name 'price': write the numbers themselves (the only names are pi, e, tau)")
        let equation = await tool.call(["expression": "9 - 3 = 6"])
        #expect(equation.error == "exit status 1: syntax error: write only the expression, without '=' and a result (for example: 9 - 3)")
        let zero = await tool.call(["expression": "1 / 0"])
        #expect(zero.error == "exit status 1: division by zero")
    }

    @Test func writeFileAndListDir() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let write = try load("write_file", sb)
        let w = await write.call(["path": "out/notes.txt", "content": "héllo\n"])
        #expect(w.ok && w.output == "wrote 7 bytes to out/notes.txt\n", "\(w)")
        #expect(try String(contentsOfFile: sb.workdir + "/out/notes.txt", encoding: .utf8) == "héllo\n")
        let outside = await write.call(["path": .string(sb.root + "/escape.txt"), "content": "x"])
        #expect(!FileManager.default.fileExists(atPath: sb.root + "/escape.txt"), "\(outside)")
        let list = try load("list_dir", sb)
        let l = await list.call(["depth": 2])
        #expect(l.output == "./\n  out/\n    notes.txt  (7 bytes)\n", "\(l)")
    }

    @Test func pluginSeesArgumentsOnStdinAndKeepsStderr() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        let dir = sb.root + "/plug"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            name: echo_args
            description: echo
            parameters: {type: object, properties: {x: {type: string}}}
            command: [sh, run.sh]
            """.write(toFile: dir + "/tool.yaml", atomically: true, encoding: .utf8)
        try "#!/bin/sh\nread -r line\necho \"got $line\"\necho \"warn: $0\" >&2\n[ \"$line\" = '{\"x\":\"fail\"}' ] && exit 4\necho pwned > \"$(dirname \"$0\")/x\" 2>/dev/null\nexit 0\n"
            .write(toFile: dir + "/run.sh", atomically: true, encoding: .utf8)
        // (run through sh, not exec'd: another test's spawn may briefly hold the fresh file open -> ETXTBSY)
        let tool = try PluginTool(path: "plug", baseDirectory: sb.root, policy: sb.policy)
        let r = await tool.call(["x": "a\"b"])
        #expect(r.ok, "\(r)")
        #expect(r.output == "got {\"x\":\"a\\\"b\"}\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))  // the plugin folder is read-only
        let f = await tool.call(["x": "fail"])
        #expect(!f.ok)
        #expect(f.exitCode == 4)
        #expect(f.error == "exit status 4: warn: \(dir)/run.sh")
        #expect(f.output.contains("[stderr]\nwarn: "))
    }

    @Test func factoryErrorsNameTheEntry() async throws {
        let sb = try TestSandbox()
        defer { sb.cleanup() }
        await #expect(throws: ToolSetupError.self) {
            _ = try await ToolFactory.makeTools(entries: [.builtin("shell"), .exec(path: "nope")], policy: sb.policy, baseDirectory: sb.root)
        }
        do {
            _ = try await ToolFactory.makeTools(entries: [.builtin("shell"), .builtin("shell")], policy: sb.policy, baseDirectory: sb.root)
            Issue.record("duplicate accepted")
        } catch {
            #expect("\(error)" == "tools[1] (builtin: shell): tool name 'shell' is already used by tools[0] (builtin: shell)")
        }
        do {
            _ = try await ToolFactory.makeTools(entries: [.exec(path: "nope")], policy: sb.policy, baseDirectory: sb.root)
        } catch {
            #expect("\(error)" == "tools[0] (exec: nope): plugin folder \(sb.root)/nope does not exist")
        }
    }
}
