import AgentCore
import Foundation
import LocalModel
import Testing

/// `LocalChatModel` through the engine's one decode loop: constrained turns give the tokens of the loop
/// it used to have (the default model, which calls tools), and a cancelled prefill stops promptly (SmolLM2).
@Suite(.serialized)
struct LocalChatModelTests {
    static let alias = "smollm2-135m-instruct"
    static let defaultAlias = "qwen2.5-coder-0.5b-instruct"
    static let calculator = ToolDeclaration(
        name: "calculator", description: "Evaluate an arithmetic expression.",
        parameters: .object([
            JSONMember("type", "object"),
            JSONMember("properties", .object([JSONMember("expression", .object([JSONMember("type", "string")]))])),
            JSONMember("required", ["expression"]),
        ]))

    /// Three sampled turns with a tool under constraint (bare calls ended by the constraint, their
    /// results, answers): token for token what the previous loop gave, with the cache, the sampler's
    /// scratch and the constraint reused across turns on one side and fresh on the other.
    @Test func constrainedTurnsMatchThePreviousLoop() async throws {
        let model = try LocalChatModel(modelReference: Self.defaultAlias, threads: 2)
        let reference = try ReferenceLoop(model)
        let sampling = SamplingOptions(temperature: 0.7, topK: 40, seed: 7, maxTokens: 48)
        var messages: [Message] = [.system("You can call tools. Use the calculator for arithmetic."), .user("What is 17 * 23?")]
        var calls = 0, endedByConstraint = 0
        for step in 0..<3 {
            let turn = try await model.respond(to: messages, tools: [Self.calculator], toolChoice: .auto, sampling: sampling) { _ in }
            let expected = try reference.respond(to: messages, tools: [Self.calculator], sampling: sampling)
            #expect(turn.tokens == expected.tokens, "step \(step)")
            #expect(turn.text == expected.text && turn.stop == expected.stop, "step \(step)")
            #expect(turn.toolCalls == expected.toolCalls, "step \(step)")
            #expect(turn.reusedTokens == expected.reusedTokens, "step \(step)")
            if turn.stop == .toolCall { endedByConstraint += 1 }
            print("step \(step): stop \(turn.stop), \(turn.toolCalls.count) call(s), \(turn.tokens.count) tokens, \(turn.reusedTokens) reused")
            messages.append(turn.assistantMessage)
            if let call = turn.toolCalls.first {
                calls += 1
                messages.append(.tool(ToolResult(callID: call.id, name: call.name, ok: true, output: "391")))
            } else {
                messages.append(.user("And 19 * 21?"))
            }
        }
        #expect(calls > 0 && endedByConstraint > 0, "no call ended by the constraint: the hook went untested")
    }

    /// The agent loop cancels the model's task at its wall-time limit: a long prefill stops within a
    /// batch with `CancellationError` instead of running to its end, and the model answers again after.
    @Test func cancelledPrefillStopsPromptly() async throws {
        let model = try LocalChatModel(modelReference: Self.alias, threads: 2)
        let text = String(repeating: "The quick brown fox jumps over the lazy dog near the river bank. ", count: 450)
        let messages: [Message] = [.user(text + "How many foxes are there?")]
        let reports = Reports()
        let task = Task {
            try await PromptProgress.withReporter({ reports.add($0, $1) }) {
                try await model.respond(to: messages, tools: [], toolChoice: .auto, sampling: SamplingOptions(maxTokens: 4)) { _ in }
            }
        }
        while reports.count < 2 { try await Task.sleep(for: .milliseconds(2)) }
        let (batchSeconds, total) = reports.firstBatch
        task.cancel()
        let cancelled = ContinuousClock.now
        let result = await task.result
        let stopping = (ContinuousClock.now - cancelled) / .seconds(1)
        #expect(throws: CancellationError.self) { try result.get() }
        let done = reports.last
        // The rest of the prefill would have taken about `(total - done) / batch` batches.
        let rest = Double(total - done) / Double(reports.batch) * batchSeconds
        print("cancelled prefill: \(done) of \(total) tokens done, stopped \(Int(stopping * 1000)) ms after the cancel; the rest would take about \(Int(rest * 1000)) ms (batch \(Int(batchSeconds * 1000)) ms)")
        #expect(done <= 3 * reports.batch && done < total / 2)
        #expect(stopping < rest / 3)

        let again = try await model.respond(to: [.user("Say hi.")], tools: [], toolChoice: .auto, sampling: SamplingOptions(maxTokens: 4)) { _ in }
        #expect(!again.tokens.isEmpty)
    }
}

/// Prompt-progress reports with their times, from the model's task.
final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(done: Int, total: Int, at: ContinuousClock.Instant)] = []

    func add(_ done: Int, _ total: Int) { lock.withLock { items.append((done, total, .now)) } }
    var count: Int { lock.withLock { items.count } }
    var last: Int { lock.withLock { items.last?.done ?? 0 } }
    /// Tokens in the first batch.
    var batch: Int { lock.withLock { items[0].done } }
    /// Seconds the second batch took, and the prompt's length.
    var firstBatch: (Double, Int) {
        lock.withLock { ((items[1].at - items[0].at) / .seconds(1), items[0].total) }
    }
}
