import Agent
import AgentCore
import AgentTesting
import Testing

@Suite struct AgentLoopTests {
    func spec(_ limits: Limits = Limits(), system: String? = "Be brief.") -> TaskSpec {
        TaskSpec(name: "t", model: .local("scripted"), system: system, prompt: "What is 2+3?", limits: limits)
    }

    func header(_ tools: [any Tool]) -> TranscriptHeader {
        TranscriptHeader(runtimeVersion: "test", spec: ["name": "t"], model: ModelDescription(name: "scripted"),
                         sampling: SamplingOptions(), tools: tools.map(\.declaration))
    }

    func run(_ script: [ScriptedModel.Step], tools: [any Tool], limits: Limits = Limits(),
             configure: (inout TaskSpec) -> Void = { _ in })
        async -> (RunOutcome, [TranscriptEvent], ScriptedModel)
    {
        let model = ScriptedModel(script)
        let sink = MemorySink()
        var taskSpec = spec(limits)
        configure(&taskSpec)
        let outcome = await AgentLoop(model: model, tools: tools, sink: sink).run(taskSpec, header: header(tools))
        return (outcome, sink.events, model)
    }

    func results(_ events: [TranscriptEvent]) -> [(ToolResult, Bool)] {
        events.compactMap { if case .toolResult(_, let r, let d) = $0 { return (r, d) } else { return nil } }
    }

    @Test func toolCallThenFinalAnswer() async {
        let add = FakeTool.add()
        let (outcome, events, model) = await run([
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c1"),
            ScriptedModel.answer("5"),
        ], tools: [add])
        #expect(outcome.status == .final && outcome.answer == "5" && outcome.steps == 2 && outcome.exitCode == 0)
        #expect(add.calls.map(\.arguments) == [["a": 2, "b": 3]])
        #expect(events.map(\.typeName) == ["header", "message", "message", "model_turn", "tool_call", "tool_result", "model_turn", "final"])
        // The second model call sees the whole conversation: system, user, assistant call, tool result.
        let second = model.conversations[1]
        #expect(second.map(\.role) == [.system, .user, .assistant, .tool])
        #expect(second[2].toolCalls.map(\.id) == ["c1"] && second[2].content == "")
        #expect(second[3].toolCallID == "c1" && second[3].content == "5")
        #expect(model.toolsShown[0].map(\.name) == ["add"])
        #expect(outcome.tokens == ScriptedModel.tokens(for: "5").count + (events.compactMap {
            if case .modelTurn(1, let t) = $0 { return t.tokens.count } else { return nil } }.first ?? 0))
    }

    @Test func invalidArgumentsAreAnsweredAndTheToolDoesNotRun() async {
        let add = FakeTool.add()
        let (outcome, events, model) = await run([
            ScriptedModel.call("add", ["a": "two", "b": 3], id: "c1"),
            ScriptedModel.answer("gave up"),
        ], tools: [add])
        #expect(outcome.status == .final)
        #expect(add.calls.isEmpty)
        let (result, dispatched) = results(events)[0]
        #expect(!dispatched && !result.ok && result.callID == "c1")
        #expect(result.error == "invalid arguments for add: arguments.a: expected integer, got string")
        #expect(model.conversations[1].last?.content == "error: invalid arguments for add: arguments.a: expected integer, got string")
    }

    @Test func unknownToolAndMalformedCallsGetPairedErrors() async {
        let (outcome, events, _) = await run([
            ScriptedModel.call("delete_everything", [:], id: "c1"),
            ScriptedModel.malformed("<tool_call>{\"name\": \"add\", \"arguments\": {", id: "c2", reason: "unterminated tool call", name: "add"),
            ScriptedModel.answer("ok"),
        ], tools: [FakeTool.add(), FakeTool.echo()])
        #expect(outcome.status == .final)
        let r = results(events)
        #expect(r.map(\.0.callID) == ["c1", "c2"])
        #expect(r[0].0.error == "unknown tool 'delete_everything'; available: add, echo")
        #expect(r[1].0.error == "malformed tool call: unterminated tool call")
        #expect(events.contains { if case .malformedCall(2, let m) = $0 { return m.id == "c2" } else { return false } })
    }

    @Test func consecutiveFailingStepsStopTheRun() async {
        let (outcome, events, model) = await run([
            ScriptedModel.call("add", ["a": 1], id: "c1"),
            ScriptedModel.malformed("{bad", id: "c2", reason: "invalid JSON"),
            ScriptedModel.call("nope", [:], id: "c3"),
            ScriptedModel.answer("never reached"),
        ], tools: [FakeTool.add()], limits: Limits(maxConsecutiveToolErrors: 3))
        #expect(outcome.status == .failed && outcome.exitCode == 1)
        #expect(outcome.reason == "3 consecutive steps with only invalid tool calls (last: unknown tool 'nope'; available: add)")
        #expect(model.remaining == 1)
        if case .final(let o)? = events.last { #expect(o == outcome) } else { Issue.record("no final event") }
    }

    @Test func aGoodCallResetsTheFailureCount() async {
        let (outcome, _, _) = await run([
            ScriptedModel.call("add", ["a": 1], id: "c1"),
            ScriptedModel.call("add", ["a": 1, "b": 1], id: "c2"),
            ScriptedModel.call("add", ["a": 1], id: "c3"),
            ScriptedModel.answer("2"),
        ], tools: [FakeTool.add()], limits: Limits(maxConsecutiveToolErrors: 2))
        #expect(outcome.status == .final)
    }

    @Test func toolErrorsGoBackToTheModelAndDoNotCountAsInvalidCalls() async {
        let broken = FakeTool.failing()
        let (outcome, events, model) = await run([
            ScriptedModel.call("broken", [:], id: "c1"),
            ScriptedModel.call("broken", [:], id: "c2"),
            ScriptedModel.answer("it is broken"),
        ], tools: [broken], limits: Limits(maxConsecutiveToolErrors: 1), configure: { $0.repeatedCalls = .never })
        #expect(outcome.status == .final && broken.calls.count == 2)
        #expect(results(events).allSatisfy { $0.1 && !$0.0.ok })
        #expect(model.conversations[2].last?.content == "error: exit status 1\npartial output")
    }

    @Test func stepBudget() async {
        let (outcome, _, _) = await run([
            ScriptedModel.call("echo", ["text": "a"], id: "c1"),
            ScriptedModel.call("echo", ["text": "b"], id: "c2"),
            ScriptedModel.answer("done"),
        ], tools: [FakeTool.echo()], limits: Limits(steps: 2))
        #expect(outcome.status == .budget && outcome.reason == "step limit reached (2 steps)" && outcome.steps == 2)
    }

    @Test func tokenBudgetCapsGenerationAndStops() async {
        let long = String(repeating: "x", count: 50)
        let (outcome, _, model) = await run([
            ScriptedModel.call("echo", ["text": "a"], id: "c1"),
            ScriptedModel.answer(long),
        ], tools: [FakeTool.echo()], limits: Limits(tokens: 70))
        let firstTurnTokens = ScriptedModel.tokens(for: "<tool_call>{\"name\": \"echo\", \"arguments\": {\"text\": \"a\"}}</tool_call>").count
        #expect(model.samplingShown[1].maxTokens == 70 - firstTurnTokens)
        #expect(outcome.status == .budget && outcome.tokens == 70)
        #expect(outcome.reason == "token limit reached (70 tokens) in the middle of a reply")
    }

    /// A remote model gives no token ids, only a count: the budget still holds.
    @Test func tokenBudgetCountsReportedTokensOfRemoteTurns() async {
        let call = ModelTurn(text: "", toolCalls: [ToolCall(id: "c1", name: "echo", arguments: ["text": "a"])],
                             stop: .toolCall, reportedTokenCount: 60)
        let (outcome, _, model) = await run([
            .turn(call), ScriptedModel.answer("never reached"),
        ], tools: [FakeTool.echo()], limits: Limits(tokens: 50))
        #expect(outcome.status == .budget && outcome.tokens == 60)
        #expect(outcome.reason == "token limit reached (50 tokens)")
        #expect(model.samplingShown.count == 1)
    }

    @Test func wallTimeBudget() async {
        let (outcome, _, _) = await run([
            .slow(seconds: 600, ModelTurn(text: "x", toolCalls: [ToolCall(id: "c1", name: "echo", arguments: ["text": "a"])], stop: .toolCall)),
            ScriptedModel.answer("late"),
        ], tools: [FakeTool.echo()], limits: Limits(wallSeconds: 0.2))
        #expect(outcome.status == .budget && outcome.reason == "wall-time limit reached (0.2s) while the model was generating")
        // The 600 s model call was cancelled, not waited for. Under the full suite the cooperative pool is shared
        // with tests that block its threads (CLI runs of real models), so the timer itself can fire late (70 s
        // seen on a loaded machine): bound well below 600 s.
        #expect(outcome.wallSeconds < 300)
    }

    @Test func emptyReplyIsNotAnAnswer() async {
        let (outcome, _, _) = await run([ScriptedModel.answer(" \n")], tools: [])
        #expect(outcome.status == .failed && outcome.reason == "the model ended its turn with neither text nor a tool call")
    }

    @Test func modelErrorFailsTheRun() async {
        let (outcome, events, _) = await run([.fail("out of memory")], tools: [])
        #expect(outcome.status == .failed && outcome.reason == "model error: out of memory")
        #expect(events.contains(.error(step: 1, message: "model: out of memory")))
    }

    @Test func transcriptFailureStopsTheRun() async {
        let sink = MemorySink(failAt: 3)
        let outcome = await AgentLoop(model: ScriptedModel([ScriptedModel.answer("hi")]), tools: [], sink: sink)
            .run(spec(), header: header([]))
        #expect(outcome.status == .failed && outcome.reason == "transcript: disk full (simulated)")
    }

    @Test func observerSeesTextAndEvents() async {
        let seen = Collected()
        let loop = AgentLoop(model: ScriptedModel([ScriptedModel.answer("hello")]), tools: [], sink: MemorySink()) { update in
            switch update {
            case .text(let t): seen.add("text:" + t)
            case .modelStarted(let step): seen.add("start:\(step)")
            case .promptProgress(let step, let done, let total): seen.add("prompt:\(step):\(done)/\(total)")
            case .event(let e): seen.add(e.typeName)
            }
        }
        _ = await loop.run(spec(system: nil), header: header([]))
        #expect(seen.items == ["header", "message", "start:1", "prompt:1:1/1", "text:hello", "model_turn", "final"])
    }

    @Test func toolResultHintIsAppendedToRanResultsAndRecorded() async {
        let add = FakeTool.add()
        let hint = "The tool has answered. Reply in plain text."
        let (outcome, events, model) = await run([
            ScriptedModel.call("add", ["a": "x"], id: "c1"),
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c2"),
            ScriptedModel.answer("5"),
        ], tools: [add], configure: { $0.toolResultHint = hint })
        #expect(outcome.status == .final && outcome.answer == "5")
        let third = model.conversations[2]
        // The rejected call's error has no hint; the result of the call that ran has it after a blank line.
        #expect(third[3].content.hasPrefix("error: invalid arguments") && !third[3].content.contains(hint))
        #expect(third[5].content == "5\n\n" + hint)
        let recorded = results(events)
        #expect(recorded.count == 2)
        #expect(recorded[0].0.metadata["tool_result_hint"] == nil)
        #expect(recorded[1].0.output == "5" && recorded[1].0.metadata["tool_result_hint"] == hint)
        #expect(AgentLoop.message(for: recorded[1].0).content == third[5].content)
    }

    @Test func repeatedCallsAreRefusedWithoutRunningTheTool() async {
        let add = FakeTool.add()
        let (outcome, events, model) = await run([
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c1"),
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c2"),
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c3"),
            ScriptedModel.call("add", ["a": 2, "b": 4], id: "c4"),
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c5"),
            ScriptedModel.answer("5"),
        ], tools: [add], configure: { $0.repeatedCalls = .anyStep })
        #expect(outcome.status == .final && outcome.answer == "5")
        // c2 and c3 repeat c1 and do not run; c4 differs and runs; c5 repeats c1 again (steps earlier): not run.
        #expect(add.calls.map(\.arguments) == [["a": 2, "b": 3], ["a": 2, "b": 4]])
        let recorded = results(events)
        #expect(recorded.map(\.1) == [true, false, false, true, false])
        #expect(recorded[1].0.error?.hasPrefix("repeated call: add was already called") == true)
        #expect(recorded[4].0.output == "5")
        #expect(recorded[1].0.metadata["repeated_call"] != nil && recorded[3].0.metadata["repeated_call"] == nil)
        // The refusal carries the earlier result, also when the previous step was itself a refusal.
        #expect(recorded[1].0.output == "5" && recorded[2].0.output == "5")
        // The refused turn is recorded but taken out of what the model sees next: it is asked again from the
        // real result, with tool calls off.
        #expect(Array(model.conversations[2].dropLast()) == model.conversations[1])
        #expect(model.conversations[2].last == .user(AgentLoop.answerNowText))
        #expect(model.toolChoicesShown == [.auto, .auto, .none, .none, .auto, .none])
    }

    @Test func toolChoicePerTurn() async {
        // first_tool_choice applies to step 1 only; the turn after a refused repeat may not call a tool.
        let (outcome, _, model) = await run([
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c1"),
            ScriptedModel.call("add", ["a": 2, "b": 4], id: "c2"),
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c3"),
            ScriptedModel.answer("5"),
        ], tools: [FakeTool.add()], configure: { $0.repeatedCalls = .anyStep; $0.firstToolChoice = .required })
        #expect(outcome.status == .final)
        #expect(model.toolChoicesShown == [.required, .auto, .auto, .none])
        #expect(model.conversations[3] == model.conversations[2] + [.user(AgentLoop.answerNowText)])
        let (plain, _, plainModel) = await run([ScriptedModel.answer("5")], tools: [FakeTool.add()])
        #expect(plain.status == .final && plainModel.toolChoicesShown == [.auto])
    }

    @Test func answerAfterTurnsToText() async {
        let (outcome, _, model) = await run([
            ScriptedModel.call("add", ["a": "x", "b": 3], id: "c1"),  // invalid: no effect
            ScriptedModel.call("add", ["a": 2, "b": 3], id: "c2"),
            ScriptedModel.answer("5"),
        ], tools: [FakeTool.add()], configure: { $0.answerAfter = ["add"] })
        #expect(outcome.status == .final && outcome.answer == "5")
        #expect(model.toolChoicesShown == [.auto, .auto, .none])
        #expect(model.conversations[2].last == .user(AgentLoop.answerNowText) && model.conversations[2].count == 7)
    }

    @Test func repeatedCallsCountAsFailedStepsAndRunWhenTheGuardIsOff() async {
        let script: [ScriptedModel.Step] = (1...4).map { ScriptedModel.call("add", ["a": 1, "b": 1], id: "c\($0)") } + [ScriptedModel.answer("2")]
        let (guarded, _, _) = await run(script, tools: [FakeTool.add()], configure: { $0.repeatedCalls = .anyStep })
        #expect(guarded.status == .failed && guarded.reason.contains("3 consecutive steps") && guarded.reason.contains("repeated call"))
        let add = FakeTool.add()
        let (plain, _, _) = await run(script, tools: [add], configure: { $0.repeatedCalls = .never })
        #expect(plain.status == .final && add.calls.count == 4)
        // The default refuses only a repeat of the step before; here every step repeats it.
        let (byDefault, _, _) = await run(script, tools: [FakeTool.add()])
        #expect(byDefault.status == .failed && byDefault.reason.contains("3 consecutive steps"))
    }
}

final class Collected: @unchecked Sendable {
    private var stored: [String] = []
    private let lock = NSLockish()
    func add(_ s: String) { lock.run { stored.append(s) } }
    var items: [String] { lock.run { stored } }
}

import Foundation
final class NSLockish: @unchecked Sendable {
    let lock = NSLock()
    func run<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }

}
