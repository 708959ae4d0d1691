@testable import Engine
import Testing

/// The sparse layout against brute-force evaluation of the SSA rule (Docs/ARCHITECTURE.md, LoZA) at every
/// (p, s), and against a simulated slot store written in batches as prefill does.
struct SparseKVLayoutTests {
    struct Params: CustomTestStringConvertible, Sendable {
        var b: Int, s: Int, l: Int, spare: Int, length: Int
        var testDescription: String { "B=\(b) S=\(s) L=\(l) spare=\(spare) to \(length)" }
        var layout: SparseKVLayout { SparseKVLayout(blockSize: b, sinkBlocks: s, localBlocks: l, spareBlocks: spare) }
    }

    static let params: [Params] = [
        Params(b: 4, s: 1, l: 2, spare: 0, length: 96),
        Params(b: 4, s: 1, l: 2, spare: 2, length: 96),
        Params(b: 4, s: 0, l: 1, spare: 0, length: 64),
        Params(b: 3, s: 2, l: 3, spare: 1, length: 90),
        Params(b: 1, s: 1, l: 1, spare: 0, length: 40),
        Params(b: 8, s: 1, l: 7, spare: 2, length: 300),
        Params(b: 128, s: 1, l: 7, spare: 2, length: 2600),
    ]

    /// The rule, written out literally.
    static func rule(_ s: Int, _ p: Int, _ x: Params) -> Bool {
        s <= p && (s < x.s * x.b || (s / x.b) >= (p / x.b) - (x.l - 1))
    }

    @Test(arguments: params)
    func keySpansMatchTheRuleEverywhere(x: Params) {
        let layout = x.layout
        for p in 0..<x.length {
            let spans = layout.keySpans(forQuery: p)
            #expect(spans.count <= 4)
            var seen: [Int] = []
            for i in 0..<spans.count {
                let span = spans[i]
                for j in 0..<span.count {
                    seen.append(span.start + j)
                    if span.slot + j != layout.slot(forPosition: span.start + j) {
                        Issue.record("\(x) p=\(p): span slot \(span.slot + j) for key \(span.start + j), layout says \(layout.slot(forPosition: span.start + j))")
                        return
                    }
                }
            }
            let want = (0...p).filter { Self.rule($0, p, x) }
            if seen != want {
                Issue.record("\(x) p=\(p): keys \(seen) but the rule gives \(want)")
                return
            }
            if p >= x.s * x.b + x.l * x.b { #expect(spans.keyCount <= (x.s + x.l) * x.b) }
        }
        // The defaults: full attention below 1024, then between 897 and 1024 keys.
        if x.b == 128 && x.s == 1 && x.l == 7 {
            for p in 0..<1024 { #expect(layout.keySpans(forQuery: p).keyCount == p + 1) }
            for p in 1024..<x.length {
                let n = layout.keySpans(forQuery: p).keyCount
                #expect(n >= 897 && n <= 1024, "p=\(p): \(n) keys")
            }
        }
    }

    /// Write positions in batches of `batch` (cut to maxBatch) into a simulated store; after each batch
    /// every query of the batch must find each visible key in its slot, and the store never exceeds
    /// slotsNeeded. Rewinds: canRewind must agree with whether query n still finds its keys below n.
    @Test(arguments: params, [1, 5, 512])
    func batchedWritesNeverClobberVisibleKeys(x: Params, batch: Int) {
        let layout = x.layout
        var owner = [Int](repeating: -1, count: layout.maxSlots)
        var length = 0
        var batches = 0
        while length < x.length {
            let n = min(batch, layout.maxBatch(at: length), x.length - length)
            #expect(n >= 1)
            let cap = layout.slotsNeeded(forLength: length + n)
            #expect(cap <= (x.s + x.l + x.spare) * x.b)
            for p in length..<length + n {
                let slot = layout.slot(forPosition: p)
                #expect(slot < cap)
                owner[slot] = p
            }
            for p in length..<length + n {
                let spans = layout.keySpans(forQuery: p)
                for i in 0..<spans.count {
                    for j in 0..<spans[i].count where owner[spans[i].slot + j] != spans[i].start + j {
                        Issue.record("\(x) batch \(batch): query \(p) lost key \(spans[i].start + j) (slot holds \(owner[spans[i].slot + j]))")
                        return
                    }
                }
            }
            length += n
            batches += 1
            if x.b <= 8 {
                for r in 0..<length {
                    let spans = layout.keySpans(forQuery: r)
                    var intact = true
                    for i in 0..<spans.count {
                        for j in 0..<spans[i].count where spans[i].start + j < r && owner[spans[i].slot + j] != spans[i].start + j {
                            intact = false
                        }
                    }
                    if layout.canRewind(from: length, to: r) != intact {
                        Issue.record("\(x): canRewind(from: \(length), to: \(r)) = \(!intact), keys intact: \(intact)")
                        return
                    }
                }
            }
        }
        if batch == 512 && x.b == 128 {
            // The spare blocks let prefill run in batches of at least (spare+1)*B - (B-1).
            #expect(batches <= (x.length + 256) / 256 + 1)
        }
    }

    @Test func planStrings() throws {
        let plan = try #require(AttentionPlan(planString: "FSFS", blockSize: 4, sinkBlocks: 1, localBlocks: 2))
        #expect(plan.planString == "FSFS")
        #expect(plan.sparseCount == 2)
        #expect(plan.layers[1] == .sparse(blockSize: 4, sinkBlocks: 1, localBlocks: 2))
        #expect(AttentionPlan(planString: "FSX") == nil)
        #expect(AttentionPlan(planString: "") == nil)
        #expect(AttentionPlan(planString: "S", blockSize: 0) == nil)
    }
}
