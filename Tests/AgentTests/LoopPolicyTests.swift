@testable import Agent
import AgentCore
import Testing

/// Each rule of the loop's policy on its own, from what a step reported.
@Suite struct LoopPolicyTests {
    struct ChoiceCase: Sendable, CustomTestStringConvertible {
        var first: ToolChoice, step: Int, textOnly: Bool, expected: ToolChoice
        var testDescription: String { "first \(first), step \(step), textOnly \(textOnly) -> \(expected)" }
    }

    @Test(arguments: [
        ChoiceCase(first: .auto, step: 1, textOnly: false, expected: .auto),
        ChoiceCase(first: .required, step: 1, textOnly: false, expected: .required),
        ChoiceCase(first: .required, step: 2, textOnly: false, expected: .auto),
        ChoiceCase(first: .required, step: 2, textOnly: true, expected: .none),
        ChoiceCase(first: .auto, step: 7, textOnly: true, expected: .none),
        ChoiceCase(first: .auto, step: 7, textOnly: false, expected: .auto),
    ])
    func toolChoice(_ c: ChoiceCase) {
        #expect(LoopPolicy(firstToolChoice: c.first).toolChoice(step: c.step, textOnly: c.textOnly) == c.expected)
    }

    static let sum = ToolCall(id: "c1", name: "add", arguments: ["a": 2, "b": 3])

    struct RepeatCase: Sendable, CustomTestStringConvertible {
        var guardOn: Bool, call: ToolCall, refused: Bool
        var testDescription: String { "guard \(guardOn), \(call.name)(\(call.arguments.serialized())) refused: \(refused)" }
    }

    @Test(arguments: [
        RepeatCase(guardOn: true, call: ToolCall(id: "c9", name: "add", arguments: ["a": 2, "b": 3]), refused: true),
        RepeatCase(guardOn: false, call: ToolCall(id: "c9", name: "add", arguments: ["a": 2, "b": 3]), refused: false),
        RepeatCase(guardOn: true, call: ToolCall(id: "c9", name: "add", arguments: ["a": 2, "b": 4]), refused: false),
        RepeatCase(guardOn: true, call: ToolCall(id: "c9", name: "echo", arguments: ["a": 2, "b": 3]), refused: false),
    ])
    func repeatedCallIsRefusedOnlyWithTheGuardOn(_ c: RepeatCase) {
        var history = CallHistory()
        history.remember([CallAnswer(call: Self.sum, verdict: .ran, result: ToolResult(callID: "c1", name: "add", ok: true, output: "5"))])
        let earlier = LoopPolicy(repeatedCalls: c.guardOn ? .anyStep : .never).refusedRepeat(c.call, history: history)
        #expect((earlier != nil) == c.refused)
        if c.refused { #expect(earlier == CallHistory.Earlier(text: "5", failed: false, step: 1)) }
    }

    /// The default rule refuses a repeat only of what ran in the last step that ran anything: another call
    /// that ran in between (it may have changed what the repeated call would see) lets it run again.
    @Test func previousStepRuleRefusesOnlyARepeatOfTheLastCallsThatRan() {
        let policy = LoopPolicy(repeatedCalls: .previousStep)
        let five = ToolResult(callID: "c1", name: "add", ok: true, output: "5")
        var history = CallHistory()
        history.remember([CallAnswer(call: Self.sum, verdict: .ran, result: five)])
        #expect(policy.refusedRepeat(Self.sum, history: history) == CallHistory.Earlier(text: "5", failed: false, step: 1))
        // A step that ran nothing (its repeat refused) does not separate the repeat from its original.
        history.remember([CallAnswer(call: Self.sum, verdict: .repeated(earlierFailed: false), result: .failure(callID: "c2", name: "add", error: "repeated"))])
        #expect(policy.refusedRepeat(Self.sum, history: history) != nil)
        let echo = ToolCall(id: "c3", name: "echo", arguments: ["text": "hi"])
        history.remember([CallAnswer(call: echo, verdict: .ran, result: ToolResult(callID: "c3", name: "echo", ok: true, output: "hi"))])
        #expect(policy.refusedRepeat(Self.sum, history: history) == nil)
        #expect(policy.refusedRepeat(echo, history: history) != nil)
        #expect(LoopPolicy(repeatedCalls: .anyStep).refusedRepeat(Self.sum, history: history) != nil)
        #expect(LoopPolicy(repeatedCalls: .never).refusedRepeat(echo, history: history) == nil)
    }

    @Test func historyRemembersOnlyCallsThatRanTheLastOneWinning() {
        var history = CallHistory()
        let failed = ToolResult.failure(callID: "c1", name: "add", error: "boom", output: "half")
        history.remember([
            CallAnswer(call: Self.sum, verdict: .rejected, result: .failure(callID: "c1", name: "add", error: "invalid")),
            CallAnswer(call: ToolCall(id: "c2", name: "echo", arguments: [:]), verdict: .repeated(earlierFailed: false),
                       result: .failure(callID: "c2", name: "echo", error: "repeated")),
            CallAnswer(call: nil, verdict: .rejected, result: .failure(callID: "c3", name: "", error: "malformed")),
        ])
        #expect(history == CallHistory())
        history.remember([
            CallAnswer(call: Self.sum, verdict: .ran, result: ToolResult(callID: "c1", name: "add", ok: true, output: "5")),
            CallAnswer(call: Self.sum, verdict: .ran, result: failed),
        ])
        #expect(history.earlier(ToolCall(id: "other", name: "add", arguments: ["a": 2, "b": 3])) == CallHistory.Earlier(text: "error: boom\nhalf", failed: true, step: 1))
    }

    @Test func refusalCarriesTheEarlierResult() {
        let good = LoopPolicy.refusal(of: Self.sum, repeating: CallHistory.Earlier(text: "5", failed: false))
        #expect(!good.ok && good.callID == "c1" && good.name == "add" && good.output == "5")
        #expect(good.error == "repeated call: add was already called with these same arguments in an earlier step, so it was not run again. Its result was the text below. Answer the user now from the results you have, in plain text")
        #expect(good.metadata == ["repeated_call": "not run: identical to a call of the previous step"])
        let bad = LoopPolicy.refusal(of: Self.sum, repeating: CallHistory.Earlier(text: "error: boom", failed: true))
        #expect(bad.output == "error: boom")
        #expect(bad.error?.hasSuffix("It failed with the error below and would fail again: change the arguments or use another tool") == true)
    }

    struct HintCase: Sendable, CustomTestStringConvertible {
        var hint: String?
        var verdict: CallAnswer.Verdict
        var expected: String?
        var testDescription: String { "hint \(hint ?? "nil"), \(verdict) -> \(expected ?? "nil")" }
    }

    @Test(arguments: [
        HintCase(hint: "Answer.", verdict: .ran, expected: "Answer."),
        HintCase(hint: "Answer.", verdict: .repeated(earlierFailed: true), expected: "Answer."),
        HintCase(hint: "Answer.", verdict: .rejected, expected: nil),
        HintCase(hint: "", verdict: .ran, expected: nil),
        HintCase(hint: nil, verdict: .ran, expected: nil),
    ])
    func hintGoesToResultsOfCallsThatRanOrRepeated(_ c: HintCase) {
        #expect(LoopPolicy(toolResultHint: c.hint).hint(for: c.verdict) == c.expected)
    }

    struct FollowUpCase: Sendable, CustomTestStringConvertible {
        var name: String
        var answerAfter: Set<String> = []
        var answers: [(verdict: CallAnswer.Verdict, tool: String, ok: Bool)]
        var expected: FollowUp
        var testDescription: String { name }
    }

    static let followUps: [FollowUpCase] = [
        FollowUpCase(name: "a call that ran", answers: [(.ran, "add", true)],
                     expected: FollowUp(textOnly: false, rewind: false, failed: false)),
        FollowUpCase(name: "a tool that failed is not a failed step", answers: [(.ran, "add", false)],
                     expected: FollowUp(textOnly: false, rewind: false, failed: false)),
        FollowUpCase(name: "answer_after tool that worked", answerAfter: ["add"], answers: [(.ran, "add", true)],
                     expected: FollowUp(textOnly: true, rewind: false, failed: false)),
        FollowUpCase(name: "answer_after tool that failed", answerAfter: ["add"], answers: [(.ran, "add", false)],
                     expected: FollowUp(textOnly: false, rewind: false, failed: false)),
        FollowUpCase(name: "answer_after tool that was rejected", answerAfter: ["add"], answers: [(.rejected, "add", false)],
                     expected: FollowUp(textOnly: false, rewind: false, failed: true)),
        FollowUpCase(name: "only repeats of calls that worked", answers: [(.repeated(earlierFailed: false), "add", false)],
                     expected: FollowUp(textOnly: true, rewind: true, failed: true)),
        FollowUpCase(name: "a repeat of a failed call", answers: [(.repeated(earlierFailed: true), "add", false)],
                     expected: FollowUp(textOnly: false, rewind: false, failed: true)),
        FollowUpCase(name: "a good repeat beside a call that ran",
                     answers: [(.repeated(earlierFailed: false), "add", false), (.ran, "echo", true)],
                     expected: FollowUp(textOnly: true, rewind: false, failed: false)),
        FollowUpCase(name: "a good repeat beside a failed repeat",
                     answers: [(.repeated(earlierFailed: false), "add", false), (.repeated(earlierFailed: true), "echo", false)],
                     expected: FollowUp(textOnly: true, rewind: false, failed: true)),
        FollowUpCase(name: "a malformed call beside a good repeat",
                     answers: [(.rejected, "", false), (.repeated(earlierFailed: false), "add", false)],
                     expected: FollowUp(textOnly: true, rewind: false, failed: true)),
        FollowUpCase(name: "only rejected calls", answers: [(.rejected, "add", false), (.rejected, "nope", false)],
                     expected: FollowUp(textOnly: false, rewind: false, failed: true)),
    ]

    @Test(arguments: followUps)
    func followUp(_ c: FollowUpCase) {
        let answers = c.answers.enumerated().map { i, a in
            CallAnswer(call: ToolCall(id: "c\(i)", name: a.tool, arguments: [:]), verdict: a.verdict,
                       result: ToolResult(callID: "c\(i)", name: a.tool, ok: a.ok, output: ""))
        }
        #expect(LoopPolicy(answerAfter: c.answerAfter).followUp(after: answers) == c.expected)
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        var max: Int, failedSteps: Int, ends: Bool
        var testDescription: String { "max \(max), \(failedSteps) failed steps: ends \(ends)" }
    }

    @Test(arguments: [
        FailureCase(max: 3, failedSteps: 0, ends: false),
        FailureCase(max: 3, failedSteps: 2, ends: false),
        FailureCase(max: 3, failedSteps: 3, ends: true),
        FailureCase(max: 1, failedSteps: 1, ends: true),
    ])
    func consecutiveFailedStepsEndTheRun(_ c: FailureCase) {
        let ending = LoopPolicy(maxFailedSteps: c.max).ending(failedSteps: c.failedSteps, lastError: "unknown tool 'x'")
        #expect(ending == (c.ends ? RunEnding(status: .failed, reason: "\(c.failedSteps) consecutive steps with only invalid tool calls (last: unknown tool 'x')") : nil))
    }

    @Test func decidedFromTheSpec() {
        var spec = TaskSpec(name: "t", model: .local("m"), prompt: "p", limits: Limits(maxConsecutiveToolErrors: 5))
        #expect(LoopPolicy(spec) == LoopPolicy(maxFailedSteps: 5))
        spec.firstToolChoice = .required
        spec.repeatedCalls = .anyStep
        spec.answerAfter = ["add", "add", "echo"]
        spec.toolResultHint = "Answer."
        #expect(LoopPolicy(spec) == LoopPolicy(firstToolChoice: .required, repeatedCalls: .anyStep, answerAfter: ["add", "echo"],
                                               toolResultHint: "Answer.", maxFailedSteps: 5))
    }
}
