import AgentCore
import CKernels
import Foundation
import TestSupport
import Testing

/// OpenBLAS falls back to SSE3 kernels (Prescott) on CPUs newer than its table; loza then runs itself again
/// with the kernels the CPU supports, unless the user chose a core type.
@Suite(.serialized) struct BLASCoreTypeTests {
    static let fallbacks: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai",
                                         "Coppermine", "Northwood", "Banias", "Atom"]

    func core(_ environment: [String: String?]) throws -> String {
        let dir = try CLI.tempDirectory()
        let r = try CLI.run(["bench", "--model", "smollm2-135m-instruct", "--prompt-tokens", "8", "--gen-tokens", "2",
                             "--repeats", "1", "--threads", "1", "--json"], in: dir, environment: environment)
        #expect(r.code == 0, "\(r.err)")
        return try JSONValue.parse(r.out)["blas_core"]?.stringValue ?? "missing"
    }

    @Test(.requiresModel(RealModels.smol)) func theKernelsFitTheCPUAndTheUsersChoiceStands() throws {
        _ = try RealModels.require(RealModels.smol)
        #expect(try core(["OPENBLAS_CORETYPE": "Prescott"]) == "Prescott")
        let chosen = try core(["OPENBLAS_CORETYPE": nil])
        #expect(chosen != "missing")
        if loza_isa_detected() >= Int32(LOZA_ISA_AVX2.rawValue) {
            #expect(!Self.fallbacks.contains(chosen), "OpenBLAS runs \(chosen) kernels on a CPU with AVX2")
        }
    }
}
