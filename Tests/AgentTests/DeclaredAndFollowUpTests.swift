import Agent
import AgentCore
import AgentTesting
import Testing
@testable import TranscriptIO

/// Declared tools end the run with their calls for the caller; `prompts` follow-ups and `history` shape
/// one conversation.
@Suite struct DeclaredAndFollowUpTests {
    static let weather = ToolDeclaration(name: "get_weather", description: "Weather of a city.",
                                         parameters: ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])

    func run(_ script: [ScriptedModel.Step], tools: [any Tool], configure: (inout TaskSpec) -> Void = { _ in })
        async -> (RunOutcome, [TranscriptEvent], ScriptedModel)
    {
        let model = ScriptedModel(script)
        let sink = MemorySink()
        var spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "Weather in Paris?")
        configure(&spec)
        let header = TranscriptHeader(runtimeVersion: "test", spec: ["name": "t"], model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: tools.map(\.declaration))
        let outcome = await AgentLoop(model: model, tools: tools, sink: sink).run(spec, header: header)
        return (outcome, sink.events, model)
    }

    @Test func aDeclaredCallEndsTheRunWithTheCall() async throws {
        let (outcome, events, model) = await run([ScriptedModel.call("get_weather", ["city": "Paris"], id: "c1")],
                                                 tools: [DeclaredTool(Self.weather)])
        #expect(outcome.status == .calls && outcome.exitCode == 0 && model.conversations.count == 1)
        #expect(outcome.calls.map(\.id) == ["c1"] && outcome.calls[0].arguments == ["city": "Paris"])
        #expect(events.map(\.typeName) == ["header", "message", "model_turn", "tool_call", "final"])
        // The final event carries the calls and reads back.
        let final = try #require(events.last)
        let line = EventCodec.payload(final)
        #expect(line["calls"]?.arrayValue?.count == 1)
        guard case .final(let back) = try EventCodec.event(type: "final", payload: line) else { Issue.record("not final"); return }
        #expect(back == outcome)
    }

    @Test func invalidArgumentsOfADeclaredToolAreRefusedAndTheRunGoesOn() async {
        let (outcome, _, model) = await run([
            ScriptedModel.call("get_weather", ["town": "Paris"], id: "c1"),
            ScriptedModel.call("get_weather", ["city": "Paris"], id: "c2"),
        ], tools: [DeclaredTool(Self.weather)])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c2"] && model.conversations.count == 2)
        #expect(model.conversations[1].last?.content.contains("invalid arguments for get_weather") == true)
    }

    @Test func realCallsOfTheTurnRunBeforeTheRunStopsForTheDeclaredOnes() async {
        let add = FakeTool.add()
        let script: [ScriptedModel.Step] = [.turn(ModelTurn(text: "", tokens: [1, 2], toolCalls: [
            ToolCall(id: "c1", name: "get_weather", arguments: ["city": "Oslo"]),
            ToolCall(id: "c2", name: "add", arguments: ["a": 1, "b": 2]),
        ], stop: .toolCall))]
        let (outcome, events, _) = await run(script, tools: [DeclaredTool(Self.weather), add])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c1"] && add.calls.count == 1)
        #expect(events.map(\.typeName) == ["header", "message", "model_turn", "tool_call", "tool_call", "tool_result", "final"])
    }

    @Test func followUpPromptsAndHistoryMakeOneConversation() async {
        let (outcome, events, model) = await run([ScriptedModel.answer("4"), ScriptedModel.answer("40")], tools: []) {
            $0.system = "Be brief."
            $0.history = [.user("Hi"), .assistant("Hello.")]
            $0.prompt = "2+2?"
            $0.followUps = ["Times ten?"]
        }
        #expect(outcome.status == .final && outcome.answer == "40" && outcome.steps == 2)
        #expect(model.conversations[0].map(\.content) == ["Be brief.", "Hi", "Hello.", "2+2?"])
        #expect(model.conversations[1].map(\.content) == ["Be brief.", "Hi", "Hello.", "2+2?", "4", "Times ten?"])
        #expect(events.map(\.typeName) == ["header", "message", "message", "message", "message", "model_turn", "message", "model_turn", "final"])
    }
}
