/// Why generation ended.
public enum GenerationStop: String, Sendable, Codable {
    case eos         // the model produced an end-of-generation token
    case length      // max tokens reached (or the session's context is full)
    case stop        // a stop string appeared
    case constraint  // the token constraint's text is complete (`TokenConstraint.mustEnd`)
}

/// Wall-clock figures of one generation.
public struct GenerationTimings: Sendable, Equatable, Codable {
    public var prefillTokens = 0
    public var prefillSeconds = 0.0
    public var decodeTokens = 0
    public var decodeSeconds = 0.0
    /// Decode cost along the context: consecutive spans of up to `DecodeSpans.length` tokens, each with the
    /// context position its first token was decoded at and the wall time of its steps (sampling included).
    public var decodeSpans: [DecodeSpanTiming] = []
    /// Lookup speculation: multi-row steps run with guesses, tokens guessed, and guesses that were right.
    public var guessSteps = 0
    public var guessedTokens = 0
    public var acceptedGuesses = 0

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(prefillTokens) / prefillSeconds : 0 }
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeTokens) / decodeSeconds : 0 }
}

public struct GenerationResult: Sendable, Equatable {
    /// Generated token ids (the end-of-generation token is not included; the token that completed a stop
    /// string is).
    public var tokens: [Int32]
    /// Their text, cut before a stop string when one ended generation.
    public var text: String
    public var promptTokens: Int
    /// Prompt tokens taken from the session's cache instead of being computed.
    public var reusedTokens: Int
    public var stop: GenerationStop
    public var timings: GenerationTimings
}

/// One span of decode steps: `tokens` steps starting at context `position`, taking `seconds`.
public struct DecodeSpanTiming: Sendable, Equatable, Codable {
    public var position: Int
    public var tokens: Int
    public var seconds: Double

    public init(position: Int, tokens: Int, seconds: Double) {
        self.position = position
        self.tokens = tokens
        self.seconds = seconds
    }

    /// Steps per span: fine enough to see the cost move along a long trace, coarse enough that a
    /// transcript line of a 10K-token turn stays short (about 160 spans).
    public static let length = 64
}
