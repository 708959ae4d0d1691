import CBLAS
import CKernels
import Foundation

/// OpenBLAS chooses its kernels from the CPU model once, when the library loads; a CPU newer than its table
/// (OpenBLAS 0.3.21, Debian 12's, on an Intel Xeon of model 207) falls back to Prescott, the SSE3 kernels,
/// although the CPU has AVX-512. Prefill attention's SGEMM then runs at about half speed (prompt processing
/// at 4K: 164 tokens/s against 283 with the right kernels). When that happened and the user did not choose
/// a core type, loza runs itself again with `OPENBLAS_CORETYPE` set to the kernels this CPU supports
/// (SkylakeX for AVX-512, Haswell for AVX2); the choice is read once, before any argument is parsed.
enum BLASCoreType {
    /// The kernels OpenBLAS runs with ("SkylakeX", "Haswell", ...), for benchmark reports.
    static var current: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// Core types that mean OpenBLAS did not recognise a CPU that has more.
    static let fallbacks: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai",
                                         "Coppermine", "Northwood", "Banias", "Atom"]

    /// The core type to ask for on this CPU when OpenBLAS reported `current`, or nil to leave it.
    static func replacement(current: String, isa: Int32) -> String? {
        guard fallbacks.contains(current) else { return nil }
        if isa >= Int32(LOZA_ISA_AVX512.rawValue) { return "SkylakeX" }
        if isa >= Int32(LOZA_ISA_AVX2.rawValue) { return "Haswell" }
        return nil
    }

    /// Re-executes the process with the right `OPENBLAS_CORETYPE` when OpenBLAS fell back; returns (and
    /// changes nothing) when the user set it, when the kernels are already right, or when exec fails.
    static func reexecIfUnrecognized() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let name = openblas_get_corename(),
              let wanted = replacement(current: String(cString: name), isa: loza_isa_detected()) else { return }
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        let args = CommandLine.unsafeArgv
        execv("/proc/self/exe", args)
        // exec failed (no /proc): go on with the kernels OpenBLAS chose; nothing else has happened yet.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
