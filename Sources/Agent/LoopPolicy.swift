import AgentCore

/// The rules a run follows from one step to the next, decided once from the spec: the tool choice of each
/// turn (`first_tool_choice`; `none` after a refused repeat or an `answer_after` tool), the repeated-call
/// guard (`reject_repeated_calls`), the rewind and "answer now" nudge after a turn that only repeated calls,
/// the `tool_result_hint`, whether ungrounded optional arguments are dropped (`ground_optional_arguments`),
/// and how many failed steps in a row end the run. A plain value: each rule is a
/// function of what the steps reported, so each can be checked on its own.
struct LoopPolicy: Sendable, Hashable {
    var firstToolChoice: ToolChoice = .auto
    var repeatedCalls = RepeatedCallRule.previousStep
    var answerAfter: Set<String> = []
    var toolResultHint: String? = nil
    var maxFailedSteps = Limits().maxConsecutiveToolErrors
    /// Optional arguments not taken from the conversation are dropped before a call runs (`ArgumentGrounding`).
    var groundOptionalArguments = true
    /// The next turn may not repeat a call that failed since the last call that worked
    /// (`exclude_failed_repeats`; see `excluded(after:before:)` and `SamplingOptions.excludedCalls`).
    var excludeFailedRepeats = true
    /// Whether a declared call ends the run or is collected while the model goes on (`declared_calls`).
    var declaredCalls = DeclaredCallsMode.end

    /// What the model is told (as the user) when its next turn must be text: the weak default model
    /// otherwise starts a call it may not make, and writes markup.
    static let answerNowText = "You have the tool results you need, above. Answer my question now, in plain text."

    /// Tool choice of the turn of step `step` (counted from 1). `textOnly`: the previous step's `FollowUp`.
    func toolChoice(step: Int, textOnly: Bool) -> ToolChoice {
        step == 1 ? firstToolChoice : (textOnly ? .none : .auto)
    }

    /// The earlier call `call` repeats (same tool, same arguments, in an earlier step, or in the step just
    /// before under the default rule), when the guard refuses to run it again; nil when it may run.
    func refusedRepeat(_ call: ToolCall, history: CallHistory) -> CallHistory.Earlier? {
        switch repeatedCalls {
        case .never: return nil
        case .anyStep: return history.earlier(call)
        case .previousStep: return history.earlier(call, inStep: history.lastStep)
        }
    }

    /// The answer to a refused repeat: an error that carries the earlier result's text.
    static func refusal(of call: ToolCall, repeating earlier: CallHistory.Earlier) -> ToolResult {
        let start = "repeated call: \(call.name) was already called with these same arguments in an earlier step, so it was not run again. "
        let error = earlier.failed
            ? start + "It failed with the error below and would fail again: change the arguments or use another tool"
            : start + "Its result was the text below. Answer the user now from the results you have, in plain text"
        var result = ToolResult.failure(callID: call.id, name: call.name, error: error, output: earlier.text)
        result.metadata["repeated_call"] = "not run: identical to a call of the previous step"
        return result
    }

    /// The answer to a declared call while collecting (`declared_calls: collect`): the caller has not run it,
    /// so the model is only told it was taken. `refusal`: why it was not collected (nil: collected).
    static func acknowledgement(of call: ToolCall, refusal: CollectedCalls.Refusal?) -> CallAnswer {
        var result = ToolResult(callID: call.id, name: call.name, ok: true, output: DeclaredCallsMode.acknowledgement)
        result.metadata[DeclaredCallsMode.metadataKey] = refusal?.note ?? DeclaredCallsMode.collectedNote
        return CallAnswer(call: call, verdict: .acknowledged, result: result)
    }

    /// The hint appended to what the model sees of a result: results of tools that ran and refused repeats
    /// get it; errors for calls that could not run do not.
    func hint(for verdict: CallAnswer.Verdict) -> String? {
        guard verdict != .rejected, verdict != .acknowledged, let hint = toolResultHint, !hint.isEmpty else { return nil }
        return hint
    }

    /// What follows a step whose calls were answered as `answers` (at least one).
    func followUp(after answers: [CallAnswer]) -> FollowUp {
        // A repeat of a call that worked: the model has what it needs. A repeat of a failed call: it may
        // still try something else.
        let textOnly = answers.contains { answer in
            switch answer.verdict {
            case .repeated(let earlierFailed): return !earlierFailed
            case .ran: return answer.result.ok && answerAfter.contains(answer.call?.name ?? "")
            case .rejected, .acknowledged: return false
            }
        }
        return FollowUp(textOnly: textOnly,
                        rewind: !answers.isEmpty && answers.allSatisfy { $0.verdict == .repeated(earlierFailed: false) },
                        failed: answers.allSatisfy(\.verdict.isRefusal))
    }

    /// The calls the next turn may not repeat (`exclude_failed_repeats`): the calls that failed since the
    /// last step in which a call worked and told the model something new (a call that worked may have
    /// changed what the failed ones would see; one that ran again as before, with the same result, shows
    /// nothing changed), as the model wrote them. `history`: the calls that ran before this step.
    static func excluded(after step: AnsweredStep, before: [ToolCall], history: CallHistory) -> [ToolCall] {
        let worked = step.answers.contains { answer in
            guard answer.verdict == .ran && answer.result.ok else { return false }
            guard let call = answer.call, let earlier = history.earlier(call) else { return true }
            return earlier.failed || earlier.text != answer.result.modelText
        }
        var calls = worked ? [] : before
        for call in step.failedCalls where !calls.contains(where: call.repeats) {
            calls.append(call)
        }
        return calls
    }

    /// The ending after `failedSteps` failed steps in a row, the last of which refused a call with `lastError`.
    func ending(failedSteps: Int, lastError: String) -> RunEnding? {
        failedSteps >= maxFailedSteps
            ? RunEnding(status: .failed, reason: "\(failedSteps) consecutive steps with only invalid tool calls (last: \(lastError))") : nil
    }
}

extension LoopPolicy {
    init(_ spec: TaskSpec) {
        self.init(firstToolChoice: spec.firstToolChoice, repeatedCalls: spec.repeatedCalls,
                  answerAfter: Set(spec.answerAfter), toolResultHint: spec.toolResultHint,
                  maxFailedSteps: spec.limits.maxConsecutiveToolErrors,
                  groundOptionalArguments: spec.groundOptionalArguments, excludeFailedRepeats: spec.excludeFailedRepeats,
                  declaredCalls: spec.declaredCalls)
    }
}

/// What the policy makes of a step that answered tool calls.
struct FollowUp: Sendable, Hashable {
    /// The next turn is text only (tool choice `none`), and the model is told to answer now.
    var textOnly: Bool
    /// Every call repeated one that worked: the turn and its refusals leave the conversation the model sees
    /// (they stay in the transcript), so it is asked again from the real results, not from the refusal.
    var rewind: Bool
    /// No call ran (malformed, unknown tool, invalid arguments, refused repeat): a failed step.
    var failed: Bool
}

/// The calls that ran in earlier steps, with what their results told the model (for the repeated-call guard).
struct CallHistory: Sendable, Hashable {
    struct Earlier: Sendable, Hashable {
        var text: String
        var failed: Bool
        /// The `remember` round (step with calls that ran) it comes from.
        var step: Int = 0
    }

    /// A call's identity for the guard: same tool, same arguments.
    private struct Key: Hashable {
        var name: String
        var arguments: JSONValue
    }

    private var calls: [Key: Earlier] = [:]
    /// The last step whose calls were remembered (counted in `remember` rounds from 1), 0 before any.
    private(set) var lastStep = 0

    func earlier(_ call: ToolCall) -> Earlier? { calls[Key(name: call.name, arguments: call.arguments)] }

    /// The earlier identical call when it was last made in `step`.
    func earlier(_ call: ToolCall, inStep step: Int) -> Earlier? {
        earlier(call).flatMap { $0.step == step ? $0 : nil }
    }

    /// Remember the calls of a step that ran (the last of identical ones wins), each as it ran and, when
    /// grounding changed it, as the model wrote it (`written`, paired by call id): the same call written
    /// again is a repeat even when what grounding keeps of it has changed since. A step whose calls were all
    /// refused or rejected still counts as a step: what it refused was not run, so under the
    /// previous-step rule a call repeated over it is still a repeat of the last thing that ran.
    mutating func remember(_ answers: [CallAnswer], written: [ToolCall] = []) {
        let ran = answers.filter { $0.verdict == .ran }
        guard !ran.isEmpty else { return }
        lastStep += 1
        for answer in ran {
            guard let call = answer.call else { continue }
            let earlier = Earlier(text: answer.result.modelText, failed: !answer.result.ok, step: lastStep)
            calls[Key(name: call.name, arguments: call.arguments)] = earlier
            if let asWritten = written.first(where: { $0.id == call.id }), asWritten.arguments != call.arguments {
                calls[Key(name: asWritten.name, arguments: asWritten.arguments)] = earlier
            }
        }
    }
}
