import AgentCore
import Foundation

/// Resuming a run from step N: steps before N are replayed from the transcript (model turns and tool
/// results as recorded), then the live model and live tools take over. The tools' side effects of the
/// replayed steps are not redone: resume into the same work directory (`sandbox.workdir`) when they matter.
public enum Resume {
    /// The recorded turns of steps `< step`.
    static func turns(_ transcript: Transcript, before step: Int) -> [ModelTurn] {
        transcript.events.compactMap { e in
            if case .modelTurn(let s, let t) = e.event, s < step { return t }
            return nil
        }
    }

    /// A model that returns the recorded turns of steps `< step`, then asks `live`.
    public static func model(_ live: any LanguageModel, transcript: Transcript, from step: Int) -> any LanguageModel {
        ResumingModel(live: live, replay: turns(transcript, before: step))
    }

    /// Tools that answer the recorded calls of steps `< step` from the record (by call id), and run live after.
    public static func tools(_ live: [any Tool], transcript: Transcript, from step: Int) -> [any Tool] {
        var recorded: [String: [ToolResult]] = [:]
        for e in transcript.events {
            if case .toolResult(let s, let r, true) = e.event, s < step { recorded[r.callID, default: []].append(r) }
        }
        let ledger = Ledger(recorded)
        return live.map { ResumingTool(live: $0, ledger: ledger) }
    }

    final class Ledger: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: [ToolResult]]
        init(_ results: [String: [ToolResult]]) { self.results = results }
        /// The next recorded result of call `id` (ids may repeat across turns), in order.
        func take(_ id: String) -> ToolResult? {
            lock.withLock {
                guard var list = results[id], !list.isEmpty else { return nil }
                let first = list.removeFirst()
                results[id] = list
                return first
            }
        }
    }

    final class ResumingModel: LanguageModel, @unchecked Sendable {
        let live: any LanguageModel
        private let lock = NSLock()
        private var replay: [ModelTurn]
        init(live: any LanguageModel, replay: [ModelTurn]) {
            self.live = live
            self.replay = replay
        }
        var description: ModelDescription { live.description }
        func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                     onText: @Sendable (String) -> Void) async throws -> ModelTurn {
            if var next = lock.withLock({ replay.isEmpty ? nil : replay.removeFirst() }) {
                next.toolChoice = toolChoice
                onText(next.text)
                return next
            }
            return try await live.respond(to: messages, tools: tools, toolChoice: toolChoice, sampling: sampling, onText: onText)
        }
    }

    struct ResumingTool: Tool {
        let live: any Tool
        let ledger: Ledger
        var declaration: ToolDeclaration { live.declaration }
        func call(id: String, arguments: JSONValue) async -> ToolResult {
            if let recorded = ledger.take(id) { return recorded }
            return await live.call(id: id, arguments: arguments)
        }
        func shutdown() async { await live.shutdown() }
    }
}
