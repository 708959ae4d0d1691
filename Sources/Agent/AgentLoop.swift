import AgentCore

/// What the loop tells its observer (a terminal UI) as the run goes: streamed model text, and every
/// event as it is recorded. `modelStarted` comes before each model call (a progress line for long prompts).
public enum AgentUpdate: Sendable {
    case modelStarted(step: Int)
    /// Prompt tokens processed so far for this step's model call (from models that report it).
    case promptProgress(step: Int, processed: Int, total: Int)
    case text(String)
    case event(TranscriptEvent)
}

/// The agent loop. Each step (see `step`): give the whole conversation to the model (an incremental model
/// reuses its cache for the prefix), record the turn, then answer every tool call with a result paired by
/// call id. A turn with no tool call is the final answer. Between steps the run's `LoopPolicy` decides the
/// next turn's tool choice and what the model is shown; budgets (steps, tokens, wall time) and a run of
/// consecutive failed steps end the run with a stated reason. The loop knows only AgentCore protocols.
public struct AgentLoop: Sendable {
    public var model: any LanguageModel
    public var tools: [any Tool]
    public var sink: any TranscriptSink
    public var observer: @Sendable (AgentUpdate) -> Void

    public init(model: any LanguageModel, tools: [any Tool], sink: any TranscriptSink,
                observer: @escaping @Sendable (AgentUpdate) -> Void = { _ in }) {
        self.model = model
        self.tools = tools
        self.sink = sink
        self.observer = observer
    }

    /// Run `spec` (after parameter substitution) to the end. Never throws: every ending is a `RunOutcome`,
    /// also recorded as the transcript's `final` event.
    public func run(_ spec: TaskSpec, header: TranscriptHeader) async -> RunOutcome {
        let setup = RunSetup(sampling: spec.sampling, policy: LoopPolicy(spec), budget: RunBudget(spec.limits),
                             dispatcher: ToolDispatcher(tools: tools))
        var counts = RunCounts()
        var history = CallHistory()
        var textOnly = false
        var excluded: [ToolCall] = []
        // Collecting, the declared calls already acknowledged, as written: a model answered for a call
        // tends to write it again, token for token, where a request lists further items; a turn that writes
        // only such calls is decoded again without them (`SamplingOptions.acknowledgedCalls`), so the model
        // writes its next best call (collected only when `CollectedCalls` takes it) or ends.
        var acknowledged: [ToolCall] = []
        var failedSteps = 0
        var collected = CollectedCalls()
        var conversation: [Message] = []
        if let system = spec.system { conversation.append(.system(system)) }
        conversation += spec.history
        conversation.append(.user(spec.prompt))
        var followUps = spec.followUps[...]

        func finish(_ ending: RunEnding) -> RunOutcome {
            var ending = ending
            // Declared calls collected before another ending (a text reply, a budget spent, failed steps) are
            // still the run's outcome: the caller runs them. A model or transcript error stays a failure,
            // with the calls attached.
            if !collected.isEmpty && ending.calls.isEmpty {
                if ending.isError {
                    ending.calls = collected.calls
                } else {
                    ending = .collectedCalls(collected.calls, reason: ending.reason, answer: ending.answer)
                }
            }
            let outcome = RunOutcome(status: ending.status, reason: ending.reason, answer: ending.answer, steps: counts.steps,
                                     tokens: counts.tokens, wallSeconds: setup.budget.elapsed, calls: ending.calls)
            try? record(.final(outcome))
            return outcome
        }

        do {
            try record(.header(header))
            for message in conversation { try record(.message(message)) }
            while true {
                if let spent = setup.budget.ending(before: counts) { return finish(spent) }
                let toolChoice = setup.policy.toolChoice(step: counts.steps + 1, textOnly: textOnly)
                let stepResult = try await step(conversation, toolChoice: toolChoice, excluding: excluded, acknowledged: acknowledged,
                                                counts: &counts,
                                                history: history, collected: &collected, setup: setup)
                switch stepResult {
                case .ended(let ending):
                    return finish(ending)
                case .replied(let reply):
                    // The next user turn of `prompts`, in the same conversation (the model reuses its cache).
                    // Collected declared calls end the run here (the caller runs them before anything follows).
                    guard collected.isEmpty, let next = followUps.popFirst() else { return finish(.answer(reply)) }
                    let user = Message.user(next)
                    conversation += [reply.assistantMessage, user]
                    try record(.message(user))
                    textOnly = false
                    excluded = []
                case .answered(let answered):
                    if setup.policy.excludeFailedRepeats {
                        excluded = LoopPolicy.excluded(after: answered, before: excluded, history: history)
                    }
                    history.remember(answered.answers, written: answered.written)
                    for call in answered.acknowledgedCalls where !acknowledged.contains(where: call.repeats) {
                        acknowledged.append(call)
                    }
                    let next = setup.policy.followUp(after: answered.answers)
                    if !next.rewind { conversation += answered.messages }
                    textOnly = next.textOnly
                    if textOnly {
                        let nudge = Message.user(LoopPolicy.answerNowText)
                        try record(.message(nudge))
                        conversation.append(nudge)
                    }
                    failedSteps = next.failed ? failedSteps + 1 : 0
                    if let failed = setup.policy.ending(failedSteps: failedSteps, lastError: answered.firstRefusal) { return finish(failed) }
                }
            }
        } catch {
            return finish(.error("transcript: \(error)"))
        }
    }

    /// The tool message the model sees for a recorded result: its text, plus the hint recorded with it.
    public static func message(for result: ToolResult) -> Message {
        var message = Message.tool(result)
        if let hint = result.metadata["tool_result_hint"] { message.content += "\n\n" + hint }
        return message
    }

    /// What the model is told (as the user) when its next turn must be text.
    public static let answerNowText = LoopPolicy.answerNowText

    /// Record `event` in the transcript and show it to the observer.
    func record(_ event: TranscriptEvent) throws {
        try sink.record(event)
        observer(.event(event))
    }
}
