import AgentCore

/// Figures of a recorded run: steps, tokens and speed, prompt reuse, tool-call health.
public struct TranscriptStats: Sendable, Hashable {
    public var steps = 0
    public var generatedTokens = 0
    public var decodeSeconds = 0.0
    public var prefillSeconds = 0.0
    /// Prompt tokens processed (new suffixes) and reused from the cache, over all turns.
    public var promptTokens = 0
    public var reusedTokens = 0
    /// Prefill seconds of the first turn, and the median over later turns (time to first token, roughly).
    public var firstPrefillSeconds: Double?
    public var laterPrefillMedianSeconds: Double?
    public var toolCalls = 0
    public var recoveredCalls = 0
    public var malformedCalls = 0
    /// Calls answered by the runtime without running a tool (malformed, unknown tool, invalid arguments).
    public var rejectedCalls = 0
    public var failedToolResults = 0
    /// Lookup speculation over all turns: passes with guesses, tokens guessed, guesses right.
    public var guessSteps = 0
    public var guessedTokens = 0
    public var acceptedGuesses = 0

    public init(_ transcript: Transcript) {
        var later: [Double] = []
        for e in transcript.events {
            switch e.event {
            case .modelTurn(_, let t):
                steps += 1
                generatedTokens += t.tokens.count
                decodeSeconds += t.decodeSeconds
                prefillSeconds += t.prefillSeconds
                promptTokens += t.promptTokens
                reusedTokens += t.reusedTokens
                guessSteps += t.guessSteps
                guessedTokens += t.guessedTokens
                acceptedGuesses += t.acceptedGuesses
                if firstPrefillSeconds == nil { firstPrefillSeconds = t.prefillSeconds } else { later.append(t.prefillSeconds) }
            case .toolCall(_, let c):
                toolCalls += 1
                if c.recovered { recoveredCalls += 1 }
            case .malformedCall:
                toolCalls += 1
                malformedCalls += 1
            case .toolResult(_, let r, let dispatched):
                // A declared call the loop acknowledged (`declared_calls: collect`) was neither run nor refused.
                if r.metadata[DeclaredCallsMode.metadataKey] != nil { break }
                if !dispatched { rejectedCalls += 1 } else if !r.ok { failedToolResults += 1 }
            default: break
            }
        }
        if !later.isEmpty {
            let sorted = later.sorted()
            laterPrefillMedianSeconds = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }

    public var decodeTokensPerSecond: Double? { decodeSeconds > 0 ? Double(generatedTokens) / decodeSeconds : nil }

    public var json: JSONValue {
        func num(_ d: Double?) -> JSONValue { d.map { .double(($0 * 10000).rounded() / 10000) } ?? .null }
        return [
            "steps": .int(Int64(steps)), "generated_tokens": .int(Int64(generatedTokens)),
            "decode_s": num(decodeSeconds), "decode_tok_s": num(decodeTokensPerSecond),
            "prefill_s": num(prefillSeconds), "prompt_tokens": .int(Int64(promptTokens)), "reused_tokens": .int(Int64(reusedTokens)),
            "first_prefill_s": num(firstPrefillSeconds), "later_prefill_median_s": num(laterPrefillMedianSeconds),
            "tool_calls": .int(Int64(toolCalls)), "recovered_calls": .int(Int64(recoveredCalls)),
            "malformed_calls": .int(Int64(malformedCalls)), "rejected_calls": .int(Int64(rejectedCalls)),
            "failed_tool_results": .int(Int64(failedToolResults)),
            "speculation": [
                "steps": .int(Int64(guessSteps)), "guessed": .int(Int64(guessedTokens)), "accepted": .int(Int64(acceptedGuesses)),
                "acceptance": guessedTokens > 0 ? num(Double(acceptedGuesses) / Double(guessedTokens)) : .null,
            ],
        ]
    }
}
