#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sampling settings. Temperature 0 means greedy (argmax, lowest id on ties).
public struct SamplingParameters: Sendable, Equatable, Codable {
    public var temperature: Float = 0
    /// Keep the k most likely tokens (0 = no limit).
    public var topK: Int = 40
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = no limit).
    public var topP: Float = 1
    /// Drop tokens whose probability is below minP times the best one's (0 = off).
    public var minP: Float = 0
    /// Divide positive logits (multiply negative ones) of recently seen tokens by this (1 = off).
    public var repetitionPenalty: Float = 1
    /// How many of the last tokens the penalty looks at.
    public var repetitionWindow: Int = 64
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 40, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    public static let greedy = SamplingParameters()
}

/// Scratch memory of a `Sampler`, sized for a vocabulary. Every sample overwrites what it reads, so one set
/// can serve sampler after sampler (a model keeps one across turns instead of faulting in 3.6 MB of fresh
/// pages for each reply's first token).
public final class SamplerBuffers {
    public let vocabSize: Int
    let ids: UnsafeMutablePointer<Int32>
    let probs: UnsafeMutablePointer<Float>
    /// Radix-sort buffers: (logit key, id) pairs, their copy, and one pass's digit counts.
    let keys: UnsafeMutablePointer<UInt64>
    let keysScratch: UnsafeMutablePointer<UInt64>
    let digitCounts: UnsafeMutablePointer<Int>

    public init(vocabSize: Int) {
        self.vocabSize = vocabSize
        ids = .allocate(capacity: vocabSize)
        probs = .allocate(capacity: vocabSize)
        keys = .allocate(capacity: vocabSize)
        keysScratch = .allocate(capacity: vocabSize)
        digitCounts = .allocate(capacity: 1 << 16)
    }

    deinit {
        ids.deallocate()
        probs.deallocate()
        keys.deallocate()
        keysScratch.deallocate()
        digitCounts.deallocate()
    }
}

/// Picks the next token from logits. Order: repetition penalty -> (greedy if temperature 0) -> top-k ->
/// temperature softmax -> top-p -> min-p -> draw with the seeded generator. Buffers are allocated once
/// for the vocabulary (or passed in); sampling allocates nothing.
public final class Sampler {
    public let parameters: SamplingParameters
    private var rng: Xoshiro256
    private let buffers: SamplerBuffers
    private let ids: UnsafeMutablePointer<Int32>
    private let probs: UnsafeMutablePointer<Float>
    private let vocab: Int
    private let keys: UnsafeMutablePointer<UInt64>
    private let keysScratch: UnsafeMutablePointer<UInt64>
    private let digitCounts: UnsafeMutablePointer<Int>

    /// - buffers: scratch to use (its vocabulary size must be `vocabSize`); nil allocates a new set.
    public init(parameters: SamplingParameters, vocabSize: Int, buffers: SamplerBuffers? = nil) {
        precondition(buffers == nil || buffers!.vocabSize == vocabSize, "sampler buffers sized for another vocabulary")
        self.parameters = parameters
        rng = Xoshiro256(seed: parameters.seed)
        vocab = vocabSize
        let b = buffers ?? SamplerBuffers(vocabSize: vocabSize)
        self.buffers = b
        ids = b.ids
        probs = b.probs
        keys = b.keys
        keysScratch = b.keysScratch
        digitCounts = b.digitCounts
    }

    /// Index of the largest logit (lowest index on ties).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return Int32(best)
    }

    /// Sample the next token. `logits` is modified (penalties); `history` is the timeline so far.
    public func sample(_ logits: UnsafeMutableBufferPointer<Float>, history: ArraySlice<Int32>) -> Int32 {
        let p = parameters
        precondition(logits.count == vocab)
        if p.repetitionPenalty != 1 && p.repetitionPenalty > 0 {
            // Penalize each distinct recent token once.
            let recent = history.suffix(max(0, p.repetitionWindow))
            for (j, t) in recent.enumerated() {
                let id = Int(t)
                guard id >= 0 && id < vocab else { continue }
                if recent.prefix(j).contains(t) { continue }
                logits[id] = logits[id] > 0 ? logits[id] / p.repetitionPenalty : logits[id] * p.repetitionPenalty
            }
        }
        if p.temperature <= 0 { return Self.argmax(UnsafeBufferPointer(logits)) }

        // Candidates sorted by logit, descending (ties by id), cut to top-k.
        var n = vocab
        for i in 0..<vocab { ids[i] = Int32(i) }
        let k = p.topK > 0 ? min(p.topK, vocab) : vocab
        let idBuf = UnsafeMutableBufferPointer(start: ids, count: vocab)
        let before: (Int32, Int32) -> Bool = { a, b in
            let la = logits[Int(a)], lb = logits[Int(b)]
            return la > lb || (la == lb && a < b)
        }
        if k < vocab {
            partialTop(idBuf, k: k, by: before)
            n = k
        }
        if n > 2048 {
            // No top-k: the whole vocabulary in order. A comparison sort of 150K ids took a fifth of a
            // sampled agent run; the radix sort gives exactly the same order.
            Self.sortByLogit(ids, count: n, logits: UnsafeBufferPointer(logits), keys: keys,
                             scratch: keysScratch, counts: digitCounts, idsAscending: k == vocab)
        } else {
            var head = UnsafeMutableBufferPointer(start: ids, count: n)
            head.sort(by: before)
        }

        // Softmax at temperature.
        let maxLogit = logits[Int(ids[0])]
        var sum: Double = 0
        for i in 0..<n {
            let e = expf((logits[Int(ids[i])] - maxLogit) / p.temperature)
            probs[i] = e
            sum += Double(e)
        }
        for i in 0..<n { probs[i] = Float(Double(probs[i]) / sum) }

        if p.topP < 1 {
            var acc: Float = 0
            var keep = n
            for i in 0..<n {
                acc += probs[i]
                if acc >= p.topP { keep = i + 1; break }
            }
            n = max(1, keep)
        }
        if p.minP > 0 {
            let floor = probs[0] * p.minP
            var keep = 1
            while keep < n && probs[keep] >= floor { keep += 1 }
            n = keep
        }
        var total: Double = 0
        for i in 0..<n { total += Double(probs[i]) }
        let r = rng.nextUnit() * total
        var acc: Double = 0
        for i in 0..<n {
            acc += Double(probs[i])
            if r < acc { return ids[i] }
        }
        return ids[n - 1]
    }

    /// Sorts `ids[0..<n]` by logit, descending, ties by lower id first (the order of `sample`'s
    /// comparator, with -0 equal to +0) by an LSD radix sort of 64-bit (order key of the logit, id) pairs
    /// in four 16-bit passes. With `idsAscending` (ids[0..<n] already in ascending order, as without top-k)
    /// only the two passes over the logit key run: the sort is stable, so ties keep the ascending id order
    /// the two id passes would give them, at half the cost. Buffers: `keys` and `scratch` of n, `counts` of 65536.
    static func sortByLogit(_ ids: UnsafeMutablePointer<Int32>, count n: Int, logits: UnsafeBufferPointer<Float>,
                            keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>,
                            counts: UnsafeMutablePointer<Int>, idsAscending: Bool = false) {
        for i in 0..<n {
            let id = ids[i]
            var f = logits[Int(id)]
            if f == 0 { f = 0 }  // -0 and +0 compare equal: one key
            let b = f.bitPattern
            let ascending = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
            keys[i] = UInt64(~ascending) << 32 | UInt64(UInt32(bitPattern: id))
        }
        var src = keys, dst = scratch
        for pass in (idsAscending ? 2 : 0)..<4 {
            let shift = UInt64(16 * pass)
            counts.update(repeating: 0, count: 1 << 16)
            for i in 0..<n { counts[Int((src[i] >> shift) & 0xFFFF)] += 1 }
            var offset = 0
            for d in 0..<(1 << 16) {
                let c = counts[d]
                counts[d] = offset
                offset += c
            }
            for i in 0..<n {
                let d = Int((src[i] >> shift) & 0xFFFF)
                dst[counts[d]] = src[i]
                counts[d] += 1
            }
            swap(&src, &dst)
        }
        for i in 0..<n { ids[i] = Int32(truncatingIfNeeded: src[i] & 0xFFFF_FFFF) }
    }

    /// Move the k best elements (by `before`) to the front, in any order (quickselect, deterministic pivots).
    private func partialTop(_ a: UnsafeMutableBufferPointer<Int32>, k: Int, by before: (Int32, Int32) -> Bool) {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let pivot = a[lo + (hi - lo) / 2]
            var i = lo, j = hi
            while i <= j {
                while before(a[i], pivot) { i += 1 }
                while before(pivot, a[j]) { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { return }
        }
    }
}
