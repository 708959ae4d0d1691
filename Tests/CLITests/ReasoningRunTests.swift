import AgentCore
import Foundation
import TestSupport
import Testing
import TranscriptIO

/// Reasoning turns end to end through the binary with the default model: a two-turn conversation
/// (`prompts`) with a thinking block in every reply, one closed by the runtime at its budget; the
/// transcript keeps the reasoning apart from the answer, the second turn finds the first turn's block in
/// the cache, and `replay --mode verify` reproduces every token.
@Suite(.serialized) struct ReasoningRunTests {
    @Test(.requiresModel(RealModels.qwen)) func thinkingTurnsAreRecordedAndVerified() throws {
        _ = try RealModels.require(RealModels.qwen)
        let dir = try CLI.tempDirectory()
        try """
            name: think-e2e
            sampling: {temperature: 0, max_tokens: 40}
            prompts:
              - A shop sells pens at 3 dollars and notebooks at 7 dollars. Ana buys 12 pens and 5 notebooks. What does she pay?
              - And if she buys one more notebook?
            reasoning: {mode: think, budget: 24}
            limits: {steps: 4, tokens: 400, wall: 5m}
            """.write(toFile: dir + "/think.yaml", atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "think.yaml", "--json", "--threads", "2", "--transcript", "run.jsonl"], in: dir)
        #expect(run.code == 0, "\(run.out)\(run.err)")

        let transcript = try Transcript.read(path: dir + "/run.jsonl")
        let header = try #require(transcript.header)
        #expect(header.sampling.reasoning == Reasoning(mode: .think, budget: 24))
        // max_tokens was given: it is not raised by the budget.
        #expect(header.sampling.maxTokens == 40)
        let turns: [ModelTurn] = transcript.events.compactMap { if case .modelTurn(_, let t) = $0.event { return t } else { return nil } }
        #expect(turns.count == 2)
        for turn in turns {
            let reasoning = try #require(turn.reasoning)
            #expect(turn.text.hasPrefix("<think>\n" + reasoning + "\n</think>\n"), "\(turn.text)")
            #expect(turn.tokens.count <= 40)
        }
        // A budget of 24 tokens is too short for this model's reasoning: the runtime closed the block.
        #expect(turns.contains { $0.reasoningTokens == 24 }, "\(turns.map(\.reasoningTokens))")
        #expect(turns.allSatisfy { $0.reasoningTokens <= 24 && $0.reasoningTokens > 0 })
        // The second turn finds the first turn's block in the cache (the first turn prefilled its prompt,
        // then the block's closing; a few tokens at the block's end may be re-read).
        #expect(turns[1].reusedTokens >= turns[0].promptTokens + turns[0].reasoningTokens - 3,
                "reused \(turns[1].reusedTokens), first prefill \(turns[0].promptTokens) + block \(turns[0].reasoningTokens)")

        let verify = try CLI.run(["replay", "run.jsonl", "--mode", "verify"], in: dir)
        #expect(verify.code == 0 && verify.out.contains("✓ verified"), "\(verify.out)\(verify.err)")

        // Off on the command line: no block, and max_tokens as given.
        let off = try CLI.run(["run", "think.yaml", "--json", "--threads", "2", "--reasoning", "off", "--transcript", "off.jsonl"], in: dir)
        #expect(off.code == 0, "\(off.err)")
        let plain = try Transcript.read(path: dir + "/off.jsonl")
        #expect(plain.header?.sampling.reasoning == .off)
        #expect(plain.events.allSatisfy { if case .modelTurn(_, let t) = $0.event { return t.reasoning == nil && !t.text.hasPrefix("<think>") } else { return true } })
    }

    @Test func badReasoningIsAClearError() throws {
        let dir = try CLI.tempDirectory()
        try "name: bad\nprompt: hi\nreasoning: {mode: ponder}\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "bad.yaml"], in: dir)
        #expect(run.code != 0)
        #expect(run.err.contains("bad.yaml:3:") && run.err.contains("reasoning.mode: expected off or think"), "\(run.err)")
    }
}
