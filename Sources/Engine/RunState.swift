import CKernels

/// A float buffer allocated once and reused (never resized inside the token loop).
struct FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var count: Int

    init(_ count: Int) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    func free() { pointer.deallocate() }

    /// Grow (outside the hot loop) to at least `n` elements; contents are not kept.
    mutating func ensure(_ n: Int) {
        guard n > count else { return }
        pointer.deallocate()
        count = n
        pointer = .allocate(capacity: n)
        pointer.initialize(repeating: 0, count: n)
    }
}

/// Activations quantized for integer dot products, one buffer per activation type (Q8_0, Q8_1, Q8_K,
/// f32), so an input is quantized once per matmul input even when Q, K and V differ in type.
struct QuantizedActivations {
    private var buffers: [Int32: UnsafeMutableRawPointer] = [:]
    private var rowBytes: [Int32: Int] = [:]
    private let maxCols: Int
    let rows: Int

    /// Room for `rows` inputs of up to `maxCols` elements each.
    init(maxCols: Int, rows: Int = 1) {
        self.maxCols = maxCols
        self.rows = rows
        for t: Int32 in [0, 8, 9, 15] {
            let bytes = (Int(loza_row_bytes(t, Int64(Self.padded(maxCols, t)))) + 63) & ~63
            rowBytes[t] = bytes
            buffers[t] = UnsafeMutableRawPointer.allocate(byteCount: max(bytes * rows, 64), alignment: 64)
        }
    }

    private static func padded(_ n: Int, _ t: Int32) -> Int {
        let b = Int(loza_block_elems(t))
        return (n + b - 1) / b * b
    }

    func free() { for (_, p) in buffers { p.deallocate() } }

    /// Quantize `x` (n elements) for dot products with weights of `weightType`; returns the buffer.
    @inline(__always)
    func quantize(_ x: UnsafePointer<Float>, count n: Int, for weightType: Int32) -> UnsafeRawPointer {
        quantize(x, count: n, for: weightType, row: 0)
        return buffer(for: weightType, row: 0)
    }

    /// The buffer holding activations for `weightType` (after `quantize`).
    @inline(__always)
    func buffer(for weightType: Int32) -> UnsafeRawPointer { buffer(for: weightType, row: 0) }

    /// Quantize `x` as input `row` (< rows) for weights of `weightType` (the multi-row decode).
    @inline(__always)
    func quantize(_ x: UnsafePointer<Float>, count n: Int, for weightType: Int32, row: Int) {
        let actType = loza_vec_dot_type(weightType)
        loza_quantize_act(weightType, x, buffers[actType]! + row * rowBytes[actType]!, Int64(n))
    }

    /// Input `row` quantized for `weightType`.
    @inline(__always)
    func buffer(for weightType: Int32, row: Int) -> UnsafeRawPointer {
        let actType = loza_vec_dot_type(weightType)
        return UnsafeRawPointer(buffers[actType]! + row * rowBytes[actType]!)
    }
}
