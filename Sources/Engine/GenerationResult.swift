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
