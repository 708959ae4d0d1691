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
    /// A cancelled task (or a set `cancellation`) stops between prefill batches or between tokens with
    /// `EngineError.cancelled` (the session then holds what was processed so far; the next generation
    /// reuses it).
    public func generate(prompt: [Int32], parameters: SamplingParameters, maxTokens: Int,
                         stopStrings: [String] = [], constraint: (any TokenConstraint)? = nil,
                         speculation: Speculation = .off,
                         cancellation: CancellationFlag? = nil,
                         progress: ((Int, Int) -> Void)? = nil,
                         onText: (String) -> Void = { _ in }) throws(EngineError) -> GenerationResult {
        var timings = GenerationTimings()
        let t0 = Date()
        let reused = try session.sync(to: prompt, progress: progress, cancellation: cancellation)
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
        var pending = 0
        func closeSpan() {
            guard spanSteps > 0 else { return }
            let now = Date()
            timings.decodeSpans.append(DecodeSpanTiming(position: spanPosition, tokens: spanSteps,
                                                        seconds: now.timeIntervalSince(spanStart)))
            spanStart = now
            spanPosition = session.count - pending
            spanSteps = 0
        }

        // Lookup speculation: after a sampled token, guess what follows it from the context and feed
        // the token and its guesses as one multi-row step; each guess is then checked by sampling the
        // logits of the row before it exactly as plain decoding would (same draws), and the session is
        // cut back after the first wrong one. `pending`: guesses in the session past the current row.
        // `GuessPolicy` picks how many to feed (none when they do not pay).
        var drafter = speculation == .lookup ? LookupDrafter(context: session.tokens) : nil
        var policy = GuessPolicy()
        var pendingGuesses: [Int32] = []
        var unfedGuess: Int32?

        // With a batch, the other sessions' passes include this one's steps from here on.
        session.beginDecoding()
        defer { session.endDecoding() }
        while out.count < budget {
            if Task.isCancelled || cancellation?.isCancelled == true { throw .cancelled }
            let logits = pending > 0 ? session.logits(after: session.count - pending - 1)! : session.logits
            constraint?.constrain(logits: logits)
            let next = sampler.sample(logits, history: session.tokens[..<(session.count - pending)])
            if let g = unfedGuess {
                policy.checked(guessed: 1, accepted: g == next ? 1 : 0)
                unfedGuess = nil
            }
            if tokenizer.isEndOfGeneration(next) { stop = .eos; break }
            constraint?.advance(next)
            out.append(next)
            let piece = decoder.push(next)
            if !piece.isEmpty && emit(piece) { stop = .stop; break }
            if constraint?.mustEnd == true { stop = .constraint; break }
            if out.count == budget { break }
            if pending > 0 {
                if pendingGuesses[pendingGuesses.count - pending] == next {
                    // The guess was right: its logits are already computed.
                    pending -= 1
                    timings.acceptedGuesses += 1
                    drafter?.push(next)
                    decodeSteps += 1
                    spanSteps += 1
                    if spanSteps == DecodeSpanTiming.length { closeSpan() }
                    continue
                }
                policy.checked(guessed: pendingGuesses.count, accepted: pendingGuesses.count - pending)
                try session.rewind(to: session.count - pending)
                pending = 0
            } else if !pendingGuesses.isEmpty {
                policy.checked(guessed: pendingGuesses.count, accepted: pendingGuesses.count)
            }
            pendingGuesses.removeAll(keepingCapacity: true)
            // While other sessions of a batch decode, the pass already shares its weight reads with
            // their rows: no guesses (the policy's costs are those of this session alone).
            let alone = !session.othersDecoding
            if drafter != nil {
                drafter!.push(next)
                let room = alone ? min(session.maxRows - 1, budget - out.count - 1, GuessPolicy.maxRows - 1) : 0
                if room > 0 {
                    let candidates = drafter!.guess(maxCount: room)
                    let n = policy.length(available: candidates.count)
                    if n > 0 { pendingGuesses.append(contentsOf: candidates[..<n]) } else { unfedGuess = candidates.first }
                }
            }
            let passStart = DispatchTime.now().uptimeNanoseconds
            if pendingGuesses.isEmpty {
                try session.decode(next)
            } else {
                try session.appendRows([next] + pendingGuesses)
                pending = pendingGuesses.count
                timings.guessedTokens += pendingGuesses.count
                timings.guessSteps += 1
            }
            if drafter != nil && alone {
                policy.timed(rows: pendingGuesses.count + 1,
                             elapsed: Double(DispatchTime.now().uptimeNanoseconds - passStart) / 1e9)
            }
            decodeSteps += 1
            spanSteps += 1
            if spanSteps == DecodeSpanTiming.length { closeSpan() }
        }
        // Guesses past the last kept token leave the session as plain decoding would.
        if pending > 0 { try session.rewind(to: session.count - pending) }
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
