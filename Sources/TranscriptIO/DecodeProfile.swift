import AgentCore

/// Decode cost against context position over a whole run: the recorded decode spans of every model turn,
/// gathered into bins of equal width, and the cost at the start and at the end of the trace.
public struct DecodeProfile: Sendable, Hashable {
    public struct Bin: Sendable, Hashable {
        /// First context position of the bin.
        public var position: Int
        public var tokens: Int
        public var seconds: Double
        public var msPerToken: Double { tokens > 0 ? seconds * 1000 / Double(tokens) : 0 }
    }

    /// Positions per bin: a multiple of 128 that gives at most `maxBins` bins over the decoded range.
    public var binWidth: Int
    public var bins: [Bin]
    /// ms/token over the first and the last tenth of the decoded tokens (by position; at least one span each).
    public var startMsPerToken: Double
    public var endMsPerToken: Double
    public var firstPosition: Int
    public var lastPosition: Int

    public static let maxBins = 32

    /// nil when no turn recorded decode spans (remote models, transcripts written before spans existed).
    public init?(_ transcript: Transcript) {
        var spans: [DecodeSpan] = []
        for e in transcript.events {
            if case .modelTurn(_, let t) = e.event { spans += t.decodeSpans }
        }
        self.init(spans: spans)
    }

    public init?(spans unsorted: [DecodeSpan]) {
        let spans = unsorted.filter { $0.tokens > 0 }.sorted { $0.position < $1.position }
        guard let first = spans.first, let last = spans.last else { return nil }
        firstPosition = first.position
        lastPosition = last.position + last.tokens
        let range = max(1, lastPosition - firstPosition)
        let unit = 128
        binWidth = unit * max(1, (range + unit * Self.maxBins - 1) / (unit * Self.maxBins))
        var byBin: [Int: Bin] = [:]
        for s in spans {
            let start = s.position / binWidth * binWidth
            byBin[start, default: Bin(position: start, tokens: 0, seconds: 0)].tokens += s.tokens
            byBin[start]!.seconds += s.seconds
        }
        bins = byBin.values.sorted { $0.position < $1.position }

        let total = spans.reduce(0) { $0 + $1.tokens }
        func cost<S: Sequence>(_ seq: S) -> Double where S.Element == DecodeSpan {
            var tokens = 0, seconds = 0.0
            for s in seq {
                tokens += s.tokens
                seconds += s.seconds
                if tokens * 10 >= total { break }
            }
            return tokens > 0 ? seconds * 1000 / Double(tokens) : 0
        }
        startMsPerToken = cost(spans)
        endMsPerToken = cost(spans.reversed())
    }

    /// End over start: 1 when the cost stays flat as the context grows.
    public var endToStart: Double { startMsPerToken > 0 ? endMsPerToken / startMsPerToken : 0 }

    public var json: JSONValue {
        func r(_ d: Double) -> JSONValue { .double((d * 1000).rounded() / 1000) }
        return [
            "first_position": .int(Int64(firstPosition)), "last_position": .int(Int64(lastPosition)),
            "start_ms_per_token": r(startMsPerToken), "end_ms_per_token": r(endMsPerToken), "end_to_start": r(endToStart),
            "bin_tokens": .int(Int64(binWidth)),
            "bins": .array(bins.map { ["position": .int(Int64($0.position)), "tokens": .int(Int64($0.tokens)),
                                       "ms_per_token": r($0.msPerToken)] }),
        ]
    }
}
