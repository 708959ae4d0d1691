import AgentCore
import Foundation

/// What a run has used so far: steps started and tokens generated.
struct RunCounts: Sendable, Hashable {
    var steps = 0
    var tokens = 0
}

/// The spec's budgets (steps, generated tokens, wall time) and the clock the run is timed on.
struct RunBudget: Sendable {
    let limits: Limits
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    init(_ limits: Limits) {
        self.limits = limits
        start = clock.now
    }

    var elapsed: Double {
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Seconds until the wall-time limit.
    var secondsLeft: Double { limits.wallSeconds - elapsed }

    func tokensLeft(_ counts: RunCounts) -> Int { limits.tokens - counts.tokens }

    /// Why no step may start after `counts`, or nil. Checked before each model call.
    func ending(before counts: RunCounts) -> RunEnding? {
        if counts.steps >= limits.steps { return RunEnding(status: .budget, reason: "step limit reached (\(limits.steps) steps)") }
        if elapsed >= limits.wallSeconds { return wallTime() }
        if tokensLeft(counts) <= 0 { return RunEnding(status: .budget, reason: "token limit reached (\(limits.tokens) tokens)") }
        return nil
    }

    /// The wall-time ending; `when` says where the run was (" while the model was generating").
    func wallTime(_ when: String = "") -> RunEnding {
        RunEnding(status: .budget, reason: "wall-time limit reached (\(Self.seconds(limits.wallSeconds)))\(when)")
    }

    /// A reply cut at max_tokens that used up the token budget.
    func tokensRanOutInReply(_ counts: RunCounts) -> RunEnding? {
        tokensLeft(counts) <= 0
            ? RunEnding(status: .budget, reason: "token limit reached (\(limits.tokens) tokens) in the middle of a reply") : nil
    }

    static func seconds(_ s: Double) -> String {
        s.rounded() == s ? "\(Int(s))s" : String(format: "%.1fs", s)
    }
}
