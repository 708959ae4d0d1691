import Engine
import Foundation
import TestSupport
import Testing

/// The multi-row decode (`Session.appendRows`) against decoding the same tokens one at a time: the same
/// logits bit for bit at every row, full attention and LoZA (past the sparse layers' ring wrap), and
/// rewinds into the rows keep the logits of the kept token.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct DecodeRowsTests {
    static let alias = "smollm2-135m-instruct"

    static func tokens() throws -> [Int32] {
        let fixture = try EngineFixture.load(alias)
        return try #require(fixture.cases.first { $0.name == "long_prose" }).prompt_tokens
    }

    /// Bit equality, with a short report (not 49K floats) when it fails.
    static func same(_ a: UnsafeMutableBufferPointer<Float>, _ b: [Float]) -> Bool {
        guard a.count == b.count else { return false }
        var first = -1, most: Float = 0
        for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern {
            if first < 0 { first = i }
            most = max(most, abs(a[i] - b[i]))
        }
        if first >= 0 { print("logits differ from index \(first), max |diff| \(most)") }
        return first < 0
    }

    static func check(plan: AttentionPlan?, prefix: Int, rows: Int) throws {
        let model = try TestModels.model(Self.alias)
        var all = try Self.tokens()
        while all.count < prefix + rows { all += all }
        let head = Array(all[..<prefix]), tail = Array(all[prefix..<prefix + rows])

        let one = Session(model: model, threads: 2, plan: plan, batchSize: 64)
        try one.append(head)
        var reference: [[Float]] = []
        for t in tail {
            try one.decode(t)
            reference.append(Array(one.logits))
        }

        let multi = Session(model: model, threads: 2, plan: plan, batchSize: 64)
        try multi.append(head)
        #expect(multi.maxRows >= rows)
        try multi.appendRows(tail)
        #expect(multi.count == prefix + rows && multi.hasLogits)
        let last = Self.same(multi.logits, reference[rows - 1])
        #expect(last, "last row differs from decode")
        for k in stride(from: rows - 1, through: 1, by: -1) {
            try multi.rewind(to: prefix + k)
            #expect(multi.hasLogits)
            let row = Self.same(multi.logits, reference[k - 1])
            #expect(row, "row \(k - 1) differs from decode")
        }
        // Decoding on after a rewind into the rows equals plain decoding.
        #expect(multi.count == prefix + 1)
        try multi.decode(tail[1])
        let after = Self.same(multi.logits, reference[1])
        #expect(after, "decode after a rewind into the rows differs")
        try multi.rewind(to: prefix)
        #expect(!multi.hasLogits)
    }

    @Test func rowsEqualDecodeFullAttention() throws {
        try Self.check(plan: nil, prefix: 40, rows: 9)
    }

    @Test func rowsEqualDecodeLoZAPastTheRing() throws {
        let model = try TestModels.model(Self.alias)
        let n = model.config.layerCount
        let plan = AttentionPlan(layers: (0..<n).map { $0 % 2 == 0 ? .full : .sparse(blockSize: 16, sinkBlocks: 1, localBlocks: 2) })
        // 16-token blocks, ring of 4: the rows cross a block edge after the ring has wrapped.
        try Self.check(plan: plan, prefix: 125, rows: 12)
    }
}

/// What one multi-row pass costs against one decode step, by rows (default model, 2 threads, 1K
/// context): the cost model lookup speculation's guess length rests on. Prints medians of 5.
@Suite(.serialized, .requiresModel(RealModels.qwen), .benchmark)
struct DecodeRowsBench {
    @Test func passCostByRows() throws {
        let model = try TestModels.model(RealModels.qwen)
        var prompt = try DecodeRowsTests.tokens()
        while prompt.count < 1024 { prompt += prompt }
        prompt = Array(prompt[..<1024])
        let s = Session(model: model, threads: 2)
        try s.append(prompt)
        func median(_ f: () throws -> Void) rethrows -> Double {
            var t: [Double] = []
            for _ in 0..<5 {
                let t0 = Date()
                try f()
                t.append(Date().timeIntervalSince(t0) * 1000)
            }
            return t.sorted()[2]
        }
        let one = try median { try s.decode(1); try s.rewind(to: 1024) }
        print("decode: \(String(format: "%.2f", one)) ms")
        for rows in [2, 3, 4, 5, 6, 8, 10, 12, 16] {
            let ms = try median { try s.appendRows(Array(prompt[..<rows])); try s.rewind(to: 1024) }
            print("rows \(rows): \(String(format: "%.2f", ms)) ms, \(String(format: "%.2f", ms / one))x a decode, \(String(format: "%.2f", ms / one / Double(rows)))x per row")
        }
    }
}
