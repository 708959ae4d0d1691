@testable import Agent
import AgentCore
import AgentTesting
import Foundation
import SpecParser
import Testing
@testable import TranscriptIO

/// Reasoning turns outside the model: the block's shape, the spec key and its errors, what transcripts
/// keep, and what the loop makes of a reply with reasoning.
@Suite struct ReasoningTests {
    @Test func splitsALeadingBlock() {
        #expect(Reasoning.split("<think>\nfirst a, then b\n</think>\n\nThe answer is 4.")! == ("first a, then b", "The answer is 4."))
        #expect(Reasoning.split("  \n<think>x</think>y")! == ("x", "y"))
        // Unclosed: all reasoning.
        #expect(Reasoning.split("<think>\nstill going")! == ("still going", ""))
        #expect(Reasoning.split("The answer <think> is not a block") == nil)
        #expect(Reasoning.block("r") == "<think>\nr\n</think>")
        #expect(Reasoning.contentWithBlock("r", "") == "<think>\nr\n</think>")
        #expect(Reasoning.contentWithBlock("r", "4") == "<think>\nr\n</think>\n4")
    }

    @Test func instructionGoesAtTheEndOfTheSystemPrompt() {
        let with = Reasoning.instructed([.system("Be brief."), .user("q")], defaultSystem: "D")
        #expect(with.count == 2 && with[0].content == "Be brief.\n\n" + Reasoning.instruction)
        let without = Reasoning.instructed([.user("q")], defaultSystem: "D")
        #expect(without.map(\.role) == [.system, .user] && without[0].content == "D\n\n" + Reasoning.instruction)
        #expect(Reasoning.instructed([.user("q")], defaultSystem: nil)[0].content == Reasoning.instruction)
    }

    func parse(_ yaml: String) throws -> TaskSpec {
        try SpecParser.parse(yaml: yaml, file: "task.yaml", baseDirectory: "/")
    }

    @Test func specKey() throws {
        let plain = try parse("name: t\nprompt: hi\n")
        #expect(plain.sampling.reasoning == .off && plain.sampling.maxTokens == 512)
        // On without max_tokens: the reply keeps its default room after the block.
        let on = try parse("name: t\nprompt: hi\nreasoning: think\n")
        #expect(on.sampling.reasoning == Reasoning(mode: .think, budget: Reasoning.defaultBudget))
        #expect(on.sampling.maxTokens == 512 + Reasoning.defaultBudget)
        let given = try parse("name: t\nprompt: hi\nsampling: {max_tokens: 100}\nreasoning: {mode: think, budget: 64}\n")
        #expect(given.sampling.reasoning == Reasoning(mode: .think, budget: 64) && given.sampling.maxTokens == 100)
        let off = try parse("name: t\nprompt: hi\nreasoning: {mode: off}\n")
        #expect(off.sampling.reasoning.mode == .off && off.sampling.maxTokens == 512)
    }

    @Test func specErrorsNameTheirPlace() {
        func message(_ yaml: String) -> String {
            do { _ = try parse(yaml); return "parsed" } catch { return "\(error)" }
        }
        #expect(message("name: t\nprompt: hi\nreasoning: {mode: ponder}\n").contains("task.yaml:3:19: reasoning.mode: expected off or think"))
        #expect(message("name: t\nprompt: hi\nreasoning: {mode: think, budget: 0}\n").contains("task.yaml:3:"))
        #expect(message("name: t\nprompt: hi\nreasoning: {mode: think, depth: 3}\n").contains("unknown key 'depth' in reasoning"))
        #expect(message("name: t\nprompt: hi\nreasoning: {budget: 3}\n").contains("missing required key 'mode' in reasoning"))
    }

    @Test func commandLineOverride() {
        var s = SamplingOptions()
        s.overrideReasoning(mode: .think, budget: nil)
        #expect(s.reasoning.isOn && s.maxTokens == 512 + Reasoning.defaultBudget)
        s.overrideReasoning(mode: nil, budget: 100)
        #expect(s.reasoning.budget == 100 && s.maxTokens == 612)
        s.overrideReasoning(mode: .off, budget: nil)
        #expect(!s.reasoning.isOn && s.maxTokens == 512)
        var given = SamplingOptions(maxTokens: 300)
        given.overrideReasoning(mode: .think, budget: 64)
        #expect(given.maxTokens == 300)
    }

    @Test func transcriptsKeepTheReasoning() throws {
        var sampling = SamplingOptions(maxTokens: 100)
        #expect(SpecJSON.sampling(sampling)["reasoning"] == nil)
        sampling.reasoning = Reasoning(mode: .think, budget: 64)
        #expect(try SpecJSON.decodeSampling(JSONFields(SpecJSON.sampling(sampling), "sampling")) == sampling)

        var turn = ModelTurn(text: "<think>\nr\n</think>\n4", tokens: [1, 2, 3], content: "4", stop: .eos)
        turn.reasoning = "r"
        turn.reasoningTokens = 2
        let payload = EventCodec.payload(.modelTurn(step: 1, turn: turn))
        guard case .modelTurn(_, let back) = try EventCodec.event(type: "model_turn", payload: payload) else {
            Issue.record("not a model turn")
            return
        }
        #expect(back.reasoning == "r" && back.reasoningTokens == 2 && back.content == "4" && !back.reasoningLooped)
        #expect(payload["reasoning_looped"] == nil)
        turn.reasoningLooped = true
        let looped = EventCodec.payload(.modelTurn(step: 1, turn: turn))
        guard case .modelTurn(_, let loopedBack) = try EventCodec.event(type: "model_turn", payload: looped) else {
            Issue.record("not a model turn")
            return
        }
        #expect(looped["reasoning_looped"] == .bool(true) && loopedBack.reasoningLooped)
        let plain = EventCodec.payload(.modelTurn(step: 1, turn: ModelTurn(text: "4", stop: .eos)))
        #expect(plain["reasoning"] == nil)
    }

    func thinking(_ reasoning: String, _ answer: String) -> ScriptedModel.Step {
        let text = Reasoning.block(reasoning) + "\n" + answer
        var turn = ModelTurn(text: text, tokens: Array(repeating: 1, count: text.count), content: answer, stop: .eos)
        turn.reasoning = reasoning
        return .turn(turn)
    }

    @Test func theAnswerIsTheTextAfterTheBlock() async throws {
        let model = ScriptedModel([thinking("2 + 3 is 5", "5"), thinking("then 6", "")])
        let spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "What is 2+3?")
        let header = TranscriptHeader(runtimeVersion: "test", spec: ["name": "t"], model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: [])
        let outcome = await AgentLoop(model: model, tools: [], sink: MemorySink()).run(spec, header: header)
        #expect(outcome.status == .final && outcome.answer == "5")

        // Nothing after the block: the reasoning is the answer, and the reason says so.
        var two = spec
        two.followUps = ["And 3+3?"]
        let again = ScriptedModel([thinking("2 + 3 is 5", "5"), thinking("3 + 3 is 6", "")])
        let second = await AgentLoop(model: again, tools: [], sink: MemorySink()).run(two, header: header)
        #expect(second.status == .final && second.answer == "3 + 3 is 6" && second.reason.contains("inside its thinking block"))
        // The second turn was shown the first with its reasoning apart from its content.
        let shown = try #require(again.conversations.last)
        let first = try #require(shown.first { $0.role == .assistant })
        #expect(first.reasoning == "2 + 3 is 5" && first.content == "5")
    }

    /// Markup after the block (a template's closing tag, an empty fence) is no answer: the reasoning is. Text
    /// with a word or a number outside the tags is the answer.
    @Test func markupAfterTheBlockIsNoAnswer() async throws {
        let spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "What is 2+3?")
        let header = TranscriptHeader(runtimeVersion: "test", spec: ["name": "t"], model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: [])
        for (after, answer) in [("</tools>", "2 + 3 is 5"), ("```\n```", "2 + 3 is 5"), ("<answer></answer>", "2 + 3 is 5"),
                                ("<answer>5</answer>", "<answer>5</answer>"), ("It is five.", "It is five.")] {
            let model = ScriptedModel([thinking("2 + 3 is 5", after)])
            let outcome = await AgentLoop(model: model, tools: [], sink: MemorySink()).run(spec, header: header)
            #expect(outcome.status == .final && outcome.answer == answer, "after the block: \(after)")
            #expect(outcome.reason.contains("only markup followed it") == (answer != after), "after the block: \(after)")
        }
        #expect(RunEnding.isMarkupOnly("") && RunEnding.isMarkupOnly(" </tools>\n") && !RunEnding.isMarkupOnly("<b>x</b>"))
    }
}
