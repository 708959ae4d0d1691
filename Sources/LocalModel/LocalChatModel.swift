import AgentCore
import ChatTemplate
import Engine
import Foundation
import GGUF
import Tokenizer

/// The in-process engine as a `LanguageModel`: renders the conversation with the model's own chat
/// template, runs it through the engine's decode loop (`Generator`: only the new suffix is prefilled,
/// the cache keeps the prefix), parses tool calls as the text streams and, when asked, constrains the
/// tokens of a tool call to JSON that matches the declared schemas (through the loop's constraint hook).
public final class LocalChatModel: LanguageModel, @unchecked Sendable {
    public let description: ModelDescription
    public let model: Model
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let constrainToolCalls: Bool
    /// Several calls may follow one another in a reply (see `ToolCallConstraint`).
    public let parallelCalls: Bool
    public let threads: Int
    /// Lookup speculation (guessed tokens verified in one pass): speed only, the tokens are the same.
    public let speculation: Speculation
    /// False: every turn prefills the whole conversation from an empty cache (for measuring what the
    /// cache reuse saves; `loza run --no-cache-reuse`).
    public let reuseCache: Bool

    // Mutable state, serialized by `lock`: one reply at a time (shared with the models `fork` made, so
    // that their replies, which share the cores, also run one at a time).
    private let lock: NSLock
    /// The attention plan of the session (a fork's session uses it too).
    private let plan: AttentionPlan
    /// The decode loop over the model's one session; it keeps the session's cache and the sampler's
    /// scratch across turns.
    private let generator: Generator
    private var trie: TokenTrie?
    /// The last constraint with the tools and choice it was built for (reset and reused while they stay
    /// the same, keeping its free-text masks).
    private var lastConstraint: (tools: [ToolDeclaration], choice: ToolChoice, constraint: ToolCallConstraint)?

    /// - modelReference: an alias (`qwen2.5-coder-0.5b-instruct`) or a path to a `.gguf` file.
    public init(modelReference: String, attention: AttentionSettings? = nil, threads: Int? = nil,
                constrainToolCalls: Bool = true, parallelCalls: Bool = false, reuseCache: Bool = true,
                speculation: Speculation = .lookup, store: ModelStore = ModelStore()) throws {
        self.reuseCache = reuseCache
        self.speculation = speculation
        self.parallelCalls = parallelCalls
        let path = try store.resolve(modelReference)
        let model = try Model(path: path)
        self.model = model
        tokenizer = try Tokenizer(gguf: model.file)
        template = ChatTemplate(template: model.file.string("tokenizer.chat_template"))
        self.constrainToolCalls = constrainToolCalls
        let threadCount = threads ?? ThreadPool.defaultThreadCount
        self.threads = threadCount
        let resolved = try AttentionResolver.plan(for: model, settings: attention)
        plan = resolved.plan
        lock = NSLock()
        generator = Generator(session: Session(model: model, threads: threadCount, plan: resolved.plan), tokenizer: tokenizer)
        description = ModelDescription(
            name: (path as NSString).lastPathComponent,
            fileSHA256: resolved.modelSHA256,
            templateSHA256: template.templateSHA256,
            attention: resolved.label)
    }

    private init(forking other: LocalChatModel) {
        description = other.description
        model = other.model
        tokenizer = other.tokenizer
        template = other.template
        constrainToolCalls = other.constrainToolCalls
        parallelCalls = other.parallelCalls
        threads = other.threads
        speculation = other.speculation
        reuseCache = other.reuseCache
        plan = other.plan
        lock = other.lock
        generator = Generator(session: Session(model: other.model, threads: other.threads, plan: other.plan), tokenizer: other.tokenizer)
    }

    /// A model with the same weights, tokenizer and settings and a session of its own (an empty cache), whose
    /// replies take turns with this one's. A batch gives each task one: a task's tokens then do not depend
    /// on which other task's conversation the cache held before (a reused prefix is not bit for bit the
    /// prefill of a different split).
    public func fork() -> LocalChatModel { LocalChatModel(forking: self) }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        let progress = PromptProgress.report
        var turn = try lock.withLock {
            try generate(messages: messages, tools: tools, toolChoice: toolChoice, sampling: sampling, onText: onText, progress: progress)
        }
        turn.toolChoice = toolChoice
        return turn
    }

    /// Renders the conversation, runs the decode loop on it (the session reuses the prefix it already
    /// holds) and parses the streamed text for tool calls. A cancelled task (the agent loop's wall-time
    /// limit) stops within one prefill batch or one token with `CancellationError`.
    private func generate(messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                          onText: (String) -> Void, progress: (@Sendable (Int, Int) -> Void)?) throws -> ModelTurn {
        let prompt = template.render(messages: messages, tools: tools, addGenerationPrompt: true)
        let ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        let turn = messages.filter { $0.role == .assistant }.count
        if !reuseCache { generator.session.reset() }

        // Each turn draws from its own stream: same conversation + seed -> same reply.
        let parameters = SamplingParameters(
            temperature: Float(sampling.temperature), topK: sampling.topK, topP: Float(sampling.topP),
            minP: Float(sampling.minP), repetitionPenalty: Float(sampling.repetitionPenalty),
            seed: sampling.seed &+ UInt64(turn) &* 0x9E37_79B9_7F4A_7C15)
        // A tool choice other than auto is enforced by the constraint even when tool calls are otherwise free.
        let constrained = (constrainToolCalls || toolChoice != .auto) && !tools.isEmpty
        let constraint = constrained ? toolCallConstraint(tools: tools, choice: toolChoice) : nil

        var parser = ToolCallParser(tools: tools, turn: turn)
        let result: GenerationResult
        do {
            result = try generator.generate(
                prompt: ids, parameters: parameters, maxTokens: sampling.maxTokens, stopStrings: sampling.stop,
                constraint: constraint, speculation: speculation, progress: { done, total in progress?(done, total) },
                onText: { piece in
                    for event in parser.push(piece) {
                        if case .text(let t) = event { onText(t) }
                    }
                })
        } catch {
            throw error == .cancelled ? CancellationError() : error
        }
        let parsed = parser.finish()
        var reply = ModelTurn(
            text: result.text, tokens: result.tokens, toolCalls: parsed.calls, malformedCalls: parsed.malformed,
            content: parsed.content, stop: StopReason(result.stop), promptTokens: ids.count - result.reusedTokens,
            reusedTokens: result.reusedTokens, prefillSeconds: result.timings.prefillSeconds,
            decodeSeconds: result.timings.decodeSeconds)
        reply.decodeSpans = result.timings.decodeSpans.map { DecodeSpan(position: $0.position, tokens: $0.tokens, seconds: $0.seconds) }
        reply.guessSteps = result.timings.guessSteps
        reply.guessedTokens = result.timings.guessedTokens
        reply.acceptedGuesses = result.timings.acceptedGuesses
        return reply
    }

    /// A constraint for a new reply: the last one, reset, when the tools and choice are the same.
    private func toolCallConstraint(tools: [ToolDeclaration], choice: ToolChoice) -> ToolCallConstraint {
        if let last = lastConstraint, last.choice == choice, last.tools == tools {
            last.constraint.reset()
            return last.constraint
        }
        let made = ToolCallConstraint(trie: vocabularyTrie(), tools: tools, choice: choice, parallel: parallelCalls)
        lastConstraint = (tools, choice, made)
        return made
    }

    /// The vocabulary trie for constrained tool calls, built on first use and kept.
    private func vocabularyTrie() -> TokenTrie {
        if let trie { return trie }
        let built = TokenTrie(tokenizer: tokenizer)
        trie = built
        return built
    }
}

extension StopReason {
    /// The agent's name for why the decode loop stopped: a complete tool call is what makes the
    /// tool-call constraint end a reply.
    init(_ stop: GenerationStop) {
        switch stop {
        case .eos: self = .eos
        case .length: self = .length
        case .stop: self = .stop
        case .constraint: self = .toolCall
        }
    }
}
