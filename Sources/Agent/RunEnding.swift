import AgentCore

/// How a run ends, before the counts are added to make its `RunOutcome`.
struct RunEnding: Sendable, Hashable {
    var status: RunOutcome.Status
    var reason: String
    var answer: String? = nil
    var calls: [ToolCall] = []
    /// The model or the transcript failed (not a decision of the loop): the run fails whatever it collected.
    var isError = false

    /// The run fails on an error of the model or of the transcript.
    static func error(_ reason: String) -> RunEnding { RunEnding(status: .failed, reason: reason, isError: true) }

    /// The model's reply in text ends the run with its answer.
    static func answer(_ reply: ModelTurn) -> RunEnding {
        let note = reply.stop == .length ? " (cut at max_tokens)" : ""
        if let reasoning = reply.reasoning, reply.answerText.allSatisfy(\.isWhitespace) {
            return RunEnding(status: .final, reason: "the model answered inside its thinking block (nothing followed it)\(note)",
                             answer: reasoning)
        }
        return RunEnding(status: .final, reason: "the model gave a final answer\(note)", answer: reply.answerText)
    }

    /// The model called declared tools: the run stops with them for the caller.
    static func declaredCalls(_ calls: [ToolCall], turn: ModelTurn) -> RunEnding {
        let names = calls.map(\.name).joined(separator: ", ")
        let content = turn.content.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        return RunEnding(status: .calls, reason: "the model called declared tools (\(names)): the caller runs them",
                         answer: content, calls: calls)
    }

    /// Collecting declared calls (`declared_calls: collect`), the run stops with the calls collected: `reason`
    /// says what stopped it.
    static func collectedCalls(_ calls: [ToolCall], reason: String, answer: String?) -> RunEnding {
        let names = calls.map(\.name).joined(separator: ", ")
        let content = answer.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        return RunEnding(status: .calls, reason: "\(reason): the caller runs the \(calls.count) declared calls collected (\(names))",
                         answer: content, calls: calls)
    }
}
