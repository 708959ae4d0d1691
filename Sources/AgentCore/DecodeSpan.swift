/// Decode cost at one place of a trace: `tokens` decode steps that started at context `position` and took
/// `seconds` of wall time (sampling and the constraint included). A local model's turn records one span per
/// 64 steps, so a run shows whether its per-token cost stays flat as the context grows.
public struct DecodeSpan: Sendable, Hashable {
    public var position: Int
    public var tokens: Int
    public var seconds: Double

    public init(position: Int, tokens: Int, seconds: Double) {
        self.position = position
        self.tokens = tokens
        self.seconds = seconds
    }

    public var msPerToken: Double { tokens > 0 ? seconds * 1000 / Double(tokens) : 0 }
}
