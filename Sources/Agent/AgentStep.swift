import AgentCore

/// What one step came to.
enum StepResult {
    /// The model replied in text, without a tool call: its answer.
    case replied(ModelTurn)
    /// The model called tools and every call was answered.
    case answered(AnsweredStep)
    /// The run ends in this step: an empty reply, a budget spent, a model error.
    case ended(RunEnding)
}

/// A turn with tool calls, every call answered and recorded.
struct AnsweredStep {
    /// What the conversation gains: the turn's assistant message, then the answer to each call.
    var messages: [Message]
    /// How each call was answered, in the order of `messages` (malformed calls first).
    var answers: [CallAnswer]

    /// The calls of the turn as the model wrote them (before grounding).
    var written: [ToolCall] = []

    /// The error of the first call that did not run ("" when all ran).
    var firstRefusal: String { answers.first { $0.verdict.isRefusal }?.result.error ?? "" }

    /// The calls that failed (ran and failed, or were refused as a repeat of a failed call), as the model
    /// wrote them.
    var failedCalls: [ToolCall] {
        let failed = Set(answers.compactMap { answer -> String? in
            switch answer.verdict {
            case .ran where !answer.result.ok, .repeated(earlierFailed: true): return answer.call?.id
            default: return nil
            }
        })
        return written.filter { failed.contains($0.id) }
    }

    /// The declared calls acknowledged while collecting (collected or not), as the model wrote them.
    var acknowledgedCalls: [ToolCall] {
        let acknowledged = Set(answers.compactMap { $0.verdict == .acknowledged ? $0.call?.id : nil })
        return written.filter { acknowledged.contains($0.id) }
    }
}

/// How the step answered one call of its turn.
struct CallAnswer: Sendable, Hashable {
    enum Verdict: Sendable, Hashable {
        /// Malformed, unknown tool or invalid arguments: answered with an error, no tool ran.
        case rejected
        /// Refused by the repeated-call guard; `earlierFailed`: the call it repeats had failed.
        case repeated(earlierFailed: Bool)
        /// The tool ran (its result may still be a failure).
        case ran
        /// A declared call the loop answered itself while collecting (`declared_calls: collect`): no tool ran.
        case acknowledged

        /// The call was refused (rejected, or a refused repeat): neither run nor acknowledged.
        var isRefusal: Bool { self != .ran && self != .acknowledged }
    }

    /// The call; nil for a malformed one (nothing parsed).
    var call: ToolCall?
    var verdict: Verdict
    var result: ToolResult
}

/// What a run was set up with, the same for all its steps.
struct RunSetup: Sendable {
    var sampling: SamplingOptions
    var policy: LoopPolicy
    var budget: RunBudget
    var dispatcher: ToolDispatcher
}

extension AgentLoop {
    /// One step: the model's turn on `conversation` under `toolChoice`, recorded; then every call of the
    /// turn answered, in order, each call and its result recorded. The step and its tokens are added to
    /// `counts`. Throws only when the transcript cannot be written.
    /// `collected`: the declared calls collected so far (`declared_calls: collect`), which the step adds to.
    func step(_ conversation: [Message], toolChoice: ToolChoice, excluding excluded: [ToolCall] = [],
              acknowledged: [ToolCall] = [], counts: inout RunCounts,
              history: CallHistory, collected: inout CollectedCalls, setup: RunSetup) async throws -> StepResult {
        var sampling = setup.sampling
        sampling.maxTokens = min(sampling.maxTokens, setup.budget.tokensLeft(counts))
        sampling.excludedCalls = excluded
        sampling.acknowledgedCalls = acknowledged
        counts.steps += 1
        let step = counts.steps
        observer(.modelStarted(step: step))
        let turn: ModelTurn
        do {
            turn = try await respond(conversation, setup.dispatcher.declarations, toolChoice, sampling, step: step,
                                     deadline: setup.budget.secondsLeft)
        } catch is WallTimeout {
            try? record(.error(step: step, message: "model: stopped by the wall-time limit"))
            return .ended(setup.budget.wallTime(" while the model was generating"))
        } catch {
            try? record(.error(step: step, message: "model: \(error)"))
            return .ended(.error("model error: \(error)"))
        }
        counts.tokens += turn.generatedTokenCount
        try record(.modelTurn(step: step, turn: turn))

        if turn.toolCalls.isEmpty && turn.malformedCalls.isEmpty {
            if turn.stop == .length, let spent = setup.budget.tokensRanOutInReply(counts) { return .ended(spent) }
            // A reply of reasoning only is answered by its reasoning (small models without thinking turns of
            // their own write their whole answer inside the block and end the reply right after it).
            if turn.answerText.allSatisfy(\.isWhitespace) && (turn.reasoning ?? "").allSatisfy(\.isWhitespace) {
                return .ended(RunEnding(status: .failed, reason: "the model ended its turn with neither text nor a tool call"))
            }
            return .replied(turn)
        }
        if setup.budget.secondsLeft <= 0 { return .ended(setup.budget.wallTime(" before the tool calls ran")) }

        // Malformed calls first, then the parsed ones, each answered (and recorded) before the next.
        var answered = AnsweredStep(messages: [turn.assistantMessage], answers: [], written: turn.toolCalls)
        for bad in turn.malformedCalls {
            try record(.malformedCall(step: step, call: bad))
            let result = ToolResult.failure(callID: bad.id, name: bad.name ?? "", error: "malformed tool call: \(bad.reason)")
            try add(CallAnswer(call: nil, verdict: .rejected, result: result), step: step, policy: setup.policy, to: &answered)
        }
        // Calls of declared tools are recorded, not run: once the others ran, the run stops for the caller to
        // execute them; or, collecting, each is acknowledged and the run goes on while the model makes new ones.
        var declared: [ToolCall] = []
        var newlyCollected = 0, acknowledged = 0
        let collecting = setup.policy.declaredCalls == .collect
        let evidence = setup.policy.groundOptionalArguments || collecting ? ArgumentGrounding(conversation: conversation) : nil
        let grounding = setup.policy.groundOptionalArguments ? evidence : nil
        for written in turn.toolCalls {
            var call = written
            if let grounding, let parameters = setup.dispatcher.parameters(of: call.name) {
                call = grounding.ground(call, parameters: parameters)
            }
            try record(.toolCall(step: step, call: call))
            if case .declared = setup.dispatcher.route(call) {
                guard collecting else {
                    declared.append(call)
                    continue
                }
                let refusal = collected.add(call, parameters: setup.dispatcher.parameters(of: call.name), grounding: evidence)
                if refusal == nil { newlyCollected += 1 }
                try add(LoopPolicy.acknowledgement(of: call, refusal: refusal), step: step, policy: setup.policy, to: &answered)
                acknowledged += 1
                continue
            }
            let answer = await self.answer(call, written: written, history: history, setup: setup)
            try add(answer, step: step, policy: setup.policy, to: &answered)
        }
        if !declared.isEmpty { return .ended(.declaredCalls(declared, turn: turn)) }
        // Collecting: a turn that collected none of its declared calls (and ran nothing else) ends the run.
        if acknowledged > 0, newlyCollected == 0, answered.answers.count == acknowledged {
            return .ended(.collectedCalls(collected.calls, reason: "the model made no new declared call", answer: turn.content))
        }
        return .answered(answered)
    }

    /// Answer one parsed call: refused as a repeat, rejected by the dispatcher, or run. `written`: the call as
    /// the model wrote it, before grounding (a repeat is the same call written again, or the same call run again).
    func answer(_ call: ToolCall, written: ToolCall, history: CallHistory, setup: RunSetup) async -> CallAnswer {
        if let earlier = setup.policy.refusedRepeat(call, history: history) ?? setup.policy.refusedRepeat(written, history: history) {
            return CallAnswer(call: call, verdict: .repeated(earlierFailed: earlier.failed),
                              result: LoopPolicy.refusal(of: call, repeating: earlier))
        }
        let (result, ran) = await setup.dispatcher.dispatch(call)
        return CallAnswer(call: call, verdict: ran ? .ran : .rejected, result: result)
    }

    /// Record `answer`'s result and add it to the step. The policy's hint, when the result gets one, is
    /// appended after a blank line to what the model sees, and recorded in the result's metadata
    /// (`tool_result_hint`), so the record shows exactly what the model was given.
    func add(_ answer: CallAnswer, step: Int, policy: LoopPolicy, to answered: inout AnsweredStep) throws {
        var answer = answer
        if let hint = policy.hint(for: answer.verdict) { answer.result.metadata["tool_result_hint"] = hint }
        try record(.toolResult(step: step, result: answer.result, dispatched: answer.verdict == .ran))
        answered.messages.append(Self.message(for: answer.result))
        answered.answers.append(answer)
    }

    /// The model's next turn, in a child task that carries the prompt-progress reporter and is cancelled
    /// (the model stops at its next token) when `deadline` seconds pass.
    func respond(_ messages: [Message], _ tools: [ToolDeclaration], _ toolChoice: ToolChoice, _ sampling: SamplingOptions,
                 step: Int, deadline: Double) async throws -> ModelTurn {
        let model = self.model, observer = self.observer
        return try await withThrowingTaskGroup(of: ModelTurn.self) { group in
            group.addTask {
                try await PromptProgress.withReporter({ observer(.promptProgress(step: step, processed: $0, total: $1)) }) {
                    try await model.respond(to: messages, tools: tools, toolChoice: toolChoice, sampling: sampling) { observer(.text($0)) }
                }
            }
            if deadline.isFinite {
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(max(0, deadline) * 1e9))
                    throw WallTimeout()
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw WallTimeout() }
            return first
        }
    }

    struct WallTimeout: Error {}
}
