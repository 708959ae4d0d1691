import Foundation
import Tokenizer

/// The decode loop: runs a prompt through a `Session` and samples a continuation token by token,
/// streaming its text. Every generation goes through here (`loza generate`, and each agent turn of the
/// local model), so they agree on stop strings, constraints and cancellation.
///
/// Each step: stop if the task is cancelled, let the constraint mask the logits, draw a token, stop at an
/// end-of-generation token, feed the token to the constraint, stream the text that can no longer be part
/// of a stop string, stop at a stop string or when the constraint's text is complete, decode the token.
/// The sampler's scratch is kept across generations (a fresh one costs milliseconds in page faults on
/// its first draw).
public final class Generator {
    public let session: Session
    public let tokenizer: Tokenizer
    private let samplerBuffers: SamplerBuffers

    public init(session: Session, tokenizer: Tokenizer) {
        self.session = session
        self.tokenizer = tokenizer
        samplerBuffers = SamplerBuffers(vocabSize: session.model.config.vocabSize)
    }

    /// Generate up to `maxTokens` tokens (fewer when the session's context fills) after `prompt`, which
    /// reuses whatever prefix the session already holds. `onText` receives text as soon as it is complete
    /// UTF-8 and can no longer be part of a stop string; `progress(done, total)` reports prompt processing.
    /// A cancelled task stops between prefill batches or between tokens with `EngineError.cancelled`
    /// (the session then holds what was processed so far; the next generation reuses it).
    public func generate(prompt: [Int32], parameters: SamplingParameters, maxTokens: Int,
                         stopStrings: [String] = [], constraint: (any TokenConstraint)? = nil,
                         progress: ((Int, Int) -> Void)? = nil,
                         onText: (String) -> Void = { _ in }) throws(EngineError) -> GenerationResult {
        var timings = GenerationTimings()
        let t0 = Date()
        let reused = try session.sync(to: prompt, progress: progress)
        timings.prefillSeconds = Date().timeIntervalSince(t0)
        timings.prefillTokens = prompt.count - reused

        let sampler = Sampler(parameters: parameters, vocabSize: session.model.config.vocabSize, buffers: samplerBuffers)
        let budget = max(0, min(maxTokens, session.maxLength - session.count))
        var out: [Int32] = []
        var text = ""
        var stop = GenerationStop.length
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var filter = StopStringFilter(stops: stopStrings)
        func emit(_ piece: String) -> Bool {
            let (released, stopped) = filter.push(piece)
            if !released.isEmpty {
                text += released
                onText(released)
            }
            return stopped
        }
        let decodeStart = Date()
        var decodeSteps = 0
        var spanStart = decodeStart
        var spanPosition = session.count
        var spanSteps = 0
        func closeSpan() {
            guard spanSteps > 0 else { return }
            let now = Date()
            timings.decodeSpans.append(DecodeSpanTiming(position: spanPosition, tokens: spanSteps,
                                                        seconds: now.timeIntervalSince(spanStart)))
            spanStart = now
            spanPosition = session.count
            spanSteps = 0
        }

        while out.count < budget {
            if Task.isCancelled { throw .cancelled }
            let logits = session.logits
            constraint?.constrain(logits: logits)
            let next = sampler.sample(logits, history: session.tokens[...])
            if tokenizer.isEndOfGeneration(next) { stop = .eos; break }
            constraint?.advance(next)
            out.append(next)
            let piece = decoder.push(next)
            if !piece.isEmpty && emit(piece) { stop = .stop; break }
            if constraint?.mustEnd == true { stop = .constraint; break }
            if out.count == budget { break }
            try session.decode(next)
            decodeSteps += 1
            spanSteps += 1
            if spanSteps == DecodeSpanTiming.length { closeSpan() }
        }
        closeSpan()
        if stop != .stop {
            if emit(decoder.flush()) {
                stop = .stop
            } else {
                let held = filter.flush()
                if !held.isEmpty {
                    text += held
                    onText(held)
                }
            }
        }
        timings.decodeSeconds = Date().timeIntervalSince(decodeStart)
        timings.decodeTokens = decodeSteps
        return GenerationResult(tokens: out, text: text, promptTokens: prompt.count, reusedTokens: reused,
                                stop: stop, timings: timings)
    }
}
