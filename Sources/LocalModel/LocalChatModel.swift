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
    /// Calls are written in the template's tagged form (`<tool_call>`): a reply that opens a call bare or
    /// fenced (the default model's habit) is stopped at its `{` and the call is written again after the tag.
    /// Nothing changes for templates whose own calls are bare (Llama 3) or replies that do not call.
    public let tagCalls: Bool
    /// At a string argument's first token, an opening copied from the user's messages or the tools' results
    /// takes the place of a little likelier invented one (`GroundedValues`).
    public let preferCopiedValues: Bool
    public let threads: Int
    /// Lookup speculation (guessed tokens verified in one pass): speed only, the tokens are the same.
    public let speculation: Speculation
    /// False: every turn prefills the whole conversation from an empty cache (for measuring what the
    /// cache reuse saves; `loza run --no-cache-reuse`).
    public let reuseCache: Bool

    /// The sessions of this model and of the models `fork` made: their decode steps run as one pass,
    /// their prefill batches one at a time, on one thread pool.
    private let batch: DecodeBatch
    // Mutable state, serialized by `lock`: one reply at a time (each fork has its own lock; forks reply
    // at the same time, each on a thread of its own, and decode together through `batch`).
    private let lock = NSLock()
    /// The attention plan of the session (a fork's session uses it too).
    private let plan: AttentionPlan
    /// The decode loop over the model's one session; it keeps the session's cache and the sampler's
    /// scratch across turns.
    private let generator: Generator
    /// The vocabulary trie for constrained tool calls, shared with the forks (built once, on first use).
    private let trie: SharedTrie
    /// The last constraint with the tools and choice it was built for (reset and reused while they stay
    /// the same, keeping its free-text masks).
    private var lastConstraint: (tools: [ToolDeclaration], choice: ToolChoice, constraint: ToolCallConstraint)?
    /// The constraint of calls written after the runtime's tag (`tagCalls`), with the tools it was built for.
    private var lastTagged: (tools: [ToolDeclaration], constraint: ToolCallConstraint)?
    /// The thinking block's constraint, once a reply has reasoned.
    private var thinking: ThinkingConstraint?

    /// - modelReference: an alias (`qwen2.5-coder-0.5b-instruct`) or a path to a `.gguf` file.
    public init(modelReference: String, attention: AttentionSettings? = nil, threads: Int? = nil,
                constrainToolCalls: Bool = true, parallelCalls: Bool = false, tagCalls: Bool = false, preferCopiedValues: Bool = false, reuseCache: Bool = true,
                speculation: Speculation = .lookup, store: ModelStore = ModelStore()) throws {
        self.reuseCache = reuseCache
        self.speculation = speculation
        self.parallelCalls = parallelCalls
        self.tagCalls = tagCalls
        self.preferCopiedValues = preferCopiedValues
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
        batch = DecodeBatch(model: model, threads: threadCount)
        trie = SharedTrie()
        generator = Generator(session: Session(model: model, plan: resolved.plan, batch: batch), tokenizer: tokenizer)
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
        tagCalls = other.tagCalls
        preferCopiedValues = other.preferCopiedValues
        threads = other.threads
        speculation = other.speculation
        reuseCache = other.reuseCache
        plan = other.plan
        batch = other.batch
        trie = other.trie
        generator = Generator(session: Session(model: other.model, plan: other.plan, batch: other.batch), tokenizer: other.tokenizer)
    }

    /// A model with the same weights, tokenizer and settings and a session of its own (an empty cache),
    /// whose replies may run at the same time as this one's: their decode steps are computed together in
    /// one pass over the weights (`DecodeBatch`), each row exactly as it would be alone, so a reply's
    /// tokens do not depend on what the other sessions do. A batch gives each task one: a task's tokens
    /// then also do not depend on which other task's conversation a cache held before (a reused prefix is
    /// not bit for bit the prefill of a different split).
    public func fork() -> LocalChatModel { LocalChatModel(forking: self) }

    /// Passes that held the steps of more than one session (of this model and its forks), and their rows.
    public var sharedPasses: (passes: Int, rows: Int) { batch.sharedPassCounts }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        let progress = PromptProgress.report
        // The reply runs on a thread of its own, not on one of the few cooperative threads: while it
        // waits for the other sessions' steps of a pass, their tools and replies go on.
        let cancellation = CancellationFlag()
        var turn = try await withoutActuallyEscaping(onText) { onText in
            // The thread holds `onText` only until the reply ends (it is let go before this returns).
            let sink = TextSink(onText)
            return try await withTaskCancellationHandler {
                try await GenerationThread.run {
                    defer { sink.close() }
                    return try self.lock.withLock {
                        try self.generate(messages: messages, tools: tools, toolChoice: toolChoice, sampling: sampling,
                                          onText: sink.send, progress: progress, cancellation: cancellation)
                    }
                }
            } onCancel: {
                cancellation.cancel()
            }
        }
        turn.toolChoice = toolChoice
        return turn
    }

    /// Renders the conversation, runs the decode loop on it (the session reuses the prefix it already
    /// holds) and parses the streamed text for tool calls. A cancelled task (the agent loop's wall-time
    /// limit) stops within one prefill batch or one token with `CancellationError`.
    ///
    /// With reasoning on, the reply is generated in two parts: the thinking block (opened by the runtime,
    /// free text only, ended by the model's `</think>` or at the budget), then, after the block as the
    /// template shows it again in later turns, the call or answer under the tool-call constraint. The
    /// second part's prompt is the block's text tokenized with the rest, so later turns find it in the
    /// cache as they render it.
    private func generate(messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                          onText: (String) -> Void, progress: (@Sendable (Int, Int) -> Void)?,
                          cancellation: CancellationFlag) throws -> ModelTurn {
        let think = sampling.reasoning.isOn
        let conversation = think && !template.nativeThinking
            ? Reasoning.instructed(messages, defaultSystem: template.defaultSystemPrompt) : messages
        var prompt = template.render(messages: conversation, tools: tools, addGenerationPrompt: true, enableThinking: think)
        let turn = messages.filter { $0.role == .assistant }.count
        if !reuseCache { generator.session.reset() }

        // Each turn draws from its own stream: same conversation + seed -> same reply.
        let parameters = SamplingParameters(
            temperature: Float(sampling.temperature), topK: sampling.topK, topP: Float(sampling.topP),
            minP: Float(sampling.minP), repetitionPenalty: Float(sampling.repetitionPenalty),
            seed: sampling.seed &+ UInt64(turn) &* 0x9E37_79B9_7F4A_7C15)
        func run(_ text: String, maxTokens: Int, stop: [String], constraint: (any TokenConstraint)?,
                 onPiece: (String) -> Void) throws -> (result: GenerationResult, promptTokens: Int) {
            let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
            do {
                let result = try generator.generate(
                    prompt: ids, parameters: parameters, maxTokens: maxTokens, stopStrings: stop,
                    constraint: constraint, speculation: speculation, cancellation: cancellation,
                    progress: { done, total in progress?(done, total) }, onText: onPiece)
                return (result, ids.count)
            } catch {
                throw error == .cancelled ? CancellationError() : error
            }
        }

        var parts: [GenerationResult] = []
        var promptTokens = 0
        var reasoning: String?
        var blockText = ""
        if think {
            let open = Reasoning.openTag + "\n"
            onText(open)
            let (block, count) = try run(prompt + open, maxTokens: min(sampling.reasoning.budget, sampling.maxTokens),
                                         stop: [Reasoning.closeTag], constraint: thinkingConstraint(), onPiece: onText)
            var text = block.text
            if text.hasSuffix("\n") { text.removeLast() }
            onText((text == block.text ? "\n" : "") + Reasoning.closeTag + "\n")
            // Templates with thinking turns write a blank line after the block; the runtime's block is
            // followed by the content on the next line (`Reasoning.contentWithBlock`).
            blockText = Reasoning.block(text) + (template.nativeThinking ? "\n\n" : "\n")
            prompt += blockText
            reasoning = text
            parts.append(block)
            promptTokens += count - block.reusedTokens
        }
        let left = sampling.maxTokens - (parts.first?.tokens.count ?? 0)

        var parsed = ToolCallParser(tools: tools, turn: turn, template: template).finish()
        var oddsDecision: (probability: Double?, chosen: Bool) = (nil, false)
        var excludedRepeat: ToolCall?
        var untaggedOpening: String?
        if left > 0 || !think {
            // A tool choice other than auto is enforced by the constraint even when tool calls are otherwise free.
            // A reply to the user (not one to a tool result) under `auto`: the probability of a call is
            // measured (and recorded), and the call threshold, when set, decides by it.
            let toUser = toolChoice == .auto && messages.last?.role == .user
            let byOdds = toUser ? sampling.callThreshold : nil
            let constrained = (constrainToolCalls || toolChoice != .auto || byOdds != nil) && !tools.isEmpty
            let constraint = constrained ? toolCallConstraint(tools: tools, choice: toolChoice) : nil
            constraint?.callThreshold = toUser ? byOdds ?? .infinity : nil
            constraint?.excludedCalls = []  // a reused constraint keeps the last reply's
            let grounding = preferCopiedValues ? GroundedValues(evidence: Self.evidence(messages)) : nil
            constraint?.groundedValues = grounding
            // A model that writes the close tag again after the block has ended its reply (its answer was
            // the block).
            let stop = think ? sampling.stop + [Reasoning.closeTag] : sampling.stop
            // Calls in the template's own form: a reply that opens a call bare or fenced is stopped at its
            // `{` and written again after the template's tag (`tagCalls`).
            let retag = tagCalls && constraint != nil && !template.callFormat.bareIsNative && toolChoice != .none
            // After a thinking block, a model whose prompt lists the tools inside `<tools>` tags (the default
            // model's template) often opens its call with that tag instead of the template's call tag, and
            // the call then goes unconstrained (invented tools, a copy of the tool list). The reply is stopped
            // at the tag and the call written after the template's own tag, as `tag_calls` does.
            let listTag = think && constraint != nil && toolChoice != .none && !template.callFormat.bareIsNative
                && prompt.contains(Self.toolListTag + "\n") ? Self.toolListTag : nil
            let firstStops = stop + (listTag.map { [$0] } ?? [])
            // The reply's text goes through the parser; only its free text streams (calls are parsed).
            func stream(_ piece: String, through parser: inout ToolCallParser) {
                for event in parser.push(piece) {
                    if case .text(let t) = event { onText(t) }
                }
            }
            func decode() throws -> (GenerationResult, Int, (content: String, calls: [ToolCall], malformed: [MalformedToolCall])) {
                var parser = ToolCallParser(tools: tools, turn: turn, template: template)
                untaggedOpening = nil
                constraint?.stopAtUntaggedCall = retag
                let (answer, count) = try run(prompt, maxTokens: left, stop: firstStops, constraint: constraint) { stream($0, through: &parser) }
                // The stop string itself is not in the text; the tokens that wrote it are.
                let listOpened = listTag.map { answer.stop == .stop && tokenizer.decode(answer.tokens).contains($0) && !answer.text.contains($0) } ?? false
                guard let constraint, constraint.openedUntagged || listOpened else { return (answer, count, parser.finish()) }
                // Text before the tool-list tag stays (a call written after text); an untagged opening is dropped.
                let kept = listOpened ? answer.text : ""
                untaggedOpening = listOpened ? listTag : answer.text
                // The untagged opening is dropped: the call is written again after the tag, which the
                // runtime writes (as it writes a thinking block's opening), under a constraint whose
                // reply is the tagged call.
                let opening = ToolCallParser.openTag + "\n"
                let tagged = taggedCallConstraint(tools: tools)
                tagged.excludedCalls = constraint.excludedCalls
                tagged.groundedValues = grounding
                tagged.endBeforeCloseTag = !parallelCalls
                tagged.advance(bytes: Array(opening.utf8))
                var taggedParser = ToolCallParser(tools: tools, turn: turn, template: template)
                _ = taggedParser.push(kept + opening)
                var (call, _) = try run(prompt + kept + opening, maxTokens: left, stop: stop, constraint: tagged) { stream($0, through: &taggedParser) }
                // Without parallel calls the reply ends with the call's object; the runtime closes the
                // tag it opened.
                if tagged.awaitsCloseTag {
                    let closing = "\n" + ToolCallParser.closeTag
                    stream(closing, through: &taggedParser)
                    call.text += closing
                }
                call.text = kept + opening + call.text
                call.absorb(answer)
                // The prompt as the caller counts it: the tag is part of the reply.
                return (call, count, taggedParser.finish())
            }
            var (answer, count, calls) = try decode()
            // A reply that repeats a call the loop excluded (one that failed) is decoded again with that
            // call excluded from the point where it commits to the same first argument (`ExcludedCall`).
            // So is a reply that writes only calls already acknowledged (`SamplingOptions.acknowledgedCalls`).
            let acknowledged = !calls.calls.isEmpty && calls.calls.allSatisfy { call in sampling.acknowledgedCalls.contains(where: call.repeats) }
            if let constraint, let repeated = calls.calls.first(where: { sampling.excludedCalls.contains(where: $0.repeats) })
                ?? (acknowledged ? calls.calls.first : nil)
            {
                excludedRepeat = repeated
                constraint.reset()
                constraint.excludedCalls = (sampling.excludedCalls + (acknowledged ? sampling.acknowledgedCalls : []))
                    .map { ExcludedCall($0, argumentsKey: template.callFormat.argumentsKey) }
                let first = answer
                (answer, count, calls) = try decode()
                answer.absorb(first)
            }
            parsed = calls
            parts.append(answer)
            promptTokens += count - answer.reusedTokens
            oddsDecision = (constraint?.callProbability, constraint?.callChosen ?? false)
        }
        let last = parts[parts.count - 1]
        // With reasoning, the budget may have left no room for anything after the block.
        let answered = !think || parts.count == 2
        let answerText = answered ? last.text : ""
        var reply = ModelTurn(
            text: blockText + answerText, tokens: parts.flatMap(\.tokens), toolCalls: parsed.calls,
            malformedCalls: parsed.malformed,
            content: reasoning == nil ? parsed.content : (parsed.calls.isEmpty ? answerText : parsed.content),
            stop: answered ? StopReason(last.stop) : .length, promptTokens: promptTokens,
            reusedTokens: parts[0].reusedTokens, prefillSeconds: parts.reduce(0) { $0 + $1.timings.prefillSeconds },
            decodeSeconds: parts.reduce(0) { $0 + $1.timings.decodeSeconds })
        reply.reasoning = reasoning
        reply.reasoningTokens = think ? parts[0].tokens.count : 0
        reply.reasoningLooped = think && parts[0].stop == .constraint
        reply.callProbability = oddsDecision.probability
        reply.callChosen = oddsDecision.chosen
        reply.excludedRepeat = excludedRepeat
        reply.untaggedOpening = untaggedOpening
        reply.decodeSpans = parts.flatMap(\.timings.decodeSpans).map {
            DecodeSpan(position: $0.position, tokens: $0.tokens, seconds: $0.seconds)
        }
        reply.guessSteps = parts.reduce(0) { $0 + $1.timings.guessSteps }
        reply.guessedTokens = parts.reduce(0) { $0 + $1.timings.guessedTokens }
        reply.acceptedGuesses = parts.reduce(0) { $0 + $1.timings.acceptedGuesses }
        return reply
    }

    /// The tag the default model's template wraps the tool list in.
    static let toolListTag = "<tools>"

    /// What a call's values may be copied from: the user's messages and the tools' results.
    static func evidence(_ messages: [Message]) -> String {
        messages.filter { $0.role == .user || $0.role == .tool }.map(\.content).joined(separator: "\n")
    }

    /// The constraint of a thinking block (built once per model, on first use; reset for each block).
    private func thinkingConstraint() -> ThinkingConstraint {
        if let made = thinking {
            made.reset()
            return made
        }
        let made = ThinkingConstraint(trie: vocabularyTrie())
        thinking = made
        return made
    }

    /// A constraint for a new reply: the last one, reset, when the tools and choice are the same.
    private func toolCallConstraint(tools: [ToolDeclaration], choice: ToolChoice) -> ToolCallConstraint {
        if let last = lastConstraint, last.choice == choice, last.tools == tools {
            last.constraint.reset()
            return last.constraint
        }
        let made = ToolCallConstraint(trie: vocabularyTrie(), tools: tools, choice: choice, parallel: parallelCalls,
                                      format: template.callFormat)
        lastConstraint = (tools, choice, made)
        return made
    }

    /// A constraint for a call written after the runtime's tag: kept apart from `lastConstraint`, whose
    /// reply (stopped at its untagged opening) still holds the call odds it measured.
    private func taggedCallConstraint(tools: [ToolDeclaration]) -> ToolCallConstraint {
        if let last = lastTagged, last.tools == tools {
            last.constraint.reset()
            return last.constraint
        }
        let made = ToolCallConstraint(trie: vocabularyTrie(), tools: tools, choice: .auto, parallel: parallelCalls,
                                      format: template.callFormat)
        lastTagged = (tools, made)
        return made
    }

    private func vocabularyTrie() -> TokenTrie { trie.get(tokenizer) }
}

/// A vocabulary trie built on first use and shared by a model and its forks (a batch forks one model per
/// task; each building its own would repeat the same work).
final class SharedTrie: @unchecked Sendable {
    private let lock = NSLock()
    private var trie: TokenTrie?

    func get(_ tokenizer: Tokenizer) -> TokenTrie {
        lock.withLock {
            if let trie { return trie }
            let built = TokenTrie(tokenizer: tokenizer)
            trie = built
            return built
        }
    }
}

extension GenerationResult {
    /// This decode replaced `earlier`, a decode of the same turn that was dropped: the turn's prompt was
    /// processed by the earlier one (its cache reuse is the turn's), and both took time.
    mutating func absorb(_ earlier: GenerationResult) {
        reusedTokens = earlier.reusedTokens
        timings.prefillSeconds += earlier.timings.prefillSeconds
        timings.decodeSeconds += earlier.timings.decodeSeconds
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
