import AgentCore
import ChatTemplate
import Engine
import Foundation
import GGUF
import Tokenizer

/// The in-process engine as a `LanguageModel`: renders the conversation with the model's own chat
/// template, syncs the session to it (only the new suffix is prefilled: the cache keeps the prefix),
/// samples the reply token by token, parses tool calls as they stream and, when asked, constrains the
/// tokens of a tool call to JSON that matches the declared schemas.
public final class LocalChatModel: LanguageModel, @unchecked Sendable {
    public let description: ModelDescription
    public let model: Model
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let constrainToolCalls: Bool
    public let threads: Int
    /// False: every turn prefills the whole conversation from an empty cache (for measuring what the
    /// cache reuse saves; `loza run --no-cache-reuse`).
    public let reuseCache: Bool

    // Mutable state, serialized by `lock`: one reply at a time.
    private let lock = NSLock()
    private let session: Session
    private var trie: TokenTrie?
    /// Kept across turns: the sampler's scratch, and the last constraint with the tools and choice it was
    /// built for (reset and reused while they stay the same, keeping its free-text masks).
    private var samplerBuffers: SamplerBuffers?
    private var lastConstraint: (tools: [ToolDeclaration], choice: ToolChoice, constraint: ToolCallConstraint)?

    /// - modelReference: an alias (`qwen2.5-coder-0.5b-instruct`) or a path to a `.gguf` file.
    public init(modelReference: String, attention: AttentionSettings? = nil, threads: Int? = nil,
                constrainToolCalls: Bool = true, reuseCache: Bool = true, store: ModelStore = ModelStore()) throws {
        self.reuseCache = reuseCache
        let path = try store.resolve(modelReference)
        let model = try Model(path: path)
        self.model = model
        tokenizer = try Tokenizer(gguf: model.file)
        template = ChatTemplate(template: model.file.string("tokenizer.chat_template"))
        self.constrainToolCalls = constrainToolCalls
        let threadCount = threads ?? ThreadPool.defaultThreadCount
        self.threads = threadCount
        let resolved = try AttentionResolver.plan(for: model, settings: attention)
        session = Session(model: model, threads: threadCount, plan: resolved.plan)
        description = ModelDescription(
            name: (path as NSString).lastPathComponent,
            fileSHA256: resolved.modelSHA256,
            templateSHA256: template.templateSHA256,
            attention: resolved.label)
    }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        let progress = PromptProgress.report
        var turn = try lock.withLock {
            try generate(messages: messages, tools: tools, toolChoice: toolChoice, sampling: sampling, onText: onText, progress: progress)
        }
        turn.toolChoice = toolChoice
        return turn
    }

    private func generate(messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                          onText: (String) -> Void, progress: (@Sendable (Int, Int) -> Void)?) throws -> ModelTurn {
        let prompt = template.render(messages: messages, tools: tools, addGenerationPrompt: true)
        let ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        let turn = messages.filter { $0.role == .assistant }.count

        let prefillStart = Date()
        if !reuseCache { session.reset() }
        let reused = try session.sync(to: ids) { done, total in progress?(done, total) }
        let prefillSeconds = Date().timeIntervalSince(prefillStart)

        // Each turn draws from its own stream: same conversation + seed -> same reply.
        let parameters = SamplingParameters(
            temperature: Float(sampling.temperature), topK: sampling.topK, topP: Float(sampling.topP),
            minP: Float(sampling.minP), repetitionPenalty: Float(sampling.repetitionPenalty),
            seed: sampling.seed &+ UInt64(turn) &* 0x9E37_79B9_7F4A_7C15)
        let buffers = samplerBuffers ?? SamplerBuffers(vocabSize: model.config.vocabSize)
        samplerBuffers = buffers
        let sampler = Sampler(parameters: parameters, vocabSize: model.config.vocabSize, buffers: buffers)
        // A tool choice other than auto is enforced by the constraint even when tool calls are otherwise free.
        let constrained = (constrainToolCalls || toolChoice != .auto) && !tools.isEmpty
        let constraint = constrained ? toolCallConstraint(tools: tools, choice: toolChoice) : nil

        var parser = ToolCallParser(tools: tools, turn: turn)
        var decoder = tokenizer.streamingDecoder(renderSpecial: true)
        var generated: [Int32] = []
        var text = ""
        var stop = StopReason.length
        let decodeStart = Date()
        let budget = max(0, min(sampling.maxTokens, session.maxLength - session.count))

        func emit(_ piece: String) {
            text += piece
            for event in parser.push(piece) {
                if case .text(let t) = event { onText(t) }
            }
        }

        while generated.count < budget {
            // The loop's wall-time limit cancels the task: stop between tokens.
            if Task.isCancelled { throw CancellationError() }
            let logits = session.logits
            constraint?.constrain(logits: logits)
            let token = sampler.sample(logits, history: session.tokens[...])
            if tokenizer.isEndOfGeneration(token) {
                stop = .eos
                break
            }
            constraint?.advance(token)
            generated.append(token)
            let piece = decoder.push(token)
            if !piece.isEmpty { emit(piece) }
            if let hit = sampling.stop.first(where: { !$0.isEmpty && text.hasSuffix($0) }) {
                text.removeLast(hit.count)
                stop = .stop
                break
            }
            if constraint?.mustEnd == true {
                stop = .toolCall
                break
            }
            guard generated.count < budget else { break }
            try session.decode(token)
        }
        let tail = decoder.flush()
        if !tail.isEmpty { emit(tail) }
        let parsed = parser.finish()
        return ModelTurn(
            text: text, tokens: generated, toolCalls: parsed.calls, malformedCalls: parsed.malformed,
            content: parsed.content, stop: stop, promptTokens: ids.count - reused, reusedTokens: reused,
            prefillSeconds: prefillSeconds, decodeSeconds: Date().timeIntervalSince(decodeStart))
    }

    /// A constraint for a new reply: the last one, reset, when the tools and choice are the same.
    private func toolCallConstraint(tools: [ToolDeclaration], choice: ToolChoice) -> ToolCallConstraint {
        if let last = lastConstraint, last.choice == choice, last.tools == tools {
            last.constraint.reset()
            return last.constraint
        }
        let made = ToolCallConstraint(trie: vocabularyTrie(), tools: tools, choice: choice)
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
