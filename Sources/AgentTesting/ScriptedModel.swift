import AgentCore
import Foundation

/// A deterministic `LanguageModel` for tests: returns its scripted turns in order and records what it
/// was shown. Token ids of a scripted turn, when not given, are one id per character of its text
/// (so token budgets behave); a turn longer than `sampling.maxTokens` is cut there with `stop == .length`.
public final class ScriptedModel: LanguageModel, @unchecked Sendable {
    public enum Step: Sendable {
        case turn(ModelTurn)
        /// Throw this message as the model's error.
        case fail(String)
        /// Sleep, then return the turn (wall-time tests).
        case slow(seconds: Double, ModelTurn)
    }

    public struct Exhausted: Error, CustomStringConvertible {
        public var description: String { "scripted model has no more turns" }
    }
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let description: ModelDescription
    private let lock = NSLock()
    private var script: [Step]
    private var shown: [(messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions)] = []

    public init(_ script: [Step], description: ModelDescription = ModelDescription(name: "scripted")) {
        self.script = script
        self.description = description
    }

    /// A final-answer turn.
    public static func answer(_ text: String) -> Step { .turn(ModelTurn(text: text, tokens: tokens(for: text), stop: .eos)) }

    /// A turn calling `name` with `arguments` (call id `call_<n>`).
    public static func call(_ name: String, _ arguments: JSONValue, id: String, text: String? = nil) -> Step {
        let body = text ?? "<tool_call>{\"name\": \"\(name)\", \"arguments\": \(arguments.serialized(.python))}</tool_call>"
        return .turn(ModelTurn(text: body, tokens: tokens(for: body), toolCalls: [ToolCall(id: id, name: name, arguments: arguments)],
                               content: "", stop: .toolCall))
    }

    /// A turn with one malformed call.
    public static func malformed(_ raw: String, id: String, reason: String, name: String? = nil) -> Step {
        .turn(ModelTurn(text: raw, tokens: tokens(for: raw), malformedCalls: [MalformedToolCall(id: id, raw: raw, name: name, reason: reason)],
                        content: "", stop: .toolCall))
    }

    public static func tokens(for text: String) -> [Int32] { text.unicodeScalars.map { Int32(truncatingIfNeeded: $0.value) } }

    /// The conversations the model was given, one per call.
    public var conversations: [[Message]] { lock.withLock { shown.map(\.messages) } }
    public var toolsShown: [[ToolDeclaration]] { lock.withLock { shown.map(\.tools) } }
    public var samplingShown: [SamplingOptions] { lock.withLock { shown.map(\.sampling) } }
    /// The tool choice each call asked for.
    public var toolChoicesShown: [ToolChoice] { lock.withLock { shown.map(\.toolChoice) } }
    public var remaining: Int { lock.withLock { script.count } }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        let next: Step? = lock.withLock {
            shown.append((messages, tools, toolChoice, sampling))
            return script.isEmpty ? nil : script.removeFirst()
        }
        guard let next else { throw Exhausted() }
        // Report prompt progress as a local model does: (messages processed, messages to process).
        PromptProgress.report?(messages.count, messages.count)
        var turn: ModelTurn
        switch next {
        case .fail(let message): throw Failure(description: message)
        case .turn(let t): turn = t
        case .slow(let seconds, let t):
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            turn = t
        }
        if turn.tokens.count > sampling.maxTokens {
            turn.tokens = Array(turn.tokens.prefix(sampling.maxTokens))
            turn.text = String(String.UnicodeScalarView(turn.text.unicodeScalars.prefix(sampling.maxTokens)))
            turn.toolCalls = []
            turn.malformedCalls = []
            turn.stop = .length
        }
        turn.toolChoice = toolChoice
        onText(turn.text)
        return turn
    }
}
