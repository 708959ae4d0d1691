@testable import Agent
import AgentCore
import AgentTesting
import SpecParser
import Testing
@testable import TranscriptIO

/// `exclude_failed_repeats`: the loop hands the next turn the calls of the step before that failed, as the
/// model wrote them; the spec key, its default and old transcripts; the record of a reply decoded again.
@Suite struct ExcludedRepeatTests {
    static let schema: JSONValue = ["type": "object", "properties": ["path": ["type": "string"], "start": ["type": "integer"]],
                                    "required": ["path"]]

    func run(exclude: Bool) async -> (ScriptedModel, RunOutcome) {
        let tool = FakeTool(name: "read", parameters: Self.schema) { args in
            args["path"] == "notes.txt" ? (true, "hello", nil) : (false, "", "no such file")
        }
        let model = ScriptedModel([
            ScriptedModel.call("read", ["path": "x.txt", "start": 1], id: "c1"),     // fails
            ScriptedModel.call("read", ["path": "notes.txt"], id: "c2"),               // works
            ScriptedModel.answer("hello"),
        ])
        var spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "What does notes.txt say? Start at line 1.")
        spec.excludeFailedRepeats = exclude
        let header = TranscriptHeader(runtimeVersion: "test", spec: SpecJSON.encode(spec), model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: [])
        let outcome = await AgentLoop(model: model, tools: [tool], sink: MemorySink()).run(spec, header: header)
        return (model, outcome)
    }

    @Test func theTurnAfterAFailedCallExcludesItAsWritten() async {
        let (model, outcome) = await run(exclude: true)
        #expect(outcome.status == .final)
        let excluded = model.samplingShown.map(\.excludedCalls)
        #expect(excluded.count == 3)
        #expect(excluded[0].isEmpty)
        // As the model wrote it (the optional `start` is kept even if grounding had dropped it).
        #expect(excluded[1].map(\.name) == ["read"] && excluded[1].first?.arguments == ["path": "x.txt", "start": 1])
        #expect(excluded[2].isEmpty, "a call that worked excludes nothing")
        let (off, _) = await run(exclude: false)
        let shown = off.samplingShown
        #expect(shown.count == 3 && shown.allSatisfy { $0.excludedCalls.isEmpty })
    }

    /// Failed calls pile up until a call works (it may change what they would see).
    @Test func failedCallsAccumulateUntilACallWorks() {
        func step(_ call: ToolCall, ok: Bool) -> AnsweredStep {
            AnsweredStep(messages: [], answers: [CallAnswer(call: call, verdict: .ran,
                                                            result: ToolResult(callID: call.id, name: call.name, ok: ok, output: ""))],
                         written: [call])
        }
        let a = ToolCall(id: "c1", name: "read", arguments: ["path": "a"])
        let b = ToolCall(id: "c2", name: "read", arguments: ["path": "b"])
        let a2 = ToolCall(id: "c3", name: "read", arguments: ["path": "a"])
        var excluded = LoopPolicy.excluded(after: step(a, ok: false), before: [], history: CallHistory())
        excluded = LoopPolicy.excluded(after: step(b, ok: false), before: excluded, history: CallHistory())
        #expect(excluded.map(\.id) == ["c1", "c2"])
        excluded = LoopPolicy.excluded(after: step(a2, ok: false), before: excluded, history: CallHistory())
        #expect(excluded.map(\.id) == ["c1", "c2"], "the same call once")
        let refused = AnsweredStep(messages: [], answers: [CallAnswer(call: a2, verdict: .repeated(earlierFailed: true),
                                                                        result: .failure(callID: "c3", name: "read", error: "repeated"))],
                                   written: [a2])
        #expect(LoopPolicy.excluded(after: refused, before: [], history: CallHistory()).map(\.id) == ["c3"])
        #expect(LoopPolicy.excluded(after: step(ToolCall(id: "c4", name: "read", arguments: ["path": "c"]), ok: true), before: excluded, history: CallHistory()).isEmpty)
    }

    /// A call that works again as before (same call, same result) shows nothing changed: the failed calls
    /// stay excluded (a model otherwise alternates a listing that works with a read that fails); a new
    /// result, or a call that had failed and now works, clears them.
    @Test func aCallThatWorksAgainAsBeforeKeepsTheFailedOnesExcluded() {
        func step(_ call: ToolCall, ok: Bool, output: String) -> AnsweredStep {
            AnsweredStep(messages: [], answers: [CallAnswer(call: call, verdict: .ran,
                                                            result: ToolResult(callID: call.id, name: call.name, ok: ok, output: output))],
                         written: [call])
        }
        let list = ToolCall(id: "c1", name: "list", arguments: ["path": "."])
        let bad = ToolCall(id: "c2", name: "read", arguments: ["path": "./"])
        var history = CallHistory()
        let first = step(list, ok: true, output: "TODO.md")
        #expect(LoopPolicy.excluded(after: first, before: [], history: history).isEmpty)
        history.remember(first.answers)
        let failed = step(bad, ok: false, output: "")
        var excluded = LoopPolicy.excluded(after: failed, before: [], history: history)
        history.remember(failed.answers)
        #expect(excluded.map(\.id) == ["c2"])
        // The listing again, the same result: still excluded.
        let again = step(ToolCall(id: "c3", name: "list", arguments: ["path": "."]), ok: true, output: "TODO.md")
        excluded = LoopPolicy.excluded(after: again, before: excluded, history: history)
        #expect(excluded.map(\.id) == ["c2"])
        // The same listing with another result (something changed): cleared.
        let changed = step(ToolCall(id: "c4", name: "list", arguments: ["path": "."]), ok: true, output: "TODO.md\nnew.txt")
        #expect(LoopPolicy.excluded(after: changed, before: excluded, history: history).isEmpty)
        // A call that failed before and works now: cleared.
        let fixed = step(ToolCall(id: "c5", name: "read", arguments: ["path": "./"]), ok: true, output: "x")
        #expect(LoopPolicy.excluded(after: fixed, before: excluded, history: history).isEmpty)
    }

    @Test func theSpecKeyIsOnByDefaultAndOffForOldTranscripts() throws {
        func parse(_ yaml: String) throws -> TaskSpec { try SpecParser.parse(yaml: yaml, file: "t.yaml", baseDirectory: "/") }
        let plain = try parse("name: t\nprompt: hi\n")
        #expect(plain.excludeFailedRepeats)
        #expect(try SpecJSON.decode(SpecJSON.encode(plain)).excludeFailedRepeats)
        let off = try parse("name: t\nprompt: hi\nexclude_failed_repeats: false\n")
        let offBack = try SpecJSON.decode(SpecJSON.encode(off))
        #expect(!off.excludeFailedRepeats && !offBack.excludeFailedRepeats)
        var old = SpecJSON.encode(plain).objectValue ?? []
        old.removeAll { $0.key == "exclude_failed_repeats" }
        #expect(try SpecJSON.decode(.object(old)).excludeFailedRepeats == false)
        #expect(throws: SpecError.self) { try parse("name: t\nprompt: hi\nexclude_failed_repeats: 2\n") }
    }

    @Test func aReplyDecodedAgainRecordsTheCallItRepeated() throws {
        var turn = ModelTurn(text: "{}", stop: .toolCall)
        turn.excludedRepeat = ToolCall(id: "", name: "read", arguments: ["path": "x.txt"])
        guard case .modelTurn(_, let back) = try EventCodec.event(type: "model_turn", payload: EventCodec.payload(.modelTurn(step: 2, turn: turn))) else {
            Issue.record("not a model turn"); return
        }
        #expect(back.excludedRepeat == turn.excludedRepeat)
        let plain = EventCodec.payload(.modelTurn(step: 1, turn: ModelTurn(text: "x", stop: .eos)))
        #expect(plain.objectValue?.contains { $0.key == "excluded_repeat" } == false)
    }
}
