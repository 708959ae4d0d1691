import CKernels
import Foundation
import TestSupport
import Testing

/// The attention kernels (loza_attn_partial, loza_attn_softmax_tile, loza_exp_f32) at every ISA level
/// against the scalar reference (libm expf, one key at a time).
/// Tolerances: exp within 4e-7 relative of expf on [-87, 88]; softmax numerators within 1e-6
/// relative; attention outputs within 2e-6 of max |v| (scores within 1e-5 of sum |q_i k_i|).
@Suite(.serialized) struct AttentionKernelTests {
    /// A ring storage of `slots` f16 K/V rows and the spans of a query that sees a sink of `sink`
    /// slots plus `window` keys that start at ring slot `ringStart` and wrap past the end.
    struct Ring {
        var k: [UInt16], v: [UInt16], q: [Float]
        let hd: Int, nq: Int, slots: Int
        init(hd: Int, nq: Int, slots: Int, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            self.hd = hd; self.nq = nq; self.slots = slots
            k = rng.values(slots * hd).map { loza_f32_to_f16($0 * 2) }
            v = rng.values(slots * hd).map { loza_f32_to_f16($0) }
            q = rng.values(nq * hd)
        }
        /// Runs `body` with spans (row offsets, counts) resolved to pointers.
        func withSpans<T>(_ parts: [(Int, Int)], _ body: ([loza_kv_span]) -> T) -> T {
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    body(parts.map { loza_kv_span(k: kb.baseAddress! + $0.0 * hd, v: vb.baseAddress! + $0.0 * hd, count: Int64($0.1)) })
                }
            }
        }
    }

    struct Partial: Equatable { var m: [Float], l: [Float], o: [Float] }

    static func partial(_ r: Ring, _ spans: [(Int, Int)], _ j0: Int, _ j1: Int, scale: Float, ref: Bool = false) -> Partial {
        let total = spans.reduce(0) { $0 + $1.1 }
        var work = [Float](repeating: .nan, count: Int(loza_attn_partial_work(Int64(r.nq), Int64(r.hd), Int64(total))))
        var p = Partial(m: .init(repeating: .nan, count: r.nq), l: .init(repeating: .nan, count: r.nq),
                        o: .init(repeating: .nan, count: r.nq * r.hd))
        r.withSpans(spans) { sp in
            if ref {
                loza_attn_partial_ref(r.q, Int64(r.nq), Int64(r.hd), scale, sp, Int64(sp.count), Int64(j0), Int64(j1), &work, &p.m, &p.l, &p.o)
            } else {
                loza_attn_partial(r.q, Int64(r.nq), Int64(r.hd), scale, sp, Int64(sp.count), Int64(j0), Int64(j1), &work, &p.m, &p.l, &p.o)
            }
        }
        return p
    }

    static func merged(_ parts: [Partial], nq: Int, hd: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: nq * hd)
        loza_attn_merge(Int64(nq), Int64(hd), Int64(parts.count), parts.flatMap(\.m), parts.flatMap(\.l), parts.flatMap(\.o), &out)
        return out
    }

    // (head_dim, heads per group, ring slots, sink, window start, window): the window wraps the ring.
    @Test(arguments: [(64, 7, 1152, 128, 1000, 900), (64, 3, 300, 17, 250, 200), (72, 2, 100, 5, 90, 40), (128, 1, 64, 0, 60, 1)])
    func partialMatchesReference(_ hd: Int, _ nq: Int, _ slots: Int, _ sink: Int, _ start: Int, _ window: Int) {
        let r = Ring(hd: hd, nq: nq, slots: slots, seed: UInt64(hd * 7919 + slots))
        let tail = min(window, slots - start)
        var spans: [(Int, Int)] = []
        if sink > 0 { spans.append((0, sink)) }
        spans.append((start, tail))
        if window > tail { spans.append((sink, window - tail)) }
        let total = sink + window
        let scale = 1 / Float(hd).squareRoot()
        let want = Self.merged([Self.partial(r, spans, 0, total, scale: scale, ref: true)], nq: nq, hd: hd)
        // Keys gathered into one contiguous span, in the same order.
        var contiguous = Ring(hd: hd, nq: nq, slots: total, seed: 1)
        contiguous.q = r.q
        var row = 0
        for (s, n) in spans {
            for j in 0..<n {
                for i in 0..<hd {
                    contiguous.k[row * hd + i] = r.k[(s + j) * hd + i]
                    contiguous.v[row * hd + i] = r.v[(s + j) * hd + i]
                }
                row += 1
            }
        }
        var vmax: Float = 0
        for x in r.v { vmax = max(vmax, abs(loza_f16_to_f32(x))) }
        for isa in isaLevels {
            withISA(isa) {
                let one = Self.partial(r, spans, 0, total, scale: scale)
                let got = Self.merged([one], nq: nq, hd: hd)
                for i in 0..<got.count {
                    #expect(abs(got[i] - want[i]) <= 2e-6 * vmax, "\(isaName(isa)) hd \(hd) out[\(i)] \(got[i]) vs \(want[i])")
                }
                // Cutting the keys differently (one span) changes no bit.
                #expect(Self.partial(contiguous, [(0, total)], 0, total, scale: scale) == one, "\(isaName(isa)): span cuts changed bits")
                // Chunks merged (flash-decoding) agree with one pass.
                let cut = total / 3
                let chunks = [Self.partial(r, spans, 0, cut, scale: scale), Self.partial(r, spans, cut, total, scale: scale),
                              Self.partial(r, spans, total, total, scale: scale)]
                let split = Self.merged(chunks, nq: nq, hd: hd)
                for i in 0..<got.count {
                    #expect(abs(split[i] - want[i]) <= 2e-6 * vmax, "\(isaName(isa)) chunked out[\(i)]")
                }
                #expect(Self.merged(chunks, nq: nq, hd: hd) == split)
            }
        }
    }

    @Test func softmaxTileMatchesReference() {
        var rng = SplitMix64(seed: 77)
        let rows = 9, cols = 37, lds = 40, dv = 24
        var s0 = rng.values(rows * lds).map { $0 * 4 }
        for j in 0..<cols { s0[3 * lds + j] = -.infinity }              // a row masked entirely
        for j in stride(from: 0, to: cols, by: 3) { s0[5 * lds + j] = -.infinity }
        let m0: [Float] = (0..<rows).map { $0 % 2 == 0 ? -.infinity : Float($0) * 0.3 }
        let l0: [Float] = (0..<rows).map { $0 % 2 == 0 ? 0 : 2.5 }
        let o0 = rng.values(rows * dv)
        func run(_ ref: Bool) -> ([Float], [Float], [Float], [Float]) {
            var s = s0, m = m0, l = l0, o = o0
            if ref { loza_attn_softmax_tile_ref(&s, Int64(rows), Int64(cols), Int64(lds), &m, &l, &o, Int64(dv), Int64(dv)) }
            else { loza_attn_softmax_tile(&s, Int64(rows), Int64(cols), Int64(lds), &m, &l, &o, Int64(dv), Int64(dv)) }
            return (s, m, l, o)
        }
        let want = run(true)
        for isa in isaLevels {
            let got = withISA(isa) { run(false) }
            #expect(got.1 == want.1, "\(isaName(isa)) running max")
            for r in 0..<rows {
                #expect(abs(got.2[r] - want.2[r]) <= 1e-6 * max(1, want.2[r]), "\(isaName(isa)) l[\(r)]")
                for j in 0..<cols { #expect(abs(got.0[r * lds + j] - want.0[r * lds + j]) <= 1e-6, "\(isaName(isa)) p[\(r)][\(j)]") }
                for i in 0..<dv { #expect(abs(got.3[r * dv + i] - want.3[r * dv + i]) <= 1e-6 * max(1, abs(want.3[r * dv + i]))) }
            }
            for j in 0..<cols { #expect(got.0[3 * lds + j] == 0) }
        }
    }

    @Test func expWithinToleranceOfExpf() {
        var xs: [Float] = []
        var x: Float = -87
        while x < 88 { xs.append(x); x += 0.0137 }
        xs += [0, -0.0, 1e-7, -1e-7, 0.5 * logf(2), -0.5 * logf(2)]
        for isa in isaLevels {
            var y = [Float](repeating: .nan, count: xs.count)
            withISA(isa) { loza_exp_f32(xs, &y, Int64(xs.count)) }
            var worst = 0.0
            for (a, b) in zip(xs, y) { worst = max(worst, abs(Double(b) - exp(Double(a))) / exp(Double(a))) }
            #expect(worst <= 4e-7, "\(isaName(isa)): relative error \(worst)")
            var z: [Float] = [-.infinity, -100, -87.5, 0]
            let src = z
            withISA(isa) { loza_exp_f32(src, &z, 4) }
            #expect(z[0] == 0 && z[3] == 1, "\(isaName(isa)): \(z)")
            if isa > 0 { #expect(z[1] == 0 && z[2] == 0, "\(isaName(isa)) flushes below -87.34 to 0: \(z)") }
            print("exp \(isaName(isa)): max relative error vs exp (f64) on [-87, 88]: \(worst)")
        }
    }
}
