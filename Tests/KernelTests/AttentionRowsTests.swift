import CKernels
import TestSupport
import Testing

/// loza_dot_f16_f32_rows / loza_axpy_f16_rows (attention over many keys in one call) at every level
/// against the scalar level: scores within 1e-5 of sum |k_i q_i|; outputs within 1e-5 of
/// |y_i| + sum_j |w_j v_ji| (fma vs multiply-add, same key order); same bits run to run.
@Suite(.serialized) struct AttentionRowsTests {
    @Test(arguments: [(64, 64, 37), (64, 128, 1), (72, 80, 9), (13, 16, 5), (128, 136, 300)])
    func rowsMatchScalar(_ n: Int, _ stride: Int, _ nkeys: Int) {
        var rng = SplitMix64(seed: 0x5eed_0009 ^ UInt64(n * 1000 + nkeys))
        let kv = rng.values(stride * nkeys).map { loza_f32_to_f16($0) }
        let kvf = kv.map { loza_f16_to_f32($0) }
        let q = rng.values(n)
        let w = rng.values(nkeys).map { abs($0) }
        let y0 = rng.values(n)
        let run = { () -> ([Float], [Float]) in
            var scores = [Float](repeating: .nan, count: nkeys)
            loza_dot_f16_f32_rows(kv, stride, q, &scores, Int64(nkeys), Int64(n))
            var y = y0
            loza_axpy_f16_rows(w, kv, stride, &y, Int64(nkeys), Int64(n))
            return (scores, y)
        }
        let (scores0, out0) = withISA(0, run)
        for j in 0..<nkeys {
            var exact = 0.0, bound = 0.0
            for i in 0..<n { exact += Double(kvf[j * stride + i]) * Double(q[i]); bound += abs(Double(kvf[j * stride + i]) * Double(q[i])) }
            #expect(abs(Double(scores0[j]) - exact) <= 1e-5 * bound, "scalar key \(j)")
        }
        for isa in isaLevels {
            let (scores, out) = withISA(isa, run)
            for j in 0..<nkeys {
                var bound = 0.0
                for i in 0..<n { bound += abs(Double(kvf[j * stride + i]) * Double(q[i])) }
                #expect(abs(Double(scores[j]) - Double(scores0[j])) <= 1e-5 * bound, "\(isaName(isa)) n=\(n) key \(j)")
            }
            for i in 0..<n {
                var bound = abs(Double(y0[i]))
                for j in 0..<nkeys { bound += abs(Double(w[j]) * Double(kvf[j * stride + i])) }
                #expect(abs(Double(out[i]) - Double(out0[i])) <= 1e-5 * bound, "\(isaName(isa)) n=\(n) y[\(i)]")
            }
            let again = withISA(isa, run)
            #expect(again.0.map(\.bitPattern) == scores.map(\.bitPattern) && again.1.map(\.bitPattern) == out.map(\.bitPattern))
        }
    }
}
