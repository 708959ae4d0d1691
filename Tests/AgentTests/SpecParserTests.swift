import Foundation
import AgentCore
import Catalog
import SpecParser
import Testing
import TranscriptIO

@Suite struct SpecParserTests {
    func parse(_ yaml: String, overrides: [(String, String)] = []) throws -> TaskSpec {
        try SpecParser.parse(yaml: yaml, file: "task.yaml", baseDirectory: "/specs", overrides: overrides)
    }

    /// The error text of a spec that must fail.
    func failure(_ yaml: String, overrides: [(String, String)] = []) -> String {
        do {
            _ = try parse(yaml, overrides: overrides)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func fullSpec() throws {
        let spec = try parse("""
            name: fix-tests
            model: models/small.gguf
            attention: {mode: loza, plan: FSFS, block_size: 64, sink_blocks: 2, local_blocks: 3}
            sampling: {temperature: 0.7, top_p: 0.9, top_k: 40, min_p: 0.05, seed: 42, max_tokens: 256, stop: ["END"]}
            system: You work on {{repo}}.
            prompt: |
              Make the tests of {{ repo }} pass in {{mode}} mode.
            parameters: {repo: loza, mode: fast}
            tools:
              - builtin: shell
              - shell2
              - exec: Tools/read_file
              - http:
                  name: weather
                  description: Weather for a city
                  method: get
                  url: http://127.0.0.1:8080/w?city={city}
                  headers: {Accept: application/json}
                  parameters:
                    type: object
                    properties: {city: {type: string}}
                    required: [city]
                  allow: ["127.0.0.1:8080"]
                  timeout: 5s
                  max_bytes: 64KiB
                  max_redirects: 0
              - mcp: {command: [uvx, mcp-server-time], env: {TZ: UTC}, timeout: 1m, network: false}
            sandbox: {network: true, timeout: 500ms, memory: 512MB, processes: 16, output: 1GiB, writable: [out], env: [PATH], cpu: 2m, file_size: 1MiB, open_files: 64, workdir: work}
            limits: {steps: 5, tokens: 1000, wall: 1h30m, max_tool_errors: 2}
            transcript: runs/fix.jsonl
            constrain_tool_calls: false
            """, overrides: [("mode", "slow")])
        #expect(spec.name == "fix-tests")
        #expect(spec.model == .local("/specs/models/small.gguf"))
        #expect(spec.attention == AttentionSettings(mode: .loza, plan: "FSFS", blockSize: 64, sinkBlocks: 2, localBlocks: 3))
        #expect(spec.sampling == SamplingOptions(temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, seed: 42, maxTokens: 256, stop: ["END"]))
        #expect(spec.system == "You work on loza.")
        #expect(spec.prompt == "Make the tests of loza pass in slow mode.\n")
        #expect(spec.parameters == ["repo": "loza", "mode": "slow"])
        #expect(spec.tools.count == 5)
        #expect(spec.tools[0] == .builtin("shell") && spec.tools[1] == .builtin("shell2"))
        #expect(spec.tools[2] == .exec(path: "/specs/Tools/read_file"))
        guard case .http(let http) = spec.tools[3], case .mcp(let mcp) = spec.tools[4] else {
            Issue.record("tool kinds")
            return
        }
        #expect(http.method == "GET" && http.timeoutSeconds == 5 && http.maxBytes == 65536 && http.maxRedirects == 0)
        #expect(http.parameters == ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])
        #expect(http.headers == ["Accept": "application/json"] && http.allow == ["127.0.0.1:8080"])
        #expect(mcp == MCPServerSpec(command: ["uvx", "mcp-server-time"], env: ["TZ": "UTC"], timeoutSeconds: 60, network: false))
        #expect(spec.sandbox == SandboxSettings(network: true, timeoutSeconds: 0.5, memoryBytes: 512_000_000, processes: 16,
                                                outputBytes: 1 << 30, cpuSeconds: 120, fileSizeBytes: 1 << 20, openFiles: 64,
                                                writable: ["/specs/out"], env: ["PATH"], workdir: "/specs/work"))
        #expect(spec.limits == Limits(steps: 5, tokens: 1000, wallSeconds: 5400, maxConsecutiveToolErrors: 2))
        #expect(spec.transcript == "/specs/runs/fix.jsonl")
        #expect(!spec.constrainToolCalls)
        #expect(spec.baseDirectory == "/specs")
    }

    @Test func minimalSpecAndShorthands() throws {
        let spec = try parse("name: t\nprompt: hi\nmodel: {url: 'http://127.0.0.1:8000/v1', name: m, api_key_env: KEY}\nattention: full\nsandbox: none\n")
        #expect(spec.model == .remote(RemoteModelSettings(url: "http://127.0.0.1:8000/v1", name: "m", apiKeyEnv: "KEY")))
        #expect(spec.attention == AttentionSettings(mode: .full))
        #expect(spec.sandbox.disabled)
        #expect(spec.limits == Limits() && spec.sampling == SamplingOptions() && spec.constrainToolCalls)
        #expect(try parse("name: t\nprompt: hi\n").model == .local(ModelCatalog.defaultAlias))
        #expect(try parse("name: t\nprompt: hi\n").speculation == .lookup)
        #expect(try parse("name: t\nprompt: hi\nspeculation: off\n").speculation == .off)
    }

    @Test(arguments: [
        ("name: t\nprompt: hi\ntemprature: 1\n", "task.yaml:3:1: unknown key 'temprature' in task (allowed: name, model, attention, sampling, system, prompt, prompts, history, parameters, tools, sandbox, limits, transcript, constrain_tool_calls, parallel_calls, tag_calls, prefer_copied_values, ground_optional_arguments, exclude_failed_repeats, declared_calls, speculation, tool_result_hint, reject_repeated_calls, first_tool_choice, answer_after, reasoning)"),
        ("name: t\nprompt: hi\nsampling:\n  temprature: 1\n", "task.yaml:4:3: unknown key 'temprature' in sampling (did you mean 'temperature'?)"),
        ("name: t\nprompt: hi\nsampling: {temperature: hot}\n", "task.yaml:3:25: sampling.temperature: expected a number, got string \"hot\""),
        ("name: t\nprompt: hi\nsampling: {top_p: 1.5}\n", "task.yaml:3:19: sampling.top_p: must be between 0 and 1, got 1.5"),
        ("name: t\nprompt: hi\nlimits: {steps: 0}\n", "task.yaml:3:17: limits.steps: must be at least 1, got 0"),
        ("name: t\nprompt: hi\nlimits: {steps: '3'}\n", "task.yaml:3:17: limits.steps: expected an integer, got string \"3\""),
        ("name: t\nprompt: hi\nlimits: {wall: 30x}\n", "task.yaml:3:16: limits.wall: invalid duration '30x' (use e.g. 500ms, 30s, 2m, 1h)"),
        ("name: t\nprompt: hi\nsandbox: {memory: 12QB}\n", "task.yaml:3:19: sandbox.memory: invalid size '12QB' (use e.g. 4096, 64KiB, 512MB, 1GiB)"),
        ("name: t\nprompt: hi\nsandbox: {network: maybe}\n", "task.yaml:3:20: sandbox.network: expected true or false, got string \"maybe\""),
        ("name: t\nprompt: hi\nsandbox: all\n", "task.yaml:3:10: sandbox: expected a mapping or none, got string \"all\""),
        ("prompt: hi\n", "task.yaml:1:1: missing required key 'name' in task"),
        ("name: t\n", "task.yaml:1:1: missing required key 'prompt' in task"),
        ("name: t\nprompt: hi\nmodel: {name: m}\n", "task.yaml:3:8: missing required key 'url' in model"),
        ("name: t\nprompt: hi\ntools: shell\n", "task.yaml:3:8: tools: expected a list, got string \"shell\""),
        ("name: t\nprompt: hi\ntools:\n  - {exec: a, builtin: b}\n", "task.yaml:4:5: tools[0]: expected exactly one of builtin, exec, http, mcp, declare"),
        ("name: t\nprompt: hi\ntools:\n  - {plugin: a}\n", "task.yaml:4:6: unknown key 'plugin' in tools[0] (allowed: builtin, exec, http, mcp, declare)"),
        ("name: t\nprompt: hi\ntools:\n  - http: {name: w, url: 'ftp://x'}\n", "task.yaml:4:26: tools[0].http.url: expected an http:// or https:// URL, got \"ftp://x\""),
        ("name: t\nprompt: hi\nattention: sparse\n", "task.yaml:3:12: attention: expected full or loza, got \"sparse\""),
        ("name: t\nprompt: hi\nspeculation: medusa\n", "task.yaml:3:14: speculation: expected off or lookup, got string \"medusa\""),
        ("name: t\nprompt: hi\nspeculation: true\n", "task.yaml:3:14: speculation: expected off or lookup, got boolean true"),
        ("name: t\nname: u\nprompt: hi\n", "task.yaml:2:1: duplicate key 'name' in task"),
        ("name: t\nprompt: Fix {{repo}}\n", "task.yaml:2:9: prompt: unknown parameter '{{repo}}' (the spec declares no parameters)"),
        ("name: t\nprompt: Fix {{repo}}\nparameters: {repo: null}\n", "task.yaml:3:14: parameters.repo: no value; give one with --param repo=VALUE"),
        ("name: [t]\nprompt: hi\n", "task.yaml:1:7: name: expected a string, got a list"),
        ("name: t\nprompt: hi\n  bad: indent\n", "task.yaml:3:6: invalid YAML: mapping values are not allowed in this context"),
        ("", "task.yaml:1:1: empty spec; expected a mapping with at least 'name' and 'prompt'"),
        ("- a\n", "task.yaml:1:1: task: expected a mapping, got a list"),
        ("name: t\nprompt: hi\ntool_result_hint: [a]\n", "task.yaml:3:19: tool_result_hint: expected a string, got a list"),
        ("name: t\nprompt: hi\nreject_repeated_calls: maybe\n", "task.yaml:3:24: reject_repeated_calls: expected true, false or previous_step, got string \"maybe\""),
        ("name: t\nprompt: hi\nprompts: [a, b]\n", "task.yaml:3:10: prompts: give either 'prompt' (one user turn) or 'prompts' (several), not both"),
        ("name: t\nprompts: []\n", "task.yaml:2:10: prompts: expected at least one user turn"),
        ("name: t\nprompts: [a, [b]]\n", "task.yaml:2:14: prompts[1]: expected a string, got a list"),
        ("name: t\nprompt: hi\nhistory: [{role: system, content: x}]\n", "task.yaml:3:18: history[0].role: expected user or assistant, got 'system'"),
        ("name: t\nprompt: hi\ntools:\n  - declare: {description: d}\n", "task.yaml:4:14: missing required key 'name' in tools[0].declare"),
        ("name: t\nprompt: hi\ntools:\n  - declare: {name: f, parameters: {type: string}}\n", "task.yaml:4:36: tools[0].declare.parameters: the arguments schema must have type object, got \"string\""),
    ])
    func errorsVerbatim(yaml: String, expected: String) {
        #expect(failure(yaml) == expected)
    }

    @Test func promptsHistoryAndDeclaredTools() throws {
        let spec = try parse("""
            name: t
            parameters: {city: Paris}
            history:
              - {role: user, content: Hello}
              - {role: assistant, content: Hi. What can I do?}
            prompts:
              - Weather in {{city}}?
              - And tomorrow?
            tools:
              - declare:
                  name: get_weather
                  description: Current weather.
                  parameters: {type: object, properties: {city: {type: string}}, required: [city]}
            """)
        #expect(spec.prompt == "Weather in Paris?")
        #expect(spec.followUps == ["And tomorrow?"])
        #expect(spec.history == [.user("Hello"), .assistant("Hi. What can I do?")])
        #expect(spec.tools == [.declare(ToolDeclaration(
            name: "get_weather", description: "Current weather.",
            parameters: ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]))])
        let single = try parse("name: t\nprompt: hi\n")
        #expect(single.followUps.isEmpty && single.history.isEmpty)
    }

    @Test func parameterOverrides() throws {
        let yaml = "name: t\nprompt: '{{a}}-{{ b }}-{{not a param}}'\nparameters: {a: 1, b: x, c: null}\n"
        #expect(try parse(yaml, overrides: [("c", "3")]).prompt == "1-x-{{not a param}}")
        #expect(try parse(yaml, overrides: [("c", "3"), ("a", "2")]).prompt == "2-x-{{not a param}}")
        #expect(failure(yaml, overrides: [("c", "3"), ("z", "1")]) == "--param z=1: no parameter 'z' in task.yaml (declared: a, b, c)")
        #expect(throws: SpecError.self) { try SpecParser.parseOverride("novalue") }
        #expect(try SpecParser.parseOverride("k=a=b") == ("k", "a=b"))
    }

    @Test(arguments: [("500ms", 0.5), ("30s", 30), ("2m", 120), ("1h", 3600), ("1h30m", 5400), ("1.5s", 1.5), ("45", 45)])
    func durations(text: String, seconds: Double) {
        #expect(SpecUnits.duration(text) == seconds)
    }

    @Test(arguments: [("64KiB", 65536), ("1GiB", 1 << 30), ("512MB", 512_000_000), ("100", 100), ("2kb", 2000), ("1.5KiB", 1536)])
    func sizes(text: String, bytes: Int) {
        #expect(SpecUnits.size(text) == bytes)
    }

    @Test func badUnits() {
        for bad in ["", "s", "10x", "1h-2m", "ms"] { #expect(SpecUnits.duration(bad) == nil, "\(bad)") }
        for bad in ["", "KiB", "10 parsecs", "1e3"] { #expect(SpecUnits.size(bad) == nil, "\(bad)") }
    }
}

/// The shipped examples and the documented reference spec parse.
@Suite struct ShippedSpecTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func weakModelOptions() throws {
        let plain = try SpecParser.parse(yaml: "name: t\nprompt: hi\n", file: "task.yaml", baseDirectory: "/")
        #expect(plain.toolResultHint == nil && plain.repeatedCalls == .previousStep)
        let spec = try SpecParser.parse(yaml: "name: t\nprompt: hi\ntool_result_hint: Now answer.\nreject_repeated_calls: true\n", file: "task.yaml", baseDirectory: "/")
        #expect(spec.toolResultHint == "Now answer." && spec.repeatedCalls == .anyStep)
        #expect(plain.firstToolChoice == .auto)
        let off = try SpecParser.parse(yaml: "name: t\nprompt: hi\nreject_repeated_calls: false\n", file: "task.yaml", baseDirectory: "/")
        let previous = try SpecParser.parse(yaml: "name: t\nprompt: hi\nreject_repeated_calls: previous_step\n", file: "task.yaml", baseDirectory: "/")
        #expect(off.repeatedCalls == .never && previous.repeatedCalls == .previousStep)
        do {
            _ = try SpecParser.parse(yaml: "name: t\nprompt: hi\nreject_repeated_calls: sometimes\n", file: "task.yaml", baseDirectory: "/")
            Issue.record("accepted reject_repeated_calls: sometimes")
        } catch let e as SpecError {
            #expect("\(e)".hasPrefix("task.yaml:3:24: reject_repeated_calls: expected true, false or previous_step"), "\(e)")
        }
        // The header records each rule; a header without the key (recorded before the rule) replays with `never`.
        for rule in [RepeatedCallRule.previousStep, .anyStep, .never] {
            var s = plain
            s.repeatedCalls = rule
            #expect(try SpecJSON.decode(SpecJSON.encode(s)).repeatedCalls == rule)
        }
        let required = try SpecParser.parse(yaml: "name: t\nprompt: hi\nfirst_tool_choice: required\n", file: "task.yaml", baseDirectory: "/")
        #expect(required.firstToolChoice == .required && required.answerAfter.isEmpty)
        let after = try SpecParser.parse(yaml: "name: t\nprompt: hi\nanswer_after: [calculator]\n", file: "task.yaml", baseDirectory: "/")
        #expect(after.answerAfter == ["calculator"])
        for bad in ["none", "maybe"] {
            #expect(throws: SpecError.self) {
                try SpecParser.parse(yaml: "name: t\nprompt: hi\nfirst_tool_choice: \(bad)\n", file: "task.yaml", baseDirectory: "/")
            }
        }
    }

    @Test func workdirFromSeedsATemporaryWorkdir() throws {
        let spec = try SpecParser.parse(yaml: "name: t\nprompt: hi\nsandbox: {workdir_from: files, keep_workdir: true}\n",
                                        file: "task.yaml", baseDirectory: "/specs")
        #expect(spec.sandbox.workdirFrom == "/specs/files" && spec.sandbox.keepWorkdir && spec.sandbox.workdir == nil)
        #expect(throws: SpecError.self) {
            try SpecParser.parse(yaml: "name: t\nprompt: hi\nsandbox: {workdir: w, workdir_from: files}\n", file: "task.yaml", baseDirectory: "/")
        }
    }

    @Test func examplesParse() throws {
        let dir = Self.repository.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for file in files {
            let spec = try SpecParser.parse(file: dir.appendingPathComponent(file).path)
            #expect(!spec.tools.isEmpty, "\(file)")
        }
    }

    @Test func documentedReferenceSpecParses() throws {
        let doc = try String(contentsOf: Self.repository.appendingPathComponent("Docs/TaskSpec.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```yaml\n"))
        let end = try #require(doc.range(of: "```\n", range: start.upperBound..<doc.endIndex))
        let yaml = String(doc[start.upperBound..<end.lowerBound])
        let spec = try SpecParser.parse(yaml: yaml, file: "TaskSpec.md", baseDirectory: "/x", overrides: [("branch", "main")])
        #expect(spec.tools.count == 5 && spec.attention?.plan?.count == 24 && spec.sandbox.workdir == "/x/work")
        #expect(spec.prompt.hasPrefix("The tests of demo fail."))
    }

    /// `tag_calls`: the spec's value or the default; recorded in a transcript when on, read back; a
    /// transcript without it (recorded before it existed) replays untagged; a value that is not a boolean is
    /// an error with its place.
    /// Model-side boolean keys: parsed, round-tripped through the transcript header, absent from old
    /// transcripts (off), and a non-boolean is an error with its place.
    @Test(arguments: [("tag_calls", \TaskSpec.tagCalls, TaskSpec.defaultTagCalls),
                      ("prefer_copied_values", \TaskSpec.preferCopiedValues, TaskSpec.defaultPreferCopiedValues)])
    func booleanModelKey(_ key: String, _ field: KeyPath<TaskSpec, Bool> & Sendable, _ defaultValue: Bool) throws {
        func parse(_ yaml: String) throws -> TaskSpec {
            try SpecParser.parse(yaml: yaml, file: "task.yaml", baseDirectory: "/specs")
        }
        for value in [true, false] {
            let spec = try parse("name: t\nprompt: hi\n\(key): \(value)\n")
            #expect(spec[keyPath: field] == value)
            #expect(try SpecJSON.decode(SpecJSON.encode(spec))[keyPath: field] == value)
        }
        let plain = try parse("name: t\nprompt: hi\n")
        #expect(plain[keyPath: field] == defaultValue)
        var old = SpecJSON.encode(plain).objectValue ?? []
        old.removeAll { $0.key == key }
        #expect(try SpecJSON.decode(.object(old))[keyPath: field] == false)
        do {
            _ = try parse("name: t\nprompt: hi\n\(key): sometimes\n")
            Issue.record("accepted a non-boolean")
        } catch {
            #expect("\(error)".hasPrefix("task.yaml:3:"), "\(error)")
        }
    }
}
