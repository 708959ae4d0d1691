import Foundation
import Tokenizer

/// Why generation ended.
public enum GenerationStop: String, Sendable, Codable {
    case eos      // the model produced an end-of-generation token
    case length   // max tokens reached
    case stop     // a stop string appeared
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
    /// Generated token ids (the end-of-generation token is not included).
    public var tokens: [Int32]
    /// Their text, cut before a stop string when one ended generation.
    public var text: String
    public var promptTokens: Int
    /// Prompt tokens taken from the session's cache instead of being computed.
    public var reusedTokens: Int
    public var stop: GenerationStop
    public var timings: GenerationTimings
}

/// Runs a prompt through a `Session` and samples a continuation, streaming text as it is decoded.
public final class Generator {
    public let session: Session
    public let tokenizer: Tokenizer

    public init(session: Session, tokenizer: Tokenizer) {
        self.session = session
        self.tokenizer = tokenizer
    }

    /// Generate up to `maxTokens` tokens after `prompt` (which reuses whatever prefix the session already
    /// holds). `onText` receives text as soon as it is complete UTF-8 and cannot be the start of a stop
    /// string; `progress(done, total)` reports prompt processing.
    public func generate(prompt: [Int32], parameters: SamplingParameters, maxTokens: Int,
                         stopStrings: [String] = [], progress: ((Int, Int) -> Void)? = nil,
                         onText: (String) -> Void = { _ in }) throws(EngineError) -> GenerationResult {
        let sampler = Sampler(parameters: parameters, vocabSize: session.model.config.vocabSize)
        var timings = GenerationTimings()
        let t0 = Date()
        let reused = try session.sync(to: prompt, progress: progress)
        timings.prefillSeconds = Date().timeIntervalSince(t0)
        timings.prefillTokens = prompt.count - reused

        var out: [Int32] = []
        var text = ""
        var emitted = text.startIndex
        var stop = GenerationStop.length
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        let stops = stopStrings.filter { !$0.isEmpty }
        let decodeStart = Date()
        var decodeSteps = 0

        generation: while out.count < maxTokens {
            let next = sampler.sample(session.logits, history: session.tokens[...])
            if tokenizer.isEndOfGeneration(next) { stop = .eos; break }
            out.append(next)
            text += decoder.push(next)
            if !stops.isEmpty, let cut = Self.firstStop(in: text, from: emitted, stops: stops) {
                text = String(text[..<cut])
                if emitted < text.endIndex { onText(String(text[emitted...])) }
                emitted = text.endIndex
                stop = .stop
                break generation
            }
            let safe = stops.isEmpty ? text.endIndex : Self.safeEnd(of: text, from: emitted, stops: stops)
            if emitted < safe {
                onText(String(text[emitted..<safe]))
                emitted = safe
            }
            if out.count == maxTokens { break }
            try session.decode(next)
            decodeSteps += 1
        }
        if stop != .stop {
            text += decoder.flush()
            if emitted < text.endIndex { onText(String(text[emitted...])) }
        }
        timings.decodeSeconds = Date().timeIntervalSince(decodeStart)
        timings.decodeTokens = decodeSteps
        return GenerationResult(tokens: out, text: text, promptTokens: prompt.count, reusedTokens: reused,
                                stop: stop, timings: timings)
    }

    /// Where the earliest stop string starts in `text` at or after `from` (emitted text never ends
    /// inside a possible start of a stop string, see `safeEnd`, so no stop begins before `from`).
    static func firstStop(in text: String, from: String.Index, stops: [String]) -> String.Index? {
        var best: String.Index?
        for s in stops {
            if let r = text.range(of: s, range: from..<text.endIndex), best == nil || r.lowerBound < best! {
                best = r.lowerBound
            }
        }
        return best
    }

    /// The end of the text that can be shown: up to the start of the longest suffix that is a proper
    /// prefix of some stop string.
    static func safeEnd(of text: String, from: String.Index, stops: [String]) -> String.Index {
        var end = text.endIndex
        var i = from
        while i < text.endIndex {
            let tail = text[i...]
            if stops.contains(where: { $0.hasPrefix(tail) }) { end = i; break }
            i = text.index(after: i)
        }
        return end
    }
}
