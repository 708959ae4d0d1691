import Agent
import AgentCore
import AgentTesting
import Foundation
import Testing
import TranscriptIO

/// Runs a scripted task into a real JSONL file and returns its path.
func recordTranscript(_ script: [ScriptedModel.Step], tools: [any Tool], name: String = UUID().uuidString) async throws -> (String, RunOutcome) {
    let path = NSTemporaryDirectory() + "loza-tests/\(name).jsonl"
    let writer = try TranscriptWriter(path: path)
    defer { writer.close() }
    let spec = TaskSpec(name: "sum", model: .local("scripted"), system: "Use tools.", prompt: "Add 2 and 3, then echo ünïcödé \"quoted\"\n",
                        tools: [.builtin("add"), .exec(path: "/x/echo")], limits: Limits(steps: 6))
    let header = TranscriptHeader(runtimeVersion: "loza test", spec: SpecJSON.encode(spec),
                                  model: ModelDescription(name: "scripted", fileSHA256: "ab12", templateSHA256: "cd34", attention: "full"),
                                  sampling: spec.sampling, threads: 2, tools: tools.map(\.declaration), startedAt: "2026-01-01T00:00:00.000Z")
    let outcome = await AgentLoop(model: ScriptedModel(script), tools: tools, sink: writer).run(spec, header: header)
    return (path, outcome)
}

let sumScript: [ScriptedModel.Step] = [
    ScriptedModel.call("add", ["a": 2, "b": 3], id: "call_1_0"),
    ScriptedModel.malformed("<tool_call>{oops", id: "call_2_0", reason: "invalid JSON at byte 1"),
    ScriptedModel.call("echo", ["text": "ünïcödé \"5\"\n"], id: "call_3_0"),
    ScriptedModel.answer("The sum is 5."),
]

@Suite struct TranscriptTests {
    @Test func roundTrip() async throws {
        let memory = MemorySink()
        let (path, outcome) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        // Same run into memory, to compare the decoded file with the events as emitted.
        _ = await AgentLoop(model: ScriptedModel(sumScript), tools: [FakeTool.add(), FakeTool.echo()], sink: memory)
            .run(try SpecJSON.decode(try Transcript.read(path: path).header!.spec), header: try Transcript.read(path: path).header!)
        let transcript = try Transcript.read(path: path)
        #expect(transcript.warnings.isEmpty)
        #expect(transcript.events.map(\.seq) == Array(0..<transcript.events.count))
        #expect(transcript.outcome?.status == .final && outcome.answer == "The sum is 5.")
        let decoded = transcript.events.map(\.event)
        #expect(decoded.count == memory.events.count)
        for (a, b) in zip(decoded, memory.events) {
            if case .final = a { continue }  // wall time differs between the two runs
            #expect(a == b)
        }
        let header = try #require(transcript.header)
        #expect(header.threads == 2 && header.model.fileSHA256 == "ab12" && header.tools.map(\.name) == ["add", "echo"])
        let spec = try SpecJSON.decode(header.spec)
        #expect(spec.prompt == "Add 2 and 3, then echo ünïcödé \"quoted\"\n" && spec.limits.steps == 6)
        #expect(spec.tools == [.builtin("add"), .exec(path: "/x/echo")])
    }

    @Test func weakModelOptionsSurviveTheHeader() throws {
        var spec = TaskSpec(name: "t", model: .local("m"), prompt: "p")
        #expect(SpecJSON.encode(spec)["tool_result_hint"] == nil)
        #expect(try SpecJSON.decode(SpecJSON.encode(spec)) == spec)
        spec.toolResultHint = "Answer now."
        spec.repeatedCalls = .anyStep
        #expect(try SpecJSON.decode(SpecJSON.encode(spec)) == spec)
    }

    @Test func promptsHistoryAndDeclaredToolsSurviveTheHeader() throws {
        var spec = TaskSpec(name: "t", model: .local("m"), prompt: "p")
        #expect(SpecJSON.encode(spec)["prompts"] == nil && SpecJSON.encode(spec)["history"] == nil)
        spec.followUps = ["second", "third"]
        spec.history = [.user("earlier"), .assistant("reply")]
        spec.tools = [.declare(ToolDeclaration(name: "f", description: "d", parameters: ["type": "object", "properties": [:]]))]
        #expect(SpecJSON.encode(spec)["prompts"] == ["p", "second", "third"])
        #expect(try SpecJSON.decode(SpecJSON.encode(spec)) == spec)
    }

    @Test func lineFormat() async throws {
        let (path, _) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")
        #expect(lines[0].hasPrefix("{\"v\":1,\"seq\":0,\"ts\":\""))
        #expect(lines[0].contains("\"type\":\"header\",\"payload\":{"))
        let call = try JSONValue.parse(String(lines.first { $0.contains("\"type\":\"tool_result\"") }!))
        #expect(call["payload"]?["call_id"] == "call_1_0" && call["payload"]?["output"] == "5" && call["payload"]?["dispatched"] == true)
    }

    /// A transcript cut at every byte offset reads up to its last whole event, with a warning for a torn line.
    @Test func cutAtEveryByte() async throws {
        let (path, _) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var lineEnds: [Int] = []
        for (i, b) in bytes.enumerated() where b == 0x0A { lineEnds.append(i + 1) }
        let full = try Transcript.parse(bytes, file: "t.jsonl").events
        for cut in 1..<bytes.count {
            let whole = lineEnds.filter { $0 <= cut }.count
            let transcript: Transcript
            do {
                transcript = try Transcript.parse(Array(bytes[..<cut]), file: "t.jsonl")
            } catch {
                Issue.record("cut at \(cut): \(error)")
                continue
            }
            let expectTorn = !lineEnds.contains(cut) && cut != lineEnds.last.map { $0 - 1 }
            // A cut just before a newline leaves a complete object: it is read, not torn.
            let count = transcript.events.count
            #expect(count == whole || (count == whole + 1 && lineEnds.contains(cut + 1)), "cut \(cut)")
            #expect(Array(full.prefix(count)) == transcript.events, "cut \(cut)")
            if expectTorn && count == whole {
                #expect(transcript.warnings == ["t.jsonl:\(whole + 1): torn last line skipped (\(cut - (lineEnds.filter { $0 <= cut }.last ?? 0)) bytes; the run was cut mid-write)"], "cut \(cut)")
            }
        }
    }

    @Test func garbageElsewhereIsAnError() async throws {
        let (path, _) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        func error(_ lines: [String]) -> String {
            do { _ = try Transcript.parse(Array((lines.joined(separator: "\n") + "\n").utf8), file: "t.jsonl"); return "no error" } catch { return "\(error)" }
        }
        var broken = lines
        broken[2] = "garbage"
        #expect(error(broken) == "t.jsonl:3: not a JSON object: invalid JSON at byte 0: unexpected character 'g'")
        broken = lines
        broken.remove(at: 3)
        #expect(error(broken) == "t.jsonl:4: event seq 4 out of order (expected 3)")
        broken = lines
        broken[1] = lines[1].replacingOccurrences(of: "\"role\":\"system\"", with: "\"role\":\"wizard\"")
        #expect(error(broken) == "t.jsonl:2: message: 'role' must be system, user, assistant or tool")
        broken = lines
        broken[3] = lines[3].replacingOccurrences(of: "\"tokens\":[", with: "\"tokens\":[\"x\",")
        #expect(error(broken) == "t.jsonl:4: model_turn: 'tokens' must be a list of token ids")
        broken = lines
        broken[0] = lines[0].replacingOccurrences(of: "\"v\":1", with: "\"v\":2")
        #expect(error(broken) == "t.jsonl:1: unsupported transcript version 2 (expected 1)")
        #expect(error(Array(lines.dropFirst()).enumerated().map { $0.element.replacingOccurrences(of: "\"seq\":\($0.offset + 1)", with: "\"seq\":\($0.offset)") })
                == "t.jsonl:1: the first event must be the header, got message")
        broken = lines
        broken.insert("", at: 2)
        #expect(error(broken) == "t.jsonl:3: empty line")
    }

    @Test func writerReportsUnwritablePath() {
        #expect(throws: TranscriptError.self) { try TranscriptWriter(path: "/proc/loza-cannot/x.jsonl") }
    }
}
