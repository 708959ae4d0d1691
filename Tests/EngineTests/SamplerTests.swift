import Engine
import Testing

struct SamplerTests {
    func logits(_ values: [Float]) -> [Float] { values }

    func draw(_ p: SamplingParameters, _ values: [Float], history: [Int32] = []) -> Int32 {
        let s = Sampler(parameters: p, vocabSize: values.count)
        var v = values
        return v.withUnsafeMutableBufferPointer { s.sample($0, history: history[...]) }
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
}
