@testable import Engine
import TestSupport
import Testing

/// Runs the dense cache and the sparse cache through the same checks on the fast test model.
/// With L large enough to evict nothing, a sparse layer must be bit-identical to a full one (same keys,
/// same order, same slots); with tiny blocks (B=4, S=1, L=2) eviction happens within a few dozen
/// tokens, so decode, prefill, rewind and KV bytes are checked against the rule on short sequences.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct SparseAttentionTests {
    static let alias = "smollm2-135m-instruct"

    /// Deterministic token ids (any ids exercise the attention path).
    static func tokens(_ n: Int, salt: Int = 0) -> [Int32] {
        (0..<n).map { Int32(100 + ($0 * 7919 + salt * 104_729 + 13) % 20_000) }
    }

    enum Cache: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case dense
        case sparseNoEvictionTinyBlocks
        case sparseNoEvictionDefaultBlocks
        case mixedNoEviction
        var testDescription: String { rawValue }

        func plan(layers: Int) -> AttentionPlan {
            switch self {
            case .dense: return .full(layerCount: layers)
            case .sparseNoEvictionTinyBlocks:
                // 4-token blocks, 1 sink, 100 local: nothing below 404 positions is ever out of reach.
                return AttentionPlan(layers: Array(repeating: .sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 100), count: layers))
            case .sparseNoEvictionDefaultBlocks:
                return AttentionPlan(layers: Array(repeating: .sparseDefault, count: layers))
            case .mixedNoEviction:
                return AttentionPlan(layers: (0..<layers).map { $0 % 2 == 0 ? .full : .sparse(blockSize: 2, sinkBlocks: 3, localBlocks: 60) })
            }
        }
    }

    /// Everything a check observes: logits after prefill, after each decode step, after a rewind +
    /// re-append, and KV bytes at each stage.
    struct Trace: Equatable {
        var logits: [[Float]] = []
        var kvBytes: [Int] = []
        var greedy: [Int32] = []
    }

    static func run(_ cache: Cache, batchSize: Int) throws -> Trace {
        let model = try TestModels.model(alias)
        let s = Session(model: model, threads: 2, plan: cache.plan(layers: model.config.layerCount),
                        batchSize: batchSize, maxLength: 256, initialCapacity: 16)
        var t = Trace()
        let prompt = tokens(70)
        try s.append(prompt)
        t.logits.append(Array(s.logits)); t.kvBytes.append(s.kvBytesUsed)
        for _ in 0..<6 {
            let next = Sampler.argmax(UnsafeBufferPointer(s.logits))
            t.greedy.append(next)
            try s.decode(next)
            t.logits.append(Array(s.logits)); t.kvBytes.append(s.kvBytesUsed)
        }
        // Rewind (no eviction: exact), then a new "turn" appended incrementally.
        try s.rewind(to: 50)
        try s.append(tokens(12, salt: 1))
        t.logits.append(Array(s.logits)); t.kvBytes.append(s.kvBytesUsed)
        #expect(s.reprefillCount == 0)
        // sync to a prompt sharing a prefix reuses it.
        let reused = try s.sync(to: Array(prompt[..<40]) + tokens(9, salt: 2))
        #expect(reused == 40)
        #expect(!s.lastSyncReprefilled)
        t.logits.append(Array(s.logits)); t.kvBytes.append(s.kvBytesUsed)
        return t
    }

    nonisolated(unsafe) static var baselines: [Int: Trace] = [:]

    @Test(arguments: Cache.allCases, [512, 7])
    func sameOutputsAsDense(cache: Cache, batchSize: Int) throws {
        let got = try Self.run(cache, batchSize: batchSize)
        let want: Trace
        if let b = Self.baselines[batchSize] { want = b } else {
            want = try Self.run(.dense, batchSize: batchSize)
            Self.baselines[batchSize] = want
        }
        #expect(got.greedy == want.greedy)
        #expect(got.kvBytes == want.kvBytes)
        #expect(got.logits.count == want.logits.count)
        for (i, (a, b)) in zip(got.logits, want.logits).enumerated() {
            let diffs = zip(a, b).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            #expect(diffs == 0, "\(cache) batch \(batchSize): stage \(i): \(diffs) logits differ from the dense cache")
        }
    }

    static let tiny = AttentionPlan.Mode.sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2)

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Decode (quantized matvec path) and prefill (SGEMM path) see the same keys: their logits agree
    /// as closely as they do under full attention, and both differ from full attention by far more.
    @Test func sparseDecodeMatchesSparsePrefill() throws {
        let model = try TestModels.model(Self.alias)
        let n = model.config.layerCount
        let sparse = AttentionPlan(layers: Array(repeating: Self.tiny, count: n))
        let prompt = Self.tokens(48)
        let checkAt = [9, 23, 31, 47]
        func prefillLogits(_ plan: AttentionPlan, _ p: Int) throws -> [Float] {
            let s = Session(model: model, threads: 2, plan: plan, maxLength: 64)
            try s.append(Array(prompt[...p]))
            return Array(s.logits)
        }
        func decodeLogits(_ plan: AttentionPlan) throws -> [Int: [Float]] {
            let s = Session(model: model, threads: 2, plan: plan, maxLength: 64)
            var out: [Int: [Float]] = [:]
            for (p, t) in prompt.enumerated() {
                try s.decode(t)
                if checkAt.contains(p) { out[p] = Array(s.logits) }
            }
            return out
        }
        let sparseDecode = try decodeLogits(sparse)
        let fullDecode = try decodeLogits(.full(layerCount: n))
        for p in checkAt {
            let sp = try prefillLogits(sparse, p)
            let fp = try prefillLogits(.full(layerCount: n), p)
            let sparsePaths = Self.maxAbsDiff(sp, sparseDecode[p]!)
            let fullPaths = Self.maxAbsDiff(fp, fullDecode[p]!)
            let sparseVsFull = Self.maxAbsDiff(sp, fp)
            print("p=\(p): |sparse prefill - sparse decode| \(sparsePaths), |full prefill - full decode| \(fullPaths), |sparse - full| \(sparseVsFull)")
            #expect(sparsePaths <= max(2 * fullPaths, 0.05), "p=\(p): sparse decode and prefill differ by \(sparsePaths)")
            if p >= 12 { #expect(sparseVsFull > 5 * sparsePaths, "p=\(p): the sparse rule changed the logits by only \(sparseVsFull)") }
            else { #expect(sparseVsFull == 0, "p=\(p) < (S+L-1)*B+... the sparse layer must equal full attention") }
        }
    }

    @Test func kvBytesConstantOnceTheRingIsFull() throws {
        let model = try TestModels.model(Self.alias)
        let n = model.config.layerCount
        let layout = SparseKVLayout(blockSize: 4, sinkBlocks: 1, localBlocks: 2)
        let cap = layout.maxSlots  // (S + L + spare) * B
        let sparse = Session(model: model, threads: 2, plan: AttentionPlan(layers: Array(repeating: Self.tiny, count: n)),
                             maxLength: 512, initialCapacity: 4)
        let mixed = Session(model: model, threads: 2,
                            plan: AttentionPlan(layers: (0..<n).map { $0 % 2 == 0 ? .full : Self.tiny }),
                            maxLength: 512, initialCapacity: 4)
        let full = Session(model: model, threads: 2, maxLength: 512, initialCapacity: 4)
        let perSlot = 2 * 2 * model.config.kvHeadCount * model.config.headDim  // K+V, f16
        var sparseBytes: [Int] = []
        for chunk in [Self.tokens(cap), Self.tokens(40, salt: 1), Self.tokens(150, salt: 2)] {
            try sparse.append(chunk); try mixed.append(chunk); try full.append(chunk)
            sparseBytes.append(sparse.kvBytes)
            #expect(mixed.kvBytesUsed <= full.kvBytesUsed / 2 + n / 2 * cap * perSlot)
            #expect(sparse.kvBytesUsed == n * min(sparse.count, cap) * perSlot)
        }
        #expect(sparseBytes.allSatisfy { $0 == n * cap * perSlot }, "sparse KV bytes \(sparseBytes), want \(n * cap * perSlot) at every length")
        for _ in 0..<20 { try sparse.decode(7) }
        #expect(sparse.kvBytes == n * cap * perSlot)
    }

    @Test func rewindIntoEvictedPositionsReprefillsAndSaysSo() throws {
        let model = try TestModels.model(Self.alias)
        let plan = AttentionPlan(layers: (0..<model.config.layerCount).map { $0 % 3 == 0 ? .full : Self.tiny })
        let prompt = Self.tokens(60)
        let s = Session(model: model, threads: 2, plan: plan, maxLength: 128)
        try s.append(prompt)

        // Keys the continuation of position 20 needs were overwritten: plain rewind refuses.
        #expect(throws: EngineError.rewindPastEviction(position: 20)) { try s.rewind(to: 20) }
        #expect(s.count == 60)
        let reprefilled = try s.rewindOrReprefill(to: 20)
        #expect(reprefilled)
        #expect(s.reprefillCount == 1 && s.lastReprefillTokens == 20 && s.count == 20)
        try s.append(Array(prompt[20..<30]))
        let fresh = Session(model: model, threads: 2, plan: plan, maxLength: 128)
        try fresh.append(Array(prompt[..<20]))
        try fresh.append(Array(prompt[20..<30]))
        #expect(Self.maxAbsDiff(Array(s.logits), Array(fresh.logits)) == 0, "after re-prefill the logits must equal a fresh session's")

        // A short rewind keeps exact K/V: no re-prefill, and re-appending the same tokens in the
        // same batches gives bit-identical logits (K/V of 0..<57 intact although 57..<60 were written).
        try s.append(Array(prompt[30..<57]))
        try s.append(Array(prompt[57..<60]))
        let before = Array(s.logits)
        #expect(try !s.rewindOrReprefill(to: 57))
        #expect(s.reprefillCount == 1 && s.count == 57)
        try s.append(Array(prompt[57..<60]))
        #expect(Self.maxAbsDiff(Array(s.logits), before) == 0)

        // sync into evicted positions starts over and says so.
        try s.sync(to: Array(prompt[..<25]) + Self.tokens(5, salt: 3))
        #expect(s.lastSyncReprefilled)
        #expect(s.reprefillCount == 2)
    }
}
