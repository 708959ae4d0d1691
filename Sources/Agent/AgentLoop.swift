import AgentCore
import Foundation

/// What the loop tells its observer (a terminal UI) as the run goes: streamed model text, and every
/// event as it is recorded. `modelStarted` comes before each model call (a progress line for long prompts).
public enum AgentUpdate: Sendable {
    case modelStarted(step: Int)
    /// Prompt tokens processed so far for this step's model call (from models that report it).
    case promptProgress(step: Int, processed: Int, total: Int)
    case text(String)
    case event(TranscriptEvent)
}

/// The agent loop. Each step: give the whole conversation to the model (an incremental model reuses its
/// cache for the prefix), record the turn, then answer every tool call with a result paired by call id.
/// A turn with no tool call is the final answer. Budgets (steps, tokens, wall time) and a run of
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
        let clock = ContinuousClock()
        let start = clock.now
        var run = RunState()
        func elapsed() -> Double { let d = clock.now - start; return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        func finish(_ status: RunOutcome.Status, _ reason: String, answer: String? = nil) -> RunOutcome {
            let outcome = RunOutcome(status: status, reason: reason, answer: answer, steps: run.steps, tokens: run.tokens,
                                     wallSeconds: elapsed())
            try? emit(.final(outcome))
            return outcome
        }

        let declarations = tools.map(\.declaration)
        var messages: [Message] = []
        if let system = spec.system { messages.append(.system(system)) }
        messages.append(.user(spec.prompt))
        do {
            try emit(.header(header))
            for m in messages { try emit(.message(m)) }
        } catch {
            return finish(.failed, "transcript: \(error)")
        }

        let limits = spec.limits
        while true {
            // Budgets are checked before each model call.
            if run.steps >= limits.steps { return finish(.budget, "step limit reached (\(limits.steps) steps)") }
            if elapsed() >= limits.wallSeconds { return finish(.budget, "wall-time limit reached (\(Self.seconds(limits.wallSeconds)))") }
            let tokensLeft = limits.tokens - run.tokens
            if tokensLeft <= 0 { return finish(.budget, "token limit reached (\(limits.tokens) tokens)") }
            var sampling = spec.sampling
            sampling.maxTokens = min(sampling.maxTokens, tokensLeft)
            sampling.toolChoice = run.steps == 0 ? spec.firstToolChoice : (run.refusedRepeat ? .none : .auto)

            run.steps += 1
            let step = run.steps
            observer(.modelStarted(step: step))
            var turn: ModelTurn
            do {
                turn = try await respond(messages, declarations, sampling, step: step, deadline: limits.wallSeconds - elapsed())
            } catch is WallTimeout {
                try? emit(.error(step: step, message: "model: stopped by the wall-time limit"))
                return finish(.budget, "wall-time limit reached (\(Self.seconds(limits.wallSeconds))) while the model was generating")
            } catch {
                try? emit(.error(step: step, message: "model: \(error)"))
                return finish(.failed, "model error: \(error)")
            }
            turn.toolChoice = sampling.toolChoice
            run.tokens += turn.generatedTokenCount
            let conversationBefore = messages.count
            messages.append(turn.assistantMessage)
            do { try emit(.modelTurn(step: step, turn: turn)) } catch { return finish(.failed, "transcript: \(error)") }
            let hasCalls = !(turn.toolCalls.isEmpty && turn.malformedCalls.isEmpty)
            if hasCalls, elapsed() >= limits.wallSeconds {
                return finish(.budget, "wall-time limit reached (\(Self.seconds(limits.wallSeconds))) before the tool calls ran")
            }

            if !hasCalls {
                if turn.stop == .length && run.tokens >= limits.tokens {
                    return finish(.budget, "token limit reached (\(limits.tokens) tokens) in the middle of a reply")
                }
                if turn.text.allSatisfy(\.isWhitespace) {
                    return finish(.failed, "the model ended its turn with neither text nor a tool call")
                }
                let note = turn.stop == .length ? " (cut at max_tokens)" : ""
                return finish(.final, "the model gave a final answer\(note)", answer: turn.text)
            }

            // Answer every call, in order: malformed ones and invalid ones get an error and no tool runs.
            var rejected = 0
            var firstRejection = ""
            var repeatsOfGoodCalls = 0
            run.refusedRepeat = false
            do {
                for bad in turn.malformedCalls {
                    try emit(.malformedCall(step: step, call: bad))
                    let result = ToolResult.failure(callID: bad.id, name: bad.name ?? "", error: "malformed tool call: \(bad.reason)")
                    try answer(result, dispatched: false, step: step, into: &messages)
                    rejected += 1
                    if firstRejection.isEmpty { firstRejection = result.error ?? "" }
                }
                var calledThisStep: [CallKey: EarlierResult] = [:]
                for call in turn.toolCalls {
                    try emit(.toolCall(step: step, call: call))
                    let key = CallKey(name: call.name, arguments: call.arguments)
                    if spec.rejectRepeatedCalls, let earlier = run.previousCalls[key] {
                        calledThisStep[key] = earlier
                        var result = ToolResult.failure(callID: call.id, name: call.name,
                                                        error: Self.repeatedCallError(call.name, failed: earlier.failed),
                                                        output: earlier.text)
                        result.metadata["repeated_call"] = "not run: identical to a call of the previous step"
                        try answer(result, dispatched: false, step: step, into: &messages, hint: spec.toolResultHint)
                        rejected += 1
                        if firstRejection.isEmpty { firstRejection = result.error ?? "" }
                        // A repeat of a call that worked: the model has what it needs, its next turn is text.
                        // A repeat of a failed call: it may still try something else.
                        if !earlier.failed { run.refusedRepeat = true; repeatsOfGoodCalls += 1 }
                        continue
                    }
                    if let problem = rejection(of: call) {
                        let result = ToolResult.failure(callID: call.id, name: call.name, error: problem)
                        try answer(result, dispatched: false, step: step, into: &messages)
                        rejected += 1
                        if firstRejection.isEmpty { firstRejection = problem }
                        continue
                    }
                    let tool = tools.first { $0.declaration.name == call.name }!
                    let result = await tool.call(id: call.id, arguments: call.arguments)
                    calledThisStep[key] = EarlierResult(text: result.modelText, failed: !result.ok)
                    if result.ok && spec.answerAfter.contains(call.name) { run.refusedRepeat = true }
                    try answer(result, dispatched: true, step: step, into: &messages, hint: spec.toolResultHint)
                }
                run.previousCalls.merge(calledThisStep) { _, new in new }
            } catch {
                return finish(.failed, "transcript: \(error)")
            }

            // A step whose every call was rejected is a failed step; too many in a row end the run.
            let callCount = turn.toolCalls.count + turn.malformedCalls.count
            // Only repeats of calls that worked: the model already has every result it asked for. It is asked
            // again from before this turn (which stays in the transcript), for text: its last message is then
            // the real result, not the refusal.
            if repeatsOfGoodCalls == callCount { messages.removeSubrange(conversationBefore...) }
            // The next turn is text only: the model is told so, as the user (the weak default model otherwise
            // starts a call it may not make, and writes markup).
            if run.refusedRepeat {
                let nudge = Message.user(Self.answerNowText)
                do { try emit(.message(nudge)) } catch { return finish(.failed, "transcript: \(error)") }
                messages.append(nudge)
            }
            run.consecutiveFailures = rejected == callCount ? run.consecutiveFailures + 1 : 0
            if run.consecutiveFailures >= limits.maxConsecutiveToolErrors {
                return finish(.failed, "\(run.consecutiveFailures) consecutive steps with only invalid tool calls (last: \(firstRejection))")
            }
        }
    }

    /// The model's next turn, in a child task that carries the prompt-progress reporter and is cancelled
    /// (the model stops at its next token) when `deadline` seconds pass.
    func respond(_ messages: [Message], _ tools: [ToolDeclaration], _ sampling: SamplingOptions, step: Int,
                 deadline: Double) async throws -> ModelTurn {
        let model = self.model, observer = self.observer
        return try await withThrowingTaskGroup(of: ModelTurn.self) { group in
            group.addTask {
                try await PromptProgress.withReporter({ observer(.promptProgress(step: step, processed: $0, total: $1)) }) {
                    try await model.respond(to: messages, tools: tools, sampling: sampling) { observer(.text($0)) }
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

    /// Why `call` must not run (unknown tool, arguments that do not fit the schema), or nil.
    func rejection(of call: ToolCall) -> String? {
        guard let tool = tools.first(where: { $0.declaration.name == call.name }) else {
            let names = tools.map(\.declaration.name)
            return "unknown tool '\(call.name)'" + (names.isEmpty ? "; no tools are available" : "; available: \(names.joined(separator: ", "))")
        }
        if let problem = JSONSchema(tool.declaration.parameters).firstError(call.arguments) {
            return "invalid arguments for \(call.name): \(problem)"
        }
        return nil
    }

    /// Record `result` and add it to the conversation. A `hint` (the spec's `tool_result_hint`) is appended
    /// after a blank line to what the model sees, and the transcript's result says so in its metadata
    /// (`tool_result_hint`), so the record shows exactly what the model was given.
    func answer(_ result: ToolResult, dispatched: Bool, step: Int, into messages: inout [Message], hint: String? = nil) throws {
        var result = result
        if let hint, !hint.isEmpty { result.metadata["tool_result_hint"] = hint }
        try emit(.toolResult(step: step, result: result, dispatched: dispatched))
        messages.append(Self.message(for: result))
    }

    /// The tool message the model sees for a recorded result: its text, plus the hint recorded with it.
    public static func message(for result: ToolResult) -> Message {
        var message = Message.tool(result)
        if let hint = result.metadata["tool_result_hint"] { message.content += "\n\n" + hint }
        return message
    }

    /// What the model is told (as the user) when it repeated calls it already has the results of.
    public static let answerNowText = "You have the tool results you need, above. Answer my question now, in plain text."

    static func repeatedCallError(_ name: String, failed: Bool) -> String {
        let start = "repeated call: \(name) was already called with these same arguments in an earlier step, so it was not run again. "
        return failed
            ? start + "It failed with the error below and would fail again: change the arguments or use another tool"
            : start + "Its result was the text below. Answer the user now from the results you have, in plain text"
    }

    /// What an earlier call gave the model (the text of its result) and whether it failed.
    struct EarlierResult {
        var text: String
        var failed: Bool
    }

    /// A tool call's identity for the repeated-call guard: same tool, same arguments.
    struct CallKey: Hashable {
        var name: String
        var arguments: JSONValue
    }

    func emit(_ event: TranscriptEvent) throws {
        try sink.record(event)
        observer(.event(event))
    }

    static func seconds(_ s: Double) -> String {
        s.rounded() == s ? "\(Int(s))s" : String(format: "%.1fs", s)
    }

    struct RunState {
        var steps = 0
        var tokens = 0
        var consecutiveFailures = 0
        /// The calls of earlier steps that ran or were refused as repeats, with the result text the model saw.
        var previousCalls: [CallKey: EarlierResult] = [:]
        /// A repeated call was refused in the last step, or an `answer_after` tool answered: the next turn is
        /// text only (tool choice `none`).
        var refusedRepeat = false
    }
}
