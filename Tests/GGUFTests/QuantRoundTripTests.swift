import CKernels
import GGUF
import TestSupport
import Testing

/// A supported weight type with the round-trip error it is allowed: RMS(dequant - source) / RMS(source)
/// on Gaussian-like data.
struct QuantCase: Sendable, CustomTestStringConvertible {
    let type: GGMLType
    let maxRelRMSE: Double
    var testDescription: String { type.name }

    // Measured (seeded data, 3 x 512): F16 0.00021, BF16 0.0017, Q8_0 0.0052, Q5_0 0.040, Q5_1 0.036,
    // Q4_0 0.080, Q4_1 0.080, Q6_K 0.017, Q5_K 0.035, Q4_K 0.069; bounds leave ~25% margin.
    static let all: [QuantCase] = [
        .init(type: .f32, maxRelRMSE: 0),
        .init(type: .f16, maxRelRMSE: 0.0003),
        .init(type: .bf16, maxRelRMSE: 0.0025),
        .init(type: .q8_0, maxRelRMSE: 0.0065),
        .init(type: .q5_0, maxRelRMSE: 0.05),
        .init(type: .q5_1, maxRelRMSE: 0.045),
        .init(type: .q4_0, maxRelRMSE: 0.10),
        .init(type: .q4_1, maxRelRMSE: 0.10),
        .init(type: .q6_K, maxRelRMSE: 0.021),
        .init(type: .q5_K, maxRelRMSE: 0.044),
        .init(type: .q4_K, maxRelRMSE: 0.085),
    ]
}

@Suite struct QuantRoundTripTests {
    static let cols = 512, rows = 3

    @Test(arguments: QuantCase.all)
    func roundTripsThroughAGGUFFile(_ c: QuantCase) throws {
        var rng = SplitMix64(seed: UInt64(c.type.rawValue) &+ 7)
        let src = (0..<(Self.cols * Self.rows)).map { _ in rng.gaussian() }
        var w = GGUFWriter()
        w.set("general.architecture", "test")
        // A small F32 tensor first so the quantized one sits at a non-zero, aligned offset.
        try w.addTensor(name: "pad", dims: [3], type: .f32, floats: [1, 2, 3])
        try w.addTensor(name: "w", dims: [Self.cols, Self.rows], type: c.type, floats: src)
        let path = tempPath("rt-\(c.type.name).gguf")
        defer { removeFile(path) }
        try w.write(to: path)

        let f = try GGUFFile(path: path)
        let t = try #require(f.tensor("w"))
        #expect(t.type == c.type)
        #expect(t.dims == [Self.cols, Self.rows])
        #expect(t.rowCount == Self.rows)
        #expect(t.rowBytes == loza_row_bytes(c.type.kernelType, Int64(Self.cols)))
        #expect(t.offset % 32 == 0 && t.offset > f.tensor("pad")!.offset)
        #expect(Array(UnsafeRawBufferPointer(start: f.data(t), count: t.byteCount)) == w.tensors[1].data)

        var err2 = 0.0, ref2 = 0.0
        for r in 0..<Self.rows {
            let deq = f.dequantizeRow(t, r)
            for j in 0..<Self.cols {
                let s = Double(src[r * Self.cols + j])
                err2 += (Double(deq[j]) - s) * (Double(deq[j]) - s)
                ref2 += s * s
            }
        }
        let rel = (err2 / ref2).squareRoot()
        #expect(rel <= c.maxRelRMSE, "\(c.type.name): relative RMSE \(rel)")
        if c.type == .f32 { #expect(err2 == 0) }
    }

    /// The integer dot (activations quantized as llama.cpp does) equals the exact dot of the
    /// dequantized row with the dequantized activations (to float rounding), and stays within 1% of
    /// the f32 reference dot, measured against |w|.|x|.
    @Test(arguments: QuantCase.all)
    func integerDotMatchesReference(_ c: QuantCase) throws {
        let n = 1024
        var rng = SplitMix64(seed: 99 &+ UInt64(c.type.rawValue))
        let wsrc = (0..<n).map { _ in rng.gaussian() }
        let x = (0..<n).map { _ in rng.gaussian() }
        let kt = c.type.kernelType
        var row = [UInt8](repeating: 0, count: loza_row_bytes(kt, Int64(n)))
        loza_quantize_row_ref(kt, wsrc, &row, Int64(n))
        let actType = loza_vec_dot_type(kt)
        var act = [UInt8](repeating: 0, count: loza_row_bytes(actType, Int64(n)))
        loza_quantize_act_ref(kt, x, &act, Int64(n))

        let dot = loza_vec_dot_ref(kt, row, act, Int64(n))
        let ref = loza_vec_dot_f32_ref(kt, row, x, Int64(n))
        var wd = [Float](repeating: 0, count: n), xd = [Float](repeating: 0, count: n)
        loza_dequantize_row_ref(kt, row, &wd, Int64(n))
        loza_dequantize_row_ref(actType, act, &xd, Int64(n))
        var exact = 0.0, absSum = 0.0, wn = 0.0, xn = 0.0
        for i in 0..<n {
            exact += Double(wd[i]) * Double(xd[i])
            absSum += abs(Double(wd[i]) * Double(xd[i]))
            wn += Double(wd[i]) * Double(wd[i])
            xn += Double(x[i]) * Double(x[i])
        }
        // Float rounding of per-block scales and sums only (q4_1/q5_1 use the f16-rounded s = d*sum).
        let roundTol = (c.type == .q4_1 || c.type == .q5_1 ? 2e-3 : 1e-5) * absSum
        #expect(abs(Double(dot) - exact) <= roundTol, "\(c.type.name): int dot \(dot) vs exact \(exact)")
        let scale = (wn * xn).squareRoot()
        #expect(abs(Double(dot) - Double(ref)) <= 0.01 * scale, "\(c.type.name): int dot \(dot) vs f32 dot \(ref)")
        // Deterministic: same bits on every call.
        #expect(loza_vec_dot_ref(kt, row, act, Int64(n)).bitPattern == dot.bitPattern)
    }

    @Test func invalidTypesDoNothing() {
        for bad: Int32 in [-1, 4, 5, 10, 11, 16, 29, 31, 100, 1 << 20] {
            #expect(loza_block_elems(bad) == 0)
            #expect(loza_block_bytes(bad) == 0)
            #expect(loza_row_bytes(bad, 256) == 0)
            #expect(loza_vec_dot_type(bad) == -1)
            var out = [Float](repeating: 7, count: 256)
            let src = [UInt8](repeating: 0xFF, count: 1024)
            loza_dequantize_row_ref(bad, src, &out, 256)
            #expect(out.allSatisfy { $0 == 7 })
            #expect(loza_vec_dot_ref(bad, src, src, 256) == 0)
            #expect(loza_vec_dot_f32_ref(bad, src, out, 256) == 0)
            var dst = [UInt8](repeating: 1, count: 1024)
            loza_quantize_row_ref(bad, out, &dst, 256)
            loza_quantize_act_ref(bad, out, &dst, 256)
            #expect(dst.allSatisfy { $0 == 1 })
        }
        #expect(loza_row_bytes(Int32(GGMLType.q4_K.rawValue), 100) == 0)  // not a whole block
    }

    @Test func blockSizesAgreeWithTheSwiftTable() {
        for t in GGMLType.allCases where t.isSupported || t == .q8_1 || t == .q8_K {
            #expect(Int(loza_block_elems(t.kernelType)) == t.blockElements, "\(t.name)")
            #expect(Int(loza_block_bytes(t.kernelType)) == t.blockBytes, "\(t.name)")
        }
    }

    /// Q8_1 keeps s = d * sum(qs) (f16) and Q8_K keeps the sums of each 16 quants.
    @Test func activationBlocksCarryTheirSums() {
        var rng = SplitMix64(seed: 5)
        let x = (0..<256).map { _ in rng.gaussian() }
        var q81 = [UInt8](repeating: 0, count: 8 * 36)
        loza_quantize_row_ref(Int32(GGMLType.q8_1.rawValue), x, &q81, 256)
        for b in 0..<8 {
            let d = loza_f16_to_f32(UInt16(q81[b * 36]) | UInt16(q81[b * 36 + 1]) << 8)
            let s = loza_f16_to_f32(UInt16(q81[b * 36 + 2]) | UInt16(q81[b * 36 + 3]) << 8)
            let sum = (0..<32).reduce(0) { $0 + Int(Int8(bitPattern: q81[b * 36 + 4 + $1])) }
            // ggml rounds d * sum from the f32 d; d itself is stored rounded to f16.
            #expect(abs(s - Float(sum) * d) <= abs(Float(sum) * d) * 2e-3 + 1e-6, "block \(b)")
        }
        var q8k = [UInt8](repeating: 0, count: 292)
        loza_quantize_row_ref(Int32(GGMLType.q8_K.rawValue), x, &q8k, 256)
        q8k.withUnsafeBytes { p in
            let qs = (0..<256).map { Int(Int8(bitPattern: p[4 + $0])) }
            for j in 0..<16 {
                let bsum = Int(p.loadUnaligned(fromByteOffset: 260 + 2 * j, as: Int16.self))
                #expect(bsum == qs[(16 * j)..<(16 * j + 16)].reduce(0, +))
            }
            #expect(qs.contains(127) || qs.contains(-127))
        }
    }
}
