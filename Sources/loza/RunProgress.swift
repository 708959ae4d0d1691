import Agent
import AgentCore
import Foundation

/// Steps and tokens so far, for the final event of an interrupted run.
final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var steps = 0
    private var tokens = 0
    private var failedCalls = 0
    private var start = Date()

    /// Counts the wall time from now (the loop's start).
    func begin() { lock.withLock { start = Date() } }

    func note(_ update: AgentUpdate) {
        if case .event(.modelTurn(let step, let turn)) = update {
            lock.withLock {
                steps = step
                tokens += turn.tokens.count
            }
        }
        if case .event(.toolResult(_, let result, let dispatched)) = update, dispatched, !result.ok {
            lock.withLock { failedCalls += 1 }
        }
    }

    /// Tool calls that ran and failed so far.
    var failedToolCalls: Int { lock.withLock { failedCalls } }

    var snapshot: (Int, Int, Double) { lock.withLock { (steps, tokens, Date().timeIntervalSince(start)) } }
}
