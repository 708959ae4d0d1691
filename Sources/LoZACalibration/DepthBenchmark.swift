import Engine
import Foundation

/// Decode speed and KV size as the context grows: the timeline is prefilled incrementally to each
/// depth (in increasing order; `prefillSeconds` of a depth is the total prefill time from 0 to it),
/// then `genTokens` tokens are decoded `repeats` times (rewinding in between) and the median
/// milliseconds per token is kept. Token ids come from a fixed generator.
public struct DepthResult: Sendable {
    public var depth: Int
    public var prefillSeconds: Double
    public var decodeMsPerToken: Double
    public var decodeRuns: [Double]
    /// K/V bytes the timeline occupies at depth + genTokens (what each layer's layout needs).
    public var kvBytes: Int
    /// Process CPU time (user + system, all threads) for the same work: robust on a shared machine.
    public var prefillCPUSeconds: Double
    public var decodeCPUMsPerToken: Double
}

public enum DepthBenchmark {
    public static func run(session: Session, depths: [Int], genTokens: Int, repeats: Int,
                           onProgress: ((String) -> Void)? = nil) throws(EngineError) -> [DepthResult] {
        try run(sessions: [session], depths: depths, genTokens: genTokens, repeats: repeats, onProgress: onProgress)[0]
    }

    /// The same measurement for several sessions (e.g. LoZA and full attention of one model) in one
    /// process: at each depth every session is prefilled in turn, then the decode runs alternate between
    /// the sessions (repeat r visits them in order when r is even, in reverse when odd), so a slow spell
    /// of a shared machine lands on all of them alike instead of on whichever was measured then.
    /// Returns one row list per session, in the order given.
    public static func run(sessions: [Session], depths: [Int], genTokens: Int, repeats: Int,
                           onProgress: ((String) -> Void)? = nil) throws(EngineError) -> [[DepthResult]] {
        let sorted = depths.sorted()
        guard let deepest = sorted.last, let first = sessions.first else { return sessions.map { _ in [] } }
        var rng = Xoshiro256(seed: 1234)
        let vocab = UInt64(first.model.config.vocabSize)
        let prompt = (0..<deepest).map { _ in Int32(truncatingIfNeeded: rng.next() % vocab) }
        let n = sessions.count
        for s in sessions { s.reset() }
        var prefill = [Double](repeating: 0, count: n), prefillCPU = [Double](repeating: 0, count: n)
        var results: [[DepthResult]] = Array(repeating: [], count: n)
        for d in sorted {
            for (i, session) in sessions.enumerated() where d > session.count {
                onProgress?("prefill \(session.count) -> \(d)" + (n > 1 ? " (session \(i + 1)/\(n))" : ""))
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Benchmark.processCPUSeconds()
                try session.append(Array(prompt[session.count..<d]))
                prefill[i] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                prefillCPU[i] += Benchmark.processCPUSeconds() - c0
            }
            var runs = [[Double]](repeating: [], count: n), cpuRuns = [[Double]](repeating: [], count: n)
            for r in 0..<repeats {
                for k in 0..<n {
                    let i = r % 2 == 0 ? k : n - 1 - k
                    let session = sessions[i]
                    onProgress?("depth \(d): decode run \(r + 1)/\(repeats)" + (n > 1 ? " (session \(i + 1)/\(n))" : ""))
                    let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Benchmark.processCPUSeconds()
                    for _ in 0..<genTokens {
                        let next = Sampler.argmax(UnsafeBufferPointer(session.logits))
                        try session.decode(next)
                    }
                    runs[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(max(genTokens, 1)))
                    cpuRuns[i].append((Benchmark.processCPUSeconds() - c0) * 1000 / Double(max(genTokens, 1)))
                    if r == repeats - 1 {
                        results[i].append(DepthResult(depth: d, prefillSeconds: prefill[i],
                                                      decodeMsPerToken: BenchmarkResult.median(runs[i]),
                                                      decodeRuns: runs[i], kvBytes: session.kvBytesUsed,
                                                      prefillCPUSeconds: prefillCPU[i],
                                                      decodeCPUMsPerToken: BenchmarkResult.median(cpuRuns[i])))
                    }
                    // Back to depth d (a short rewind: within every ring), re-running its last token for logits.
                    try session.rewindOrReprefill(to: d - 1)
                    try session.append([prompt[d - 1]])
                }
            }
        }
        return results
    }
}
