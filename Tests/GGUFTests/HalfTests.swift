import CKernels
import TestSupport
import Testing

@Suite struct HalfTests {
    @Test func everyHalfConvertsExactlyAndBack() {
        for bits in 0...0xFFFF {
            let h = UInt16(bits)
            let f = loza_f16_to_f32(h)
            let ref = Float(Float16(bitPattern: h))
            if ref.isNaN {
                #expect(f.isNaN)
                #expect(loza_f32_to_f16(f).isHalfNaN)
            } else {
                #expect(f.bitPattern == ref.bitPattern, "half 0x\(String(bits, radix: 16))")
                #expect(loza_f32_to_f16(f) == h, "half 0x\(String(bits, radix: 16)) round trip")
            }
        }
    }

    @Test func floatToHalfRoundsToNearestEven() {
        var rng = SplitMix64(seed: 1)
        var cases: [Float] = [0, -0, 65504, 65519.99, 65520, -65520, 1e-8, 2.9802322e-08, 2.9802326e-08, 5.9604645e-08,
                              6.1035156e-05, 6.1035152e-05, 1.0009766, 1.0004883, 1.0014648, .infinity, -.infinity,
                              .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        for _ in 0..<200_000 {
            cases.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())))
        }
        for _ in 0..<50_000 {  // the interesting range: around and below the half range
            cases.append(Float.random(in: -70000...70000, using: &rng))
            cases.append(Float.random(in: -1e-4...1e-4, using: &rng))
        }
        for f in cases {
            let h = loza_f32_to_f16(f)
            if f.isNaN {
                #expect(h.isHalfNaN)
            } else {
                #expect(h == Float16(f).bitPattern, "\(f) (0x\(String(f.bitPattern, radix: 16)))")
            }
        }
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(loza_f32_to_bf16(1.0) == 0x3F80)
        #expect(loza_bf16_to_f32(0x3F80) == 1.0)
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa (1.0) wins; just above rounds up.
        #expect(loza_f32_to_bf16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        #expect(loza_f32_to_bf16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(loza_f32_to_bf16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(loza_f32_to_bf16(.infinity) == 0x7F80)
        #expect(loza_f32_to_bf16(Float(bitPattern: 0x7F7F_FFFF)) == 0x7F80)  // overflows to inf
        #expect(loza_bf16_to_f32(loza_f32_to_bf16(.nan)).isNaN)
        var rng = SplitMix64(seed: 2)
        for _ in 0..<100_000 {
            let f = Float.random(in: -1e30...1e30, using: &rng)
            let b = loza_bf16_to_f32(loza_f32_to_bf16(f))
            #expect(abs(b - f) <= abs(f) * 0x1p-8)
        }
    }
}

extension UInt16 {
    var isHalfNaN: Bool { self & 0x7C00 == 0x7C00 && self & 0x03FF != 0 }
}
