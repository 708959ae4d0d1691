import CKernels
import TestSupport
import Testing

/// The quantized GEMM of prefill (loza_gemm): every SIMD level gives exactly the bits of the scalar
/// reference, for any split of rows, and the reference is within the activation-quantization error of
/// the f32 product of the dequantized weights:
///   |gemm - sum_k w_k x_k| <= sum over blocks of 0.51 * d_block * sum |w_k| + 1e-5 * sum |w_k x_k|
/// (round-to-nearest moves each x_k by at most d/2, d = max|x| / 127 of its block of 32; the weights
/// are used exactly as dequantized; the rest is float rounding).
@Suite(.serialized) struct QuantizedGEMMTests {
    static let gemmTypes = weightTypes.filter { loza_gemm_type_supported(ktype($0.1)) != 0 }

    struct Case {
        let type: Int32, n: Int, rows: Int, tokens: Int
        let w: [UInt8], x: [Float], acts: [UInt8], actStride: Int
        var rowBytes: Int { Int(loza_row_bytes(type, Int64(n))) }

        init(type: Int32, n: Int, rows: Int, tokens: Int, seed: UInt64) {
            self.type = type; self.n = n; self.rows = rows; self.tokens = tokens
            var rng = SplitMix64(seed: seed)
            w = quantizedRows(type, rows: rows, n: n, rng: &rng)
            let xs = rng.values(n * tokens)
            let stride = loza_gemm_act_stride(Int64(n))
            var a = [UInt8](repeating: 0, count: stride * tokens)
            a.withUnsafeMutableBytes { ab in
                xs.withUnsafeBufferPointer { xb in
                    for t in 0..<tokens {
                        loza_gemm_quantize_act(xb.baseAddress! + t * n, ab.baseAddress! + t * stride, Int64(n))
                    }
                }
            }
            x = xs
            actStride = stride
            acts = a
        }

        /// Y[tokens][rows] over row ranges `splits` (each range one call), reference or dispatched.
        func run(reference: Bool, splits: [Range<Int>]) -> [Float] {
            var y = [Float](repeating: .nan, count: rows * tokens)
            var scratch = [UInt8](repeating: 0, count: loza_gemm_scratch_bytes(Int64(n)))
            w.withUnsafeBytes { wb in
                acts.withUnsafeBytes { ab in
                    y.withUnsafeMutableBufferPointer { yb in
                        scratch.withUnsafeMutableBytes { sb in
                            for r in splits {
                                let f = reference ? loza_gemm_ref : loza_gemm
                                f(type, wb.baseAddress!, rowBytes, Int64(r.lowerBound), Int64(r.upperBound), Int64(n),
                                  ab.baseAddress!, actStride, Int64(tokens), yb.baseAddress!, Int64(rows), sb.baseAddress!)
                            }
                        }
                    }
                }
            }
            return y
        }
    }

    static func sizes(_ type: Int32) -> [Int] {
        loza_block_elems(type) == 256 ? [256, 768] : [32, 96, 896]
    }

    @Test(arguments: gemmTypes)
    func simdMatchesReferenceBitForBit(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        for n in Self.sizes(type) {
            let c = Case(type: type, n: n, rows: 37, tokens: 7, seed: 0x9e44 ^ UInt64(type) ^ UInt64(n << 8))
            let ref = c.run(reference: true, splits: [0..<37])
            #expect(!ref.contains { $0.isNaN }, "\(name) n=\(n): every output written")
            for isa in isaLevels {
                let whole = withISA(isa) { c.run(reference: false, splits: [0..<37]) }
                let split = withISA(isa) { c.run(reference: false, splits: [0..<16, 16..<21, 21..<37]) }
                #expect(whole.map(\.bitPattern) == ref.map(\.bitPattern), "\(name) \(isaName(isa)) n=\(n)")
                #expect(split.map(\.bitPattern) == ref.map(\.bitPattern), "\(name) \(isaName(isa)) n=\(n) split rows")
            }
        }
    }

    @Test(arguments: gemmTypes)
    func referenceIsWithinActivationQuantizationError(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        for n in Self.sizes(type) {
            let c = Case(type: type, n: n, rows: 21, tokens: 5, seed: 0x7a11 ^ UInt64(type) ^ UInt64(n << 8))
            let y = c.run(reference: true, splits: [0..<21])
            var wf = [Float](repeating: 0, count: n)
            for r in 0..<c.rows {
                c.w.withUnsafeBytes { loza_dequantize_row_ref(type, $0.baseAddress! + r * c.rowBytes, &wf, Int64(n)) }
                for tok in 0..<c.tokens {
                    var exact = 0.0, absProd = 0.0, bound = 0.0
                    for b in 0..<(n / 32) {
                        var amax: Float = 0, wabs = 0.0
                        for k in (32 * b)..<(32 * b + 32) {
                            let xv = c.x[tok * n + k]
                            amax = max(amax, abs(xv))
                            exact += Double(wf[k]) * Double(xv)
                            absProd += abs(Double(wf[k]) * Double(xv))
                            wabs += abs(Double(wf[k]))
                        }
                        bound += 0.51 * Double(amax / 127) * wabs
                    }
                    bound += 1e-5 * absProd
                    let got = Double(y[tok * c.rows + r])
                    #expect(abs(got - exact) <= bound, "\(name) n=\(n) row \(r) token \(tok): \(got) vs \(exact), bound \(bound)")
                }
            }
        }
    }
}
