@testable import Engine
import TestSupport
import Testing

/// Plans that give each KV head of a layer its own mode (`AttentionPlan.Mode.heads`): the plan string,
/// the forward pass against the float reference with the per-head mask, decode against prefill past
/// the ring wrap, batched decode rows, rewinds into a mixed layer and KV bytes. With tiny blocks
/// (B=4, S=1, L=2: the ring wraps every 16 positions) eviction happens within a few dozen tokens.
struct PerHeadPlanTests {
    static let tiny = AttentionPlan.Mode.sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2)
    static let tinyRule = SparseKVLayout(blockSize: 4, sinkBlocks: 1, localBlocks: 2)

    static func tokens(_ n: Int, salt: Int = 0) -> [Int32] {
        (0..<n).map { Int32(100 + ($0 * 7919 + salt * 104_729 + 13) % 20_000) }
    }

    static func bits(_ a: UnsafeMutableBufferPointer<Float>) -> [UInt32] { a.map(\.bitPattern) }

    @Test func planStringsWithBracketedHeads() throws {
        let p = try #require(AttentionPlan(planString: "F[FS]S[SS]", blockSize: 4, sinkBlocks: 1, localBlocks: 2))
        #expect(p.layers == [.full, .heads([.full, Self.tiny]), Self.tiny, .heads([Self.tiny, Self.tiny])])
        #expect(p.planString == "F[FS]S[SS]")
        #expect(p.sparseCount == 3)
        #expect(p.sparseHeadCount(kvHeads: 2) == 1 + 2 + 2)
        #expect(p.fits(kvHeads: 2) && !p.fits(kvHeads: 3))
        #expect(p.layers[1].mode(ofHead: 1, kvHeads: 2) == Self.tiny && p.layers[2].mode(ofHead: 0, kvHeads: 2) == Self.tiny)
        for bad in ["F[", "F[]S", "[F[S]]", "F]S", "[FX]", "[]"] {
            #expect(AttentionPlan(planString: bad) == nil, "\(bad)")
        }
        // A per-layer plan string reads as before: one mode per layer, no per-head layer.
        let shipped = try #require(AttentionPlan(planString: "SSSSSSFSSFFFFFSFFSSSFFFF"))
        #expect(shipped.layers.allSatisfy { $0 == .full || $0 == .sparseDefault })
        #expect(shipped.sparseHeadCount(kvHeads: 2) == 2 * shipped.sparseCount)
        // And a plan file holds a per-head plan in its `plan` string.
        let f = LoZAPlanFile(model: nil, model_sha256: "ab", plan: "[FS]F", block_size: 4, sink_blocks: 1,
                             local_blocks: 2, ratio: 0.25, calibration: nil)
        #expect(try LoZAPlanFile.decode(f.encoded(), source: "x").attentionPlan?.layers == [.heads([.full, Self.tiny]), .full])
    }

    /// The engine's logits (decode one token at a time, and prefill in batches of 5) against the naive
    /// f32 forward pass whose softmax hides, per KV head, exactly what that head's mode hides.
    @Test(arguments: ["qwen2", "llama"])
    func mixedLayersMatchTheReferenceWithThePerHeadMask(arch: String) throws {
        let tiny = try TinyModel(arch: arch, nEmbd: 96, nHead: 6, nHeadKV: 3, matrixType: .f32, tiedOutput: false, seed: 11)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        let plan = AttentionPlan(layers: [.heads([.full, Self.tiny, Self.tiny]), .heads([Self.tiny, .full, .full])])
        let sparseHead: [[Bool]] = [[false, true, true], [true, false, false]]
        let tokens: [Int32] = (0..<40).map { Int32(($0 * 37 + 11) % 80) }
        let ref = tiny.referenceLogits(tokens, visible: { layer, head, s, p in
            !sparseHead[layer][head] || Self.tinyRule.isVisible(key: s, query: p)
        })
        let dense = tiny.referenceLogits(tokens)
        let decoded = Session(model: model, threads: 2, plan: plan)
        for (i, t) in tokens.enumerated() {
            try decoded.append([t])
            let err = relativeError(UnsafeBufferPointer(decoded.logits), ref[i])
            #expect(err < 0.01, "decode position \(i): relative error \(err)")
            if i >= 20 {
                // Past the ring wrap the mask matters: the dense reference is far off.
                let off = relativeError(UnsafeBufferPointer(decoded.logits), dense[i])
                print("position \(i): relative error \(err) against the masked reference, \(off) against the dense one")
                #expect(off > 3 * err, "position \(i): \(off) from dense, \(err) from the masked reference")
            }
        }
        let batched = Session(model: model, threads: 2, plan: plan, batchSize: 5)
        try batched.append(tokens)
        let err = relativeError(UnsafeBufferPointer(batched.logits), ref.last!)
        #expect(err < TinyModelTests.prefillTolerance, "prefill: relative error \(err)")
    }

    /// On the real test model (3 KV heads): a layer whose heads are all sparse is the per-layer sparse
    /// layer bit for bit, and all heads full is full attention bit for bit, through prefill (batches
    /// cut by the ring), decode, decode rows, a rewind and a re-append past the ring wrap.
    @Test(.requiresModel(RealModels.smol))
    func uniformPerHeadLayersAreBitIdenticalToPerLayerModes() throws {
        let model = try TestModels.model("smollm2-135m-instruct")
        let n = model.config.layerCount, kv = model.config.kvHeadCount
        let perLayer = AttentionPlan(layers: (0..<n).map { $0 % 3 == 1 ? .full : Self.tiny })
        let perHead = AttentionPlan(layers: (0..<n).map {
            .heads(Array(repeating: $0 % 3 == 1 ? .full : Self.tiny, count: kv))
        })
        func trace(_ plan: AttentionPlan) throws -> [[UInt32]] {
            let s = Session(model: model, threads: 2, plan: plan, batchSize: 9, maxLength: 256, initialCapacity: 8)
            var out: [[UInt32]] = []
            try s.append(Self.tokens(70))
            out.append(Self.bits(s.logits))
            for t in Self.tokens(5, salt: 1) { try s.decode(t); out.append(Self.bits(s.logits)) }
            let rows = Array(Self.tokens(8, salt: 2).prefix(s.maxRows))
            try s.appendRows(rows)
            for i in 0..<rows.count { out.append(s.logits(after: s.count - rows.count + i).map(Self.bits) ?? []) }
            try s.rewind(to: s.count - 2)
            try s.append(Self.tokens(3, salt: 3))
            out.append(Self.bits(s.logits))
            return out
        }
        let want = try trace(perLayer)
        #expect(try trace(perHead) == want)
        let fullPerHead = AttentionPlan(layers: Array(repeating: .heads(Array(repeating: .full, count: kv)), count: n))
        #expect(try trace(fullPerHead) == trace(.full(layerCount: n)))
    }

    /// A mixed plan (in every layer one head full, the others sparse): decode one token at a time, decode
    /// rows and prefill agree past the ring wrap; rows and one-at-a-time decode bit for bit.
    @Test(.requiresModel(RealModels.smol))
    func decodePrefillAndRowsAgreeOnMixedLayers() throws {
        let model = try TestModels.model("smollm2-135m-instruct")
        let n = model.config.layerCount, kv = model.config.kvHeadCount
        let mixed = AttentionPlan(layers: (0..<n).map { l in .heads((0..<kv).map { $0 == l % kv ? .full : Self.tiny }) })
        let prompt = Self.tokens(60)
        let oneByOne = Session(model: model, threads: 2, plan: mixed, maxLength: 128)
        let inRows = Session(model: model, threads: 2, plan: mixed, maxLength: 128)
        var decoded: [Int: [UInt32]] = [:]
        for (p, t) in prompt.enumerated() {
            try oneByOne.decode(t)
            decoded[p] = Self.bits(oneByOne.logits)
        }
        var p = 0
        while p < prompt.count {
            let k = min(inRows.maxRows, prompt.count - p)
            #expect(k >= 1)
            try inRows.appendRows(Array(prompt[p..<p + k]))
            for i in 0..<k { #expect(inRows.logits(after: p + i).map(Self.bits) == decoded[p + i], "row at \(p + i)") }
            p += k
        }
        // Prefill (SGEMM path) sees the same keys: its logits agree with decode's as closely as they do
        // under full attention, and both differ from full attention by far more.
        let full = AttentionPlan.full(layerCount: n)
        let fullDecode = Session(model: model, threads: 2, plan: full, maxLength: 128)
        var fullDecoded: [Int: [Float]] = [:]
        for (p, t) in prompt.enumerated() {
            try fullDecode.decode(t)
            fullDecoded[p] = Array(fullDecode.logits)
        }
        for at in [31, 47, 59] {
            let pre = Session(model: model, threads: 2, plan: mixed, batchSize: 16, maxLength: 128)
            try pre.append(Array(prompt[...at]))
            let fullPre = Session(model: model, threads: 2, plan: full, maxLength: 128)
            try fullPre.append(Array(prompt[...at]))
            let paths = SparseAttentionTests.maxAbsDiff(Array(pre.logits), decoded[at]!.map { Float(bitPattern: $0) })
            let fullPaths = SparseAttentionTests.maxAbsDiff(Array(fullPre.logits), fullDecoded[at]!)
            let vsFull = SparseAttentionTests.maxAbsDiff(Array(pre.logits), Array(fullPre.logits))
            print("p=\(at): |mixed prefill - mixed decode| \(paths), |full prefill - full decode| \(fullPaths), |mixed - full| \(vsFull)")
            #expect(paths <= max(2 * fullPaths, 0.05), "position \(at): mixed prefill and decode differ by \(paths)")
            #expect(vsFull > 5 * paths, "position \(at): the sparse heads changed the logits by only \(vsFull)")
        }
    }

    /// Rewinding into a mixed layer: refused once a sparse head evicted what the rewound query needs
    /// (although the full heads still hold it), exact within the ring; the re-prefill equals a fresh
    /// session. KV bytes: full heads grow with the timeline, sparse heads stop at sink + ring.
    @Test(.requiresModel(RealModels.smol))
    func rewindAndBytesOfMixedLayers() throws {
        let model = try TestModels.model("smollm2-135m-instruct")
        let n = model.config.layerCount, kv = model.config.kvHeadCount, hd = model.config.headDim
        let plan = AttentionPlan(layers: (0..<n).map { _ in .heads((0..<kv).map { $0 == 0 ? .full : Self.tiny }) })
        let prompt = Self.tokens(60)
        let s = Session(model: model, threads: 2, plan: plan, maxLength: 128)
        try s.append(prompt)
        let perSlot = 2 * 2 * hd
        let cap = Self.tinyRule.maxSlots
        #expect(s.kvBytesUsed == n * (60 + (kv - 1) * cap) * perSlot)

        #expect(throws: EngineError.rewindPastEviction(position: 20)) { try s.rewind(to: 20) }
        #expect(try s.rewindOrReprefill(to: 20))
        try s.append(Array(prompt[20..<30]))
        let fresh = Session(model: model, threads: 2, plan: plan, maxLength: 128)
        try fresh.append(Array(prompt[..<20]))
        try fresh.append(Array(prompt[20..<30]))
        #expect(Self.bits(s.logits) == Self.bits(fresh.logits))

        try s.append(Array(prompt[30..<57]))
        try s.append(Array(prompt[57..<60]))
        let before = Self.bits(s.logits)
        #expect(try !s.rewindOrReprefill(to: 57))
        try s.append(Array(prompt[57..<60]))
        #expect(Self.bits(s.logits) == before)
    }
}
