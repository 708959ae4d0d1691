import AgentCore

/// How a run ends, before the counts are added to make its `RunOutcome`.
struct RunEnding: Sendable, Hashable {
    var status: RunOutcome.Status
    var reason: String
    var answer: String? = nil

    /// The model's reply in text ends the run with its answer.
    static func answer(_ reply: ModelTurn) -> RunEnding {
        let note = reply.stop == .length ? " (cut at max_tokens)" : ""
        return RunEnding(status: .final, reason: "the model gave a final answer\(note)", answer: reply.text)
    }
}
