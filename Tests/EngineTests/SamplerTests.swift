@testable import Engine
import Testing

struct SamplerTests {
    func logits(_ values: [Float]) -> [Float] { values }

    func draw(_ p: SamplingParameters, _ values: [Float], history: [Int32] = []) -> Int32 {
        let s = Sampler(parameters: p, vocabSize: values.count)
        var v = values
        return v.withUnsafeMutableBufferPointer { s.sample($0, history: history[...]) }
    }

    /// Samplers sharing one set of buffers, one after another (as a model does across turns), draw what
    /// samplers with their own buffers draw: with and without top-k, over a vocabulary past the radix cut.
    @Test func sharedBuffersDrawTheSame() {
        let n = 5000
        var rng = Xoshiro256(seed: 5)
        let shared = SamplerBuffers(vocabSize: n)
        for (turn, topK) in [0, 40, 3000, 0].enumerated() {
            let p = SamplingParameters(temperature: 0.8, topK: topK, topP: turn == 3 ? 0.9 : 1, seed: UInt64(turn))
            let own = Sampler(parameters: p, vocabSize: n), reused = Sampler(parameters: p, vocabSize: n, buffers: shared)
            var a: [Int32] = [], b: [Int32] = []
            for _ in 0..<20 {
                let values = (0..<n).map { _ in Float(Int(rng.next() % 4001) - 2000) / 300 }
                var v = values, w = values
                a.append(v.withUnsafeMutableBufferPointer { own.sample($0, history: []) })
                b.append(w.withUnsafeMutableBufferPointer { reused.sample($0, history: []) })
            }
            #expect(a == b, "top-k \(topK)")
            #expect(Set(a).count > 3)
        }
    }

    @Test func greedyTakesArgmaxLowestIdOnTies() {
        #expect(draw(.greedy, [0.1, 3, 2, 3]) == 1)
    }

    @Test func seededSamplingIsReproducible() {
        let p = SamplingParameters(temperature: 1, topK: 0, seed: 42)
        let values: [Float] = (0..<100).map { Float($0 % 7) * 0.3 }
        let s1 = Sampler(parameters: p, vocabSize: 100), s2 = Sampler(parameters: p, vocabSize: 100)
        var a: [Int32] = [], b: [Int32] = []
        for _ in 0..<50 {
            var v = values, w = values
            a.append(v.withUnsafeMutableBufferPointer { s1.sample($0, history: []) })
            b.append(w.withUnsafeMutableBufferPointer { s2.sample($0, history: []) })
        }
        #expect(a == b)
        #expect(Set(a).count > 5, "temperature 1 over near-equal logits should vary")
    }

    @Test func topKAndTopPAndMinPRestrictTheChoice() {
        let values: [Float] = [5, 4.9, 4.8, 0, 0, 0, 0, 0]
        for seed in 0..<40 as Range<UInt64> {
            #expect(draw(SamplingParameters(temperature: 2, topK: 2, seed: seed), values) < 2)
            #expect(draw(SamplingParameters(temperature: 1, topK: 0, topP: 0.5, seed: seed), values) < 2)
            #expect(draw(SamplingParameters(temperature: 5, topK: 0, minP: 0.5, seed: seed), values) < 3)
        }
    }

    @Test func repetitionPenaltyDemotesSeenTokens() {
        #expect(draw(SamplingParameters(repetitionPenalty: 2), [2, 1.5, 0], history: [0]) == 1)
        #expect(draw(SamplingParameters(repetitionPenalty: 1), [2, 1.5, 0], history: [0]) == 0)
    }

    @Test func xoshiroIsFixed() {
        var g = Xoshiro256(seed: 1)
        let first = (0..<3).map { _ in g.next() }
        var h = Xoshiro256(seed: 1)
        #expect(first == (0..<3).map { _ in h.next() })
        var k = Xoshiro256(seed: 2)
        #expect(first[0] != k.next())
    }

    /// The radix sort used without top-k orders exactly as the comparator: logit descending, lower id first
    /// on ties, -0 equal to +0, infinities at the ends.
    @Test func radixOrderEqualsComparatorOrder() {
        var rng = Xoshiro256(seed: 99)
        let n = 50_000
        var logits = (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 37 }
        for i in stride(from: 0, to: n, by: 997) { logits[i] = 0 }
        for i in stride(from: 5, to: n, by: 991) { logits[i] = -0.0 }
        logits[7] = .infinity
        logits[8] = -.infinity
        logits[9] = -.infinity
        let ids = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1 << 16)
        defer { ids.deallocate(); keys.deallocate(); scratch.deallocate(); counts.deallocate() }
        for i in 0..<n { ids[i] = Int32(n - 1 - i) }
        logits.withUnsafeBufferPointer { l in
            Sampler.sortByLogit(ids, count: n, logits: l, keys: keys, scratch: scratch, counts: counts)
        }
        let expected = (0..<n).map { Int32($0) }.sorted { a, b in
            let la = logits[Int(a)], lb = logits[Int(b)]
            return la > lb || (la == lb && a < b)
        }
        #expect(Array(UnsafeBufferPointer(start: ids, count: n)) == expected)
        // From ascending ids (no top-k), the key passes alone give the same order.
        for i in 0..<n { ids[i] = Int32(i) }
        logits.withUnsafeBufferPointer { l in
            Sampler.sortByLogit(ids, count: n, logits: l, keys: keys, scratch: scratch, counts: counts, idsAscending: true)
        }
        #expect(Array(UnsafeBufferPointer(start: ids, count: n)) == expected)
    }
}
