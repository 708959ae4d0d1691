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
        if let reasoning = reply.reasoning, !reasoning.allSatisfy(\.isWhitespace), isMarkupOnly(reply.answerText) {
            let followed = reply.answerText.allSatisfy(\.isWhitespace) ? "nothing followed it" : "only markup followed it"
            return RunEnding(status: .final, reason: "the model answered inside its thinking block (\(followed))\(note)",
                             answer: reasoning)
        }
        return RunEnding(status: .final, reason: "the model gave a final answer\(note)", answer: reply.answerText)
    }

    /// Text with no word or number outside markup: tags (`</tools>`, `<answer></answer>`) and code fences. A model
    /// without thinking turns of its own that wrote its whole answer inside the block often ends the reply
    /// with such leftovers of its template instead of nothing.
    static func isMarkupOnly(_ text: String) -> Bool {
        var inTag = false
        for c in text {
            if c == "<" { inTag = true } else if c == ">" { inTag = false } else if !inTag && (c.isLetter || c.isNumber) { return false }
        }
        return true
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
