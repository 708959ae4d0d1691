import CKernels
import TestSupport
import Testing

/// loza_matvec_multi (several activations against the same rows, the verification pass of lookup
/// speculation) gives for every output exactly loza_matvec's bits for that activation alone, at every
/// ISA level, for every activation count (groups of 4 and the 1-3 remainders) and row range, and for
/// rows long enough to take the per-activation path.
@Suite(.serialized) struct MatvecMultiTests {
    static func check(_ name: String, _ type: Int32, n: Int, rows: Int, acts nact: Int, rng: inout SplitMix64) {
        let w = quantizedRows(type, rows: rows, n: n, rng: &rng)
        let acts = (0..<nact).map { _ in referenceActivations(type, rng.values(n)) }
        let rowBytes = Int(loza_row_bytes(type, Int64(n)))
        let ystride = rows + 3
        for isa in isaLevels {
            withISA(isa) {
                w.withUnsafeBytes { wb in
                    // Pointers into arrays stay valid only inside withUnsafeBytes: copy the activations
                    // into one buffer first.
                    let actBytes = acts[0].count
                    let flat = UnsafeMutableRawPointer.allocate(byteCount: actBytes * nact, alignment: 64)
                    defer { flat.deallocate() }
                    for (j, a) in acts.enumerated() { a.withUnsafeBytes { (flat + j * actBytes).copyMemory(from: $0.baseAddress!, byteCount: actBytes) } }
                    var ptrs = (0..<nact).map { Optional(UnsafeRawPointer(flat + $0 * actBytes)) }
                    var single = [[UInt32]](repeating: [], count: nact)
                    for j in 0..<nact {
                        var y = [Float](repeating: .nan, count: rows)
                        loza_matvec(type, wb.baseAddress!, rowBytes, ptrs[j], &y, 0, Int64(rows), Int64(n))
                        single[j] = y.map(\.bitPattern)
                    }
                    for (r0, r1) in [(0, rows), (1, rows), (rows / 2, rows), (rows - 1, rows)] {
                        var y = [Float](repeating: .nan, count: ystride * nact)
                        ptrs.withUnsafeMutableBufferPointer { pb in
                            loza_matvec_multi(type, wb.baseAddress!, rowBytes, pb.baseAddress!, Int64(nact), &y,
                                              Int64(ystride), Int64(r0), Int64(r1), Int64(n))
                        }
                        var bad = 0
                        for j in 0..<nact {
                            for r in r0..<r1 where y[j * ystride + r].bitPattern != single[j][r] { bad += 1 }
                            // Nothing outside the range is written.
                            for r in 0..<r0 where !y[j * ystride + r].isNaN { bad += 1 }
                        }
                        #expect(bad == 0, "\(name) \(isaName(isa)) n=\(n) acts \(nact) rows \(r0)..<\(r1): \(bad) outputs differ from matvec")
                    }
                }
            }
        }
    }

    @Test(arguments: weightTypes)
    func multiEqualsMatvecBitForBit(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0011 ^ UInt64(type))
        for nact in [1, 2, 3, 4, 5, 7, 8, 16] {
            Self.check(name, type, n: oddLength(type, blocks: 5), rows: 9, acts: nact, rng: &rng)
        }
    }

    /// Many activations of long rows exceed the prepared-activation buffer: the per-activation path.
    @Test(arguments: weightTypes.filter { loza_block_elems(ktype($0.1)) == 32 })
    func manyLongActivationsTakeThePerActivationPath(_ name: String, _ t: loza_type) {
        let type = ktype(t)
        var rng = SplitMix64(seed: 0x5eed_0012 ^ UInt64(type))
        Self.check(name, type, n: 32 * 1100, rows: 3, acts: 8, rng: &rng)
    }
}
