import Agent
import AgentCore
import AgentTesting
import Foundation
import Testing
import TranscriptIO

@Suite struct ReplayTests {
    func recorded() async throws -> Transcript {
        let (path, _) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        return try Transcript.read(path: path)
    }

    /// Verify: the same model output against the recorded tool results reproduces the run.
    func verify(_ transcript: Transcript, with script: [ScriptedModel.Step]) async throws -> (ReplayLog, VerifyingModel, RunOutcome) {
        let header = try #require(transcript.header)
        let log = ReplayLog()
        let model = VerifyingModel(ScriptedModel(script), transcript: transcript, log: log)
        let tools = ReplayTools(transcript, log: log)
        let outcome = await AgentLoop(model: model, tools: tools.tools, sink: MemorySink())
            .run(try SpecJSON.decode(header.spec), header: header)
        return (log, model, outcome)
    }

    @Test func identicalRunVerifies() async throws {
        let transcript = try await recorded()
        let (log, model, outcome) = try await verify(transcript, with: sumScript)
        #expect(log.divergence == nil && model.unconsumed.isEmpty)
        #expect(outcome.status == .final && outcome.answer == "The sum is 5.")
    }

    @Test func tokenDivergenceNamesEventAndToken() async throws {
        let transcript = try await recorded()
        var script = sumScript
        script[2] = ScriptedModel.call("echo", ["text": "ünïcödé \"6\"\n"], id: "call_3_0")
        let (log, _, outcome) = try await verify(transcript, with: script)
        let d = try #require(log.divergence)
        let turnSeqs = transcript.events.filter { $0.event.typeName == "model_turn" }.map(\.seq)
        #expect(d.seq == turnSeqs[2])
        let expectedIndex = Array("<tool_call>{\"name\": \"echo\", \"arguments\": {\"text\": \"ünïcödé \\\"".unicodeScalars).count
        #expect(d.tokenIndex == expectedIndex)
        #expect(d.description == "diverged at event \(turnSeqs[2]), token \(expectedIndex): token 54 where the record has 53")
        #expect(outcome.status == .failed)
    }

    @Test func differentCallIsADivergenceOfTheTools() async throws {
        let transcript = try await recorded()
        let log = ReplayLog()
        let tools = ReplayTools(transcript, log: log)
        let add = try #require(tools.tools.first { $0.declaration.name == "add" })
        let same = await add.call(id: "x", arguments: ["a": 2, "b": 3])
        #expect(same.ok && same.output == "5" && same.callID == "x" && log.divergence == nil)
        let echo = try #require(tools.tools.first { $0.declaration.name == "echo" })
        let other = await echo.call(id: "y", arguments: ["text": "else"])
        #expect(!other.ok)
        let seq = transcript.events.first { if case .toolCall(_, let c) = $0.event { return c.id == "call_3_0" } else { return false } }!.seq
        #expect(log.divergence?.seq == seq)
        #expect(log.divergence?.message == "call echo({\"text\":\"else\"}) where the record has echo({\"text\":\"ünïcödé \\\"5\\\"\\n\"})")
    }

    @Test func shorterRunLeavesRecordedTurns() async throws {
        let transcript = try await recorded()
        let (log, model, _) = try await verify(transcript, with: [sumScript[0], ScriptedModel.answer("5")])
        #expect(log.divergence?.seq == transcript.events.filter { $0.event.typeName == "model_turn" }[1].seq)
        #expect(model.unconsumed.count == 2)
    }

    @Test func replayModelReturnsTheRecordedTurns() async throws {
        let transcript = try await recorded()
        let header = try #require(transcript.header)
        let log = ReplayLog()
        let sink = MemorySink()
        let outcome = await AgentLoop(model: ReplayModel(transcript, log: log), tools: ReplayTools(transcript, log: log).tools, sink: sink)
            .run(try SpecJSON.decode(header.spec), header: header)
        #expect(outcome.status == .final && log.divergence == nil)
        #expect(sink.events.dropLast() == transcript.events.map(\.event).dropLast())
    }

    @Test func toolModeReportsDifferences() async throws {
        let transcript = try await recorded()
        let same = await ToolReplay.run(transcript, tools: [FakeTool.add(), FakeTool.echo()])
        #expect(same.compared == 2 && same.differences.isEmpty)
        let changed = FakeTool(name: "add", parameters: ["type": "object"]) { _ in (true, "6", nil) }
        let diff = await ToolReplay.run(transcript, tools: [changed, FakeTool.echo()])
        #expect(diff.differences.map(\.what) == ["output differs (first at byte 0; 1 bytes now, 1 recorded)"])
    }
}

@Suite struct ResumeTests {
    @Test func resumeFromStepThreeRunsLiveAfterTheRecord() async throws {
        let (path, _) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        let transcript = try Transcript.read(path: path)
        let header = try #require(transcript.header)
        // The live model is asked only from step 3 on; the live tools only for calls of steps >= 3.
        let live = ScriptedModel([ScriptedModel.call("echo", ["text": "live"], id: "call_3_0"), ScriptedModel.answer("Resumed.")])
        let add = FakeTool.add(), echo = FakeTool.echo()
        let sink = MemorySink()
        let outcome = await AgentLoop(model: Resume.model(live, transcript: transcript, from: 3),
                                      tools: Resume.tools([add, echo], transcript: transcript, from: 3), sink: sink)
            .run(try SpecJSON.decode(header.spec), header: header)
        #expect(outcome.status == .final && outcome.answer == "Resumed." && outcome.steps == 4)
        #expect(add.calls.isEmpty && echo.calls.map(\.arguments) == [["text": "live"]])
        // The live model saw the replayed history: system, user, two assistant turns with their results.
        #expect(live.conversations[0].map(\.role) == [.system, .user, .assistant, .tool, .assistant, .tool])
        #expect(live.conversations[0][3].content == "5")
    }
}

@Suite struct StatsTests {
    @Test func countsCallsAndTokens() async throws {
        let (path, _) = try await recordTranscript(sumScript, tools: [FakeTool.add(), FakeTool.echo()])
        let stats = TranscriptStats(try Transcript.read(path: path))
        #expect(stats.steps == 4 && stats.toolCalls == 3 && stats.malformedCalls == 1 && stats.rejectedCalls == 1)
        #expect(stats.failedToolResults == 0 && stats.recoveredCalls == 0)
        #expect(stats.generatedTokens == sumScript.reduce(0) { n, s in if case .turn(let t) = s { return n + t.tokens.count } else { return n } })
    }
}

/// The loop re-run on each shipped transcript's recorded model turns and tool results writes the same
/// events, byte for byte: tool choices, refused repeats, hints, nudges and the ending are decided as when
/// the transcript was recorded (the CLI tests re-run the real model on the same files).
@Suite struct ShippedTranscriptReplayTests {
    static var files: [String] {
        let dir = ShippedSpecTests.repository.appendingPathComponent("Transcripts").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
    }

    @Test func thereAreShippedTranscripts() { #expect(Self.files.count >= 3) }

    @Test(arguments: files)
    func loopWritesTheRecordedEvents(_ file: String) async throws {
        let path = ShippedSpecTests.repository.appendingPathComponent("Transcripts/\(file)").path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { String($0) + "\n" }
        let transcript = try Transcript.read(path: path)
        let header = try #require(transcript.header)
        let log = ReplayLog()
        let sink = MemorySink()
        let outcome = await AgentLoop(model: ReplayModel(transcript, log: log), tools: ReplayTools(transcript, log: log).tools, sink: sink)
            .run(try SpecJSON.decode(header.spec), header: header)
        #expect(log.divergence == nil)
        #expect(sink.events.count == transcript.events.count)
        for (event, recorded) in zip(sink.events, transcript.events) {
            if case .final = event { continue }  // wall time differs
            #expect(TranscriptWriter.line(event, seq: recorded.seq, timestamp: recorded.timestamp) == lines[recorded.seq], "\(file) event \(recorded.seq)")
        }
        let recordedOutcome = try #require(transcript.outcome)
        #expect(outcome.status == recordedOutcome.status && outcome.reason == recordedOutcome.reason && outcome.answer == recordedOutcome.answer)
        #expect(outcome.steps == recordedOutcome.steps && outcome.tokens == recordedOutcome.tokens)
    }
}
