import Foundation

/// Prompt-processing and decode speed of a session, as llama-bench measures them: `promptTokens`
/// tokens prefilled from an empty cache, then `genTokens` single-token decode steps (greedy, end of
/// generation ignored). Token ids are drawn from a fixed generator so every run sees the same input.
public struct BenchmarkResult: Sendable {
    public var prefillSeconds: [Double] = []
    public var decodeSeconds: [Double] = []
    /// CPU time of the process (all threads) during each phase: on a loaded machine, tokens per CPU
    /// second at one thread is a load-independent speed figure.
    public var prefillCPUSeconds: [Double] = []
    public var decodeCPUSeconds: [Double] = []
    public let promptTokens: Int
    public let genTokens: Int
    /// With lookup speculation: tokens guessed and guesses that were right, over all runs.
    public var guessedTokens = 0
    public var acceptedGuesses = 0

    public var prefillTokensPerSecond: [Double] { prefillSeconds.map { Double(promptTokens) / $0 } }
    public var decodeTokensPerSecond: [Double] { decodeSeconds.map { Double(genTokens) / $0 } }

    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

public enum Benchmark {
    /// CPU seconds used by this process so far (user + system, all threads).
    public static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Run `repeats` times (after one untimed warm-up of a few tokens).
    /// With `speculation: .lookup` the greedy continuation is the same, decoded with guesses from the
    /// context verified in multi-row passes (as `Generator` does).
    public static func run(session: Session, promptTokens: Int, genTokens: Int, repeats: Int,
                           speculation: Speculation = .off,
                           onRun: ((Int) -> Void)? = nil) throws(EngineError) -> BenchmarkResult {
        var result = BenchmarkResult(promptTokens: promptTokens, genTokens: genTokens)
        var rng = Xoshiro256(seed: 1234)
        let vocab = UInt64(session.model.config.vocabSize)
        let prompt = (0..<max(promptTokens, 1)).map { _ in Int32(truncatingIfNeeded: rng.next() % vocab) }
        session.reset()
        try session.append(Array(prompt.prefix(8)))
        try session.decode(prompt[0])
        for r in 0..<repeats {
            onRun?(r)
            session.reset()
            if promptTokens > 0 {
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = processCPUSeconds()
                try session.append(Array(prompt[..<promptTokens]))
                result.prefillSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                result.prefillCPUSeconds.append(processCPUSeconds() - c0)
            } else {
                try session.append([prompt[0]])
            }
            if genTokens > 0 {
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = processCPUSeconds()
                if speculation == .lookup {
                    try lookupDecode(session: session, count: genTokens, result: &result)
                } else {
                    for _ in 0..<genTokens {
                        let next = Sampler.argmax(UnsafeBufferPointer(session.logits))
                        try session.decode(next)
                    }
                }
                result.decodeSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                result.decodeCPUSeconds.append(processCPUSeconds() - c0)
            }
        }
        return result
    }

    /// `count` greedy tokens fed to the session with lookup guesses (end of generation ignored).
    static func lookupDecode(session: Session, count: Int, result: inout BenchmarkResult) throws(EngineError) {
        var drafter = LookupDrafter(context: session.tokens)
        var policy = GuessPolicy()
        var fed = 0
        while fed < count {
            let next = Sampler.argmax(UnsafeBufferPointer(session.logits))
            drafter.push(next)
            let room = min(session.maxRows - 1, count - fed - 1, GuessPolicy.maxRows - 1)
            let candidates = room > 0 ? drafter.guess(maxCount: room) : []
            let n = policy.length(available: candidates.count)
            let t0 = DispatchTime.now().uptimeNanoseconds
            if n == 0 {
                try session.decode(next)
                fed += 1
            } else {
                let guesses = Array(candidates[..<n])
                try session.appendRows([next] + guesses)
                // Keep the guesses greedy decoding agrees with; cut the session after the first wrong one.
                var right = 0
                while right < n, Sampler.argmax(UnsafeBufferPointer(session.logits(after: session.count - n - 1 + right)!)) == guesses[right] {
                    drafter.push(guesses[right])
                    right += 1
                }
                if right < n { try session.rewind(to: session.count - (n - right)) }
                policy.checked(guessed: n, accepted: right)
                result.guessedTokens += n
                result.acceptedGuesses += right
                fed += 1 + right
            }
            policy.timed(rows: n + 1, elapsed: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
    }
}
