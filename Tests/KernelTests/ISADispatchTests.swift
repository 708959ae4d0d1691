import CKernels
import Foundation
import TestSupport
import Testing

/// Run-time ISA selection: detection is stable, levels clamp to what the CPU has, and every level
/// at or below the detected one can be selected (the kernel suites rely on that to cover each variant).
@Suite(.serialized) struct ISADispatchTests {
    @Test func detectionIsStableAndNamed() {
        let detected = loza_isa_detected()
        #expect(detected >= Int32(LOZA_ISA_SCALAR.rawValue))
        #expect(detected <= Int32(LOZA_ISA_AVX512VNNI.rawValue))
        #expect(loza_isa_detected() == detected)
        #expect(String(cString: loza_isa_name(detected)) != "unknown")
        #expect(String(cString: loza_isa_name(99)) == "unknown")
    }

    @Test func setClampsToDetectedLevel() {
        let detected = loza_isa_detected()
        defer { loza_isa_set(detected) }
        for level in Int32(0)...detected {
            #expect(loza_isa_set(level) == level)
            #expect(loza_isa_active() == level)
        }
        #expect(loza_isa_set(detected + 5) == detected)
        #expect(loza_isa_set(-3) == Int32(LOZA_ISA_SCALAR.rawValue))
        #expect(loza_isa_active() == Int32(LOZA_ISA_SCALAR.rawValue))
    }

    /// The level is per thread: lowering or raising it here leaves other threads at the process level.
    @Test func levelIsPerThread() {
        let detected = loza_isa_detected()
        let processLevel = Self.levelOnNewThread()
        let mine: Int32 = processLevel == 0 ? detected : 0
        loza_isa_set(mine)
        defer { loza_isa_set(detected) }
        #expect(Self.levelOnNewThread() == processLevel)
        #expect(loza_isa_active() == mine)
    }

    static func levelOnNewThread() -> Int32 {
        let seen = SeenLevel()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            seen.set(loza_isa_active())
            done.signal()
        }
        thread.start()
        done.wait()
        return seen.get()
    }
}

private final class SeenLevel: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int32 = -1
    func set(_ v: Int32) { lock.lock(); value = v; lock.unlock() }
    func get() -> Int32 { lock.lock(); defer { lock.unlock() }; return value }
}

/// Inputs the SIMD variants do not take (partial blocks, unknown types, empty ranges) go to the
/// reference at every level, so every level answers them the same way.
@Suite(.serialized) struct DispatchEdgeTests {
    @Test func partialBlocksAndUnknownTypesBehaveLikeTheReference() {
        var rng = SplitMix64(seed: 0x5eed_0008)
        let type = ktype(LOZA_TYPE_Q5_0)
        let w = quantizedRows(type, rows: 1, n: 64, rng: &rng)
        let act = referenceActivations(type, rng.values(64))
        for isa in isaLevels {
            withISA(isa) {
                w.withUnsafeBytes { wb in
                    act.withUnsafeBytes { ab in
                        for n in [0, 31, 33, 48] {
                            let ref = loza_vec_dot_ref(type, wb.baseAddress!, ab.baseAddress!, Int64(n))
                            #expect(loza_vec_dot(type, wb.baseAddress!, ab.baseAddress!, Int64(n)).bitPattern == ref.bitPattern,
                                    "\(isaName(isa)) n=\(n)")
                        }
                        #expect(loza_vec_dot(99, wb.baseAddress!, ab.baseAddress!, 64) == loza_vec_dot_ref(99, wb.baseAddress!, ab.baseAddress!, 64))
                        var y: [Float] = [42, 42]
                        loza_matvec(type, wb.baseAddress!, 44, ab.baseAddress!, &y, 1, 1, 64)  // empty row range
                        #expect(y == [42, 42])
                    }
                }
            }
        }
    }
}
