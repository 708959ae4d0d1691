import CKernels
import TestSupport
import Testing

/// Every SIMD variant against its scalar reference, at every ISA level this CPU has (forced down with
/// loza_isa_set so the AVX2 path is covered on an AVX-512 machine). Serialized: the level is global.
///
/// Tolerances: activation quantization and dequantization must match the reference bit for bit
/// (integer parts, same float operations). Dot products keep each block's integer sum exact but
/// accumulate the scaled blocks in a different order (8 float lanes, fma), so they may differ from
/// the reference by float rounding: |simd - ref| <= 1e-5 * sum |w_i * a_i|.
@Suite(.serialized) struct QuantizedDotTests {
    static let relTolerance = 1e-5

    @Test(arguments: weightTypes)
    func vecDotMatchesReference(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0001 ^ UInt64(type))
        for blocks in [1, 3, 7, 19, 131] {  // 131: past the 64-block preparation chunks of vec_dot
            let n = oddLength(type, blocks: blocks)
            let rows = 3
            let w = quantizedRows(type, rows: rows, n: n, rng: &rng)
            let act = referenceActivations(type, rng.values(n))
            let rowBytes = Int(loza_row_bytes(type, Int64(n)))
            for r in 0..<rows {
                w.withUnsafeBytes { wb in
                    act.withUnsafeBytes { ab in
                        let row = wb.baseAddress! + r * rowBytes
                        let ref = loza_vec_dot_ref(type, row, ab.baseAddress!, Int64(n))
                        let bound = Self.relTolerance * absDotBound(type, row: row, act: act, n: n)
                        for isa in isaLevels {
                            let got = withISA(isa) { loza_vec_dot(type, row, ab.baseAddress!, Int64(n)) }
                            #expect(abs(Double(got) - Double(ref)) <= bound,
                                    "\(name) \(isaName(isa)) n=\(n) row \(r): \(got) vs reference \(ref)")
                        }
                    }
                }
            }
        }
    }

    /// matvec over any row range gives, for each row, exactly the bits of vec_dot on that row (rows
    /// processed several at a time run the same per-row instructions), and the same bits run to run.
    @Test(arguments: weightTypes)
    func matvecRowsEqualVecDotBitForBit(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0002 ^ UInt64(type))
        for blocks in [5, 67] {
            Self.checkMatvecAgainstVecDot(name, type, n: oddLength(type, blocks: blocks), rows: 11, rng: &rng)
        }
    }

    /// Rows longer than the kernels' activation preparation buffer (4096 blocks of 32) take the row-by-row
    /// path of matvec; it must agree with vec_dot bit for bit and with the reference within tolerance.
    @Test(arguments: weightTypes.filter { loza_block_elems(ktype($0.1)) == 32 })
    func longRowsTakeTheRowByRowPath(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0007 ^ UInt64(type))
        let n = 32 * 4099
        Self.checkMatvecAgainstVecDot(name, type, n: n, rows: 2, rng: &rng)
        let w = quantizedRows(type, rows: 1, n: n, rng: &rng)
        let act = referenceActivations(type, rng.values(n))
        w.withUnsafeBytes { wb in
            act.withUnsafeBytes { ab in
                let ref = loza_vec_dot_ref(type, wb.baseAddress!, ab.baseAddress!, Int64(n))
                let bound = Self.relTolerance * absDotBound(type, row: wb.baseAddress!, act: act, n: n)
                for isa in isaLevels {
                    let got = withISA(isa) { loza_vec_dot(type, wb.baseAddress!, ab.baseAddress!, Int64(n)) }
                    #expect(abs(Double(got) - Double(ref)) <= bound, "\(name) \(isaName(isa)) n=\(n)")
                }
            }
        }
    }

    static func checkMatvecAgainstVecDot(_ name: String, _ type: Int32, n: Int, rows: Int, rng: inout SplitMix64) {
        let w = quantizedRows(type, rows: rows, n: n, rng: &rng)
        let act = referenceActivations(type, rng.values(n))
        let rowBytes = Int(loza_row_bytes(type, Int64(n)))
        for isa in isaLevels {
            withISA(isa) {
                w.withUnsafeBytes { wb in
                    act.withUnsafeBytes { ab in
                        let single = (0..<rows).map {
                            loza_vec_dot(type, wb.baseAddress! + $0 * rowBytes, ab.baseAddress!, Int64(n)).bitPattern
                        }
                        for (r0, r1) in [(0, rows), (1, rows), (0, rows / 2), (rows / 2, rows), (rows - 1, rows)] {
                            var y = [Float](repeating: .nan, count: rows)
                            for _ in 0..<2 {  // twice: run-to-run identity
                                loza_matvec(type, wb.baseAddress!, rowBytes, ab.baseAddress!, &y, Int64(r0), Int64(r1), Int64(n))
                                for r in r0..<r1 {
                                    #expect(y[r].bitPattern == single[r], "\(name) \(isaName(isa)) n=\(n) rows \(r0)..<\(r1) row \(r)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Activation quantizers: identical bytes to the reference at every level.
    @Test(arguments: [("Q8_0 (for Q4_0)", LOZA_TYPE_Q4_0), ("Q8_1 (for Q4_1)", LOZA_TYPE_Q4_1), ("Q8_K (for Q4_K)", LOZA_TYPE_Q4_K)])
    func quantizeActMatchesReferenceExactly(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0003 ^ UInt64(type))
        for blocks in [1, 5, 19] {
            var x = rng.values(Int(loza_block_elems(loza_vec_dot_type(type))) * blocks)
            // Edge cases: exact halves (roundf ties away from zero), a zero block, tiny values.
            for i in 0..<min(32, x.count) { x[i] = Float(i) - 15.5 }
            if blocks > 1 {
                let be = Int(loza_block_elems(loza_vec_dot_type(type)))
                for i in be..<(2 * be) { x[i] = 0 }
            }
            if blocks > 2 { x[x.count - 1] = 1e-30; x[x.count - 2] = -3e-7 }
            let ref = referenceActivations(type, x)
            for isa in isaLevels {
                var got = [UInt8](repeating: 0xAA, count: ref.count)
                withISA(isa) { got.withUnsafeMutableBytes { loza_quantize_act(type, x, $0.baseAddress!, Int64(x.count)) } }
                #expect(got == ref, "\(name) \(isaName(isa)) blocks=\(blocks)")
            }
        }
    }

    /// Dequantizers: identical floats to the reference at every level, for every weight type.
    @Test(arguments: weightTypes)
    func dequantizeMatchesReferenceExactly(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0004 ^ UInt64(type))
        let n = oddLength(type, blocks: 9)
        let w = quantizedRows(type, rows: 1, n: n, rng: &rng)
        var ref = [Float](repeating: 0, count: n)
        w.withUnsafeBytes { loza_dequantize_row_ref(type, $0.baseAddress!, &ref, Int64(n)) }
        for isa in isaLevels {
            var got = [Float](repeating: .nan, count: n)
            withISA(isa) { w.withUnsafeBytes { loza_dequantize_row(type, $0.baseAddress!, &got, Int64(n)) } }
            #expect(got.map(\.bitPattern) == ref.map(\.bitPattern), "\(name) \(isaName(isa))")
        }
    }

    /// The f32 / f16 helpers of attention against their scalar level: dot products within 1e-5 of
    /// sum |a_i b_i|; axpy within one rounding of |a x_i| + |y_i| (fma rounds once, scalar twice).
    @Test func attentionHelpersMatchScalar() {
        var rng = SplitMix64(seed: 0x5eed_0005)
        for n in [1, 7, 64, 131, 1000] {
            let a = rng.values(n), b = rng.values(n)
            let h = a.map { loza_f32_to_f16($0) }
            let hf = h.map { loza_f16_to_f32($0) }
            let alpha: Float = 0.37
            let absAB = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            let absHB = zip(hf, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            let (dot0, dotH0, axpy0, axpyH0) = withISA(0) { Self.helpers(a, b, h, alpha) }
            for isa in isaLevels {
                let (dot, dotH, axpy, axpyH) = withISA(isa) { Self.helpers(a, b, h, alpha) }
                #expect(abs(Double(dot) - Double(dot0)) <= 1e-5 * absAB, "dot_f32 \(isaName(isa)) n=\(n)")
                #expect(abs(Double(dotH) - Double(dotH0)) <= 1e-5 * absHB, "dot_f16_f32 \(isaName(isa)) n=\(n)")
                for i in 0..<n {
                    let tol = 2.4e-7 * (abs(Double(alpha * a[i])) + abs(Double(b[i])))
                    #expect(abs(Double(axpy[i]) - Double(axpy0[i])) <= tol, "axpy_f32 \(isaName(isa)) n=\(n) i=\(i)")
                    let tolH = 2.4e-7 * (abs(Double(alpha * hf[i])) + abs(Double(b[i])))
                    #expect(abs(Double(axpyH[i]) - Double(axpyH0[i])) <= tolH, "axpy_f16 \(isaName(isa)) n=\(n) i=\(i)")
                }
                let again = withISA(isa) { Self.helpers(a, b, h, alpha) }
                #expect(again.0.bitPattern == dot.bitPattern && again.1.bitPattern == dotH.bitPattern)
                #expect(again.2.map(\.bitPattern) == axpy.map(\.bitPattern) && again.3.map(\.bitPattern) == axpyH.map(\.bitPattern))
            }
        }
    }

    static func helpers(_ a: [Float], _ b: [Float], _ h: [UInt16], _ alpha: Float) -> (Float, Float, [Float], [Float]) {
        let n = Int64(a.count)
        let dot = loza_dot_f32(a, b, n)
        let dotH = loza_dot_f16_f32(h, b, n)
        var y = b
        loza_axpy_f32(alpha, a, &y, n)
        var yH = b
        loza_axpy_f16(alpha, h, &yH, n)
        return (dot, dotH, y, yH)
    }

    /// Each variant is deterministic run to run (same inputs, same bits), at every level.
    @Test(arguments: weightTypes)
    func vecDotIsBitIdenticalRunToRun(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0006 ^ UInt64(type))
        let n = oddLength(type, blocks: 7)
        let w = quantizedRows(type, rows: 1, n: n, rng: &rng)
        let x = rng.values(n)
        for isa in isaLevels {
            withISA(isa) {
                var act = [UInt8](repeating: 0, count: Int(loza_row_bytes(loza_vec_dot_type(type), Int64(n))))
                act.withUnsafeMutableBytes { loza_quantize_act(type, x, $0.baseAddress!, Int64(n)) }
                let results = (0..<3).map { _ in
                    w.withUnsafeBytes { wb in act.withUnsafeBytes { loza_vec_dot(type, wb.baseAddress!, $0.baseAddress!, Int64(n)).bitPattern } }
                }
                #expect(Set(results).count == 1, "\(name) \(isaName(isa))")
            }
        }
    }
}
