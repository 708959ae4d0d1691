/// Sampling settings for one generation.
public struct SamplingOptions: Sendable, Hashable {
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var minP: Double
    public var repetitionPenalty: Double
    public var seed: UInt64
    public var maxTokens: Int
    public var stop: [String]
    /// Whether each reply opens with a thinking block (see `Reasoning`). `maxTokens` counts the block too.
    public var reasoning: Reasoning
    /// Tool choice by the model's own odds (`call_threshold`): on a reply to a user message under tool
    /// choice `auto`, when the probability the model gives to opening a tool call with its first token is
    /// at least this, the reply is a call (as under `required`); nil: plain `auto`. A local model applies
    /// it; a remote one cannot see the probabilities and ignores it.
    public var callThreshold: Double?
    /// Calls the reply should not repeat, as the model wrote them (the loop passes the calls that failed
    /// since the last call that worked with a new result; `exclude_failed_repeats`). A local model whose reply repeats one decodes it again
    /// with the call excluded (`ModelTurn.excludedRepeat`); a remote one ignores them. Not part of a spec.
    public var excludedCalls: [ToolCall] = []
    /// Calls already answered for the caller (`declared_calls: collect`), as the model wrote them. A local
    /// model whose reply writes only these again (each of its calls one of them) decodes it again with
    /// them excluded, as for `excludedCalls`; a reply that adds a call of its own is kept. A remote one
    /// ignores them. Not part of a spec.
    public var acknowledgedCalls: [ToolCall] = []

    public init(temperature: Double = 0, topP: Double = 1, topK: Int = 0, minP: Double = 0,
                repetitionPenalty: Double = 1, seed: UInt64 = 0, maxTokens: Int = 512, stop: [String] = [],
                reasoning: Reasoning = .off, callThreshold: Double? = nil) {
        self.reasoning = reasoning
        self.callThreshold = callThreshold
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.maxTokens = maxTokens
        self.stop = stop
    }
}

/// Whether a turn may call tools: `auto` (the model decides), `required` (the turn is a tool call),
/// `none` (the turn is text). A local model enforces it while decoding; a remote one passes it on.
public enum ToolChoice: String, Sendable, Hashable {
    case auto, required, none
}

public enum StopReason: String, Sendable, Hashable {
    /// End of sequence / end of turn token.
    case eos
    /// `maxTokens` reached.
    case length
    /// A stop string was produced.
    case stop
    /// A complete tool call was produced.
    case toolCall = "tool_call"
}

/// One assistant turn produced by a model.
public struct ModelTurn: Sendable, Hashable {
    /// Full text of the turn, including any tool-call markup.
    public var text: String
    /// Token ids generated (empty for remote models that do not expose them).
    public var tokens: [Int32]
    /// Tokens generated as a model counted them without giving ids (a remote server's
    /// `usage.completion_tokens`, or its count of streamed deltas when it reports no usage).
    public var reportedTokenCount: Int?
    public var toolCalls: [ToolCall]
    public var malformedCalls: [MalformedToolCall]
    /// The text outside tool-call markup (the content of the assistant message that carries `toolCalls`,
    /// as `ToolCallParser.finish()` gives it). nil means the same as `text`, right for a turn without calls.
    /// A turn with `reasoning` always has it: the text after the thinking block (outside call markup when
    /// the turn has calls).
    public var content: String?
    /// The reasoning of a turn that opened with a thinking block (without its tags); `text` holds the block
    /// too. nil: the turn had none.
    public var reasoning: String?
    /// Tokens the model wrote inside the thinking block (the first of `tokens`; 0 without reasoning or
    /// when the model does not give token ids).
    public var reasoningTokens = 0
    /// The runtime ended the thinking block because it said the same thing three times in a row.
    public var reasoningLooped = false
    public var stop: StopReason
    /// Tokens of the prompt that had to be processed for this turn (the new suffix only, when the
    /// model reuses its cache), and tokens that were reused from the cache.
    public var promptTokens: Int
    public var reusedTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Decode cost along the context (local models; empty for remote ones and older transcripts).
    public var decodeSpans: [DecodeSpan] = []
    /// Lookup speculation of a local turn: passes run with guesses, tokens guessed, guesses that were
    /// right (all 0 when it was off or never guessed).
    public var guessSteps = 0
    public var guessedTokens = 0
    public var acceptedGuesses = 0
    /// The tool choice the turn was generated under (set by the model from the choice it was asked for;
    /// recorded in the transcript).
    public var toolChoice: ToolChoice = .auto
    /// Under `SamplingOptions.callThreshold`: the probability the model gave to opening a tool call with
    /// the reply's first token (nil when the threshold did not apply), and whether that made the reply a call.
    public var callProbability: Double?
    public var callChosen = false
    /// The reply first repeated this call, one of `SamplingOptions.excludedCalls` (or wrote only
    /// `acknowledgedCalls` again, this the first), and was decoded again with it excluded (nil: it was not).
    public var excludedRepeat: ToolCall?
    /// Under `tag_calls`: the reply opened a call bare or fenced with this text, which was dropped; the call
    /// was written again after the template's tag, which the runtime wrote (nil: it was not). After a thinking
    /// block, the tool list's tag (`<tools>`) that opened a call in the same way (text before it is kept).
    public var untaggedOpening: String?

    public init(text: String, tokens: [Int32] = [], toolCalls: [ToolCall] = [], malformedCalls: [MalformedToolCall] = [],
                content: String? = nil, stop: StopReason, promptTokens: Int = 0, reusedTokens: Int = 0,
                prefillSeconds: Double = 0, decodeSeconds: Double = 0, reportedTokenCount: Int? = nil) {
        self.text = text
        self.reportedTokenCount = reportedTokenCount
        self.content = content
        self.tokens = tokens
        self.toolCalls = toolCalls
        self.malformedCalls = malformedCalls
        self.stop = stop
        self.promptTokens = promptTokens
        self.reusedTokens = reusedTokens
        self.prefillSeconds = prefillSeconds
        self.decodeSeconds = decodeSeconds
    }

    /// Tokens this turn generated, for budgets: the ids when there are any, else the reported count.
    public var generatedTokenCount: Int { tokens.isEmpty ? (reportedTokenCount ?? 0) : tokens.count }

    /// The assistant message for the conversation: `content` with the parsed calls; the whole `text` when
    /// no call parsed (a final answer, or only malformed calls, which the model should see as it wrote them).
    /// With reasoning, the message carries it apart from the text after the block.
    public var assistantMessage: Message {
        if let reasoning {
            return Message(role: .assistant, content: content ?? "", toolCalls: toolCalls, reasoning: reasoning)
        }
        return toolCalls.isEmpty ? .assistant(text) : .assistant(content ?? text, toolCalls: toolCalls)
    }

    /// The reply as an answer: the text after the thinking block when there was one, else the whole text.
    public var answerText: String { reasoning == nil ? text : (content ?? "") }
}

/// What a model reports about itself for transcript headers.
public struct ModelDescription: Sendable, Hashable {
    public var name: String
    /// SHA-256 of the model file (local) or nil (remote).
    public var fileSHA256: String?
    /// SHA-256 of the chat template text, if known.
    public var templateSHA256: String?
    /// Attention mode and layer plan, e.g. "full" or "loza:FSFS...".
    public var attention: String?
    public var endpoint: String?

    public init(name: String, fileSHA256: String? = nil, templateSHA256: String? = nil, attention: String? = nil,
                endpoint: String? = nil) {
        self.name = name
        self.fileSHA256 = fileSHA256
        self.templateSHA256 = templateSHA256
        self.attention = attention
        self.endpoint = endpoint
    }
}

/// A chat model the agent loop drives. The conversation passed on each call is the whole conversation;
/// an incremental implementation keeps its cache for the common prefix and processes only the rest.
public protocol LanguageModel: Sendable {
    var description: ModelDescription { get }
    /// Generate the next assistant turn under `toolChoice` (whether it may, must or must not call one of
    /// `tools`; OpenAI's `tool_choice`), which the turn carries as its `toolChoice`. `onText` receives text
    /// as it streams.
    func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                 onText: @Sendable (String) -> Void) async throws -> ModelTurn
}
