import CKernels
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
}
