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
    public static func run(session: Session, promptTokens: Int, genTokens: Int, repeats: Int,
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
                for _ in 0..<genTokens {
                    let next = Sampler.argmax(UnsafeBufferPointer(session.logits))
                    try session.decode(next)
                }
                result.decodeSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                result.decodeCPUSeconds.append(processCPUSeconds() - c0)
            }
        }
        return result
    }
}
