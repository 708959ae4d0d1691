import CKernels
import TestSupport

/// Deterministic test data for the kernel suites.
extension SplitMix64 {
    /// Uniform in [-1, 1).
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    /// Roughly normal values whose scale changes every 32 elements (so block scales vary), with an
    /// occasional outlier, as real weights and activations have.
    mutating func values(_ n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        var scale: Float = 1
        for i in 0..<n {
            if i % 32 == 0 { scale = 0.05 + 2 * abs(uniform()) }
            var v = (uniform() + uniform() + uniform()) * scale
            if next() % 97 == 0 { v *= 6 }
            out[i] = v
        }
        return out
    }
}

/// A kernel type as the C API takes it.
func ktype(_ t: loza_type) -> Int32 { Int32(t.rawValue) }

/// Every weight type with a vec_dot, by name for readable test output.
let weightTypes: [(String, loza_type)] = [
    ("Q4_0", LOZA_TYPE_Q4_0), ("Q4_1", LOZA_TYPE_Q4_1), ("Q5_0", LOZA_TYPE_Q5_0), ("Q5_1", LOZA_TYPE_Q5_1),
    ("Q8_0", LOZA_TYPE_Q8_0), ("Q4_K", LOZA_TYPE_Q4_K), ("Q5_K", LOZA_TYPE_Q5_K), ("Q6_K", LOZA_TYPE_Q6_K),
    ("F16", LOZA_TYPE_F16), ("BF16", LOZA_TYPE_BF16), ("F32", LOZA_TYPE_F32),
]

/// The ISA levels this CPU can run, scalar first.
var isaLevels: [Int32] { Array(Int32(0)...loza_isa_detected()) }

/// Runs `body` with the dispatcher forced to `isa`, restoring the detected level afterwards.
func withISA<T>(_ isa: Int32, _ body: () throws -> T) rethrows -> T {
    let previous = loza_isa_active()
    loza_isa_set(isa)
    defer { loza_isa_set(previous) }
    return try body()
}

func isaName(_ isa: Int32) -> String { String(cString: loza_isa_name(isa)) }

/// Element count for a type: an odd number of blocks (and, for float types, a ragged tail).
func oddLength(_ type: Int32, blocks: Int) -> Int {
    let be = Int(loza_block_elems(type))
    return be == 1 ? 32 * blocks + 7 : be * blocks
}

/// `rows` random rows of `type` with `n` elements, quantized by the reference, back to back.
func quantizedRows(_ type: Int32, rows: Int, n: Int, rng: inout SplitMix64) -> [UInt8] {
    let rowBytes = Int(loza_row_bytes(type, Int64(n)))
    var out = [UInt8](repeating: 0, count: rowBytes * rows)
    for r in 0..<rows {
        let x = rng.values(n)
        out.withUnsafeMutableBytes { buf in
            loza_quantize_row_ref(type, x, buf.baseAddress! + r * rowBytes, Int64(n))
        }
    }
    return out
}

/// Activations for weight `type`, quantized by the reference quantizer.
func referenceActivations(_ type: Int32, _ x: [Float]) -> [UInt8] {
    let act = loza_vec_dot_type(type)
    var out = [UInt8](repeating: 0, count: Int(loza_row_bytes(act, Int64(x.count))))
    out.withUnsafeMutableBytes { loza_quantize_act_ref(type, x, $0.baseAddress!, Int64(x.count)) }
    return out
}

/// sum |w_i * a_i| over the dequantized row and activations: the scale float rounding is bounded against.
func absDotBound(_ type: Int32, row: UnsafeRawPointer, act: [UInt8], n: Int) -> Double {
    var w = [Float](repeating: 0, count: n)
    var a = [Float](repeating: 0, count: n)
    loza_dequantize_row_ref(type, row, &w, Int64(n))
    act.withUnsafeBytes { loza_dequantize_row_ref(loza_vec_dot_type(type), $0.baseAddress!, &a, Int64(n)) }
    var s = 0.0
    for i in 0..<n { s += abs(Double(w[i]) * Double(a[i])) }
    return s
}
