import CKernels

extension GGUFFile {
    /// Dequantizes row `r` of `t` into `out` (rowLength floats) with the scalar reference kernel.
    public func dequantizeRow(_ t: GGUFTensor, _ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(t.type.isSupported, "\(t.type.name) cannot be dequantized")
        loza_dequantize_row_ref(t.type.kernelType, row(t, r), out, Int64(t.dims[0]))
    }

    /// Row `r` of `t` as floats (allocates; for tests, tools and embedding lookups).
    public func dequantizeRow(_ t: GGUFTensor, _ r: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: t.dims[0]) { buf, n in
            dequantizeRow(t, r, into: buf.baseAddress!)
            n = t.dims[0]
        }
    }
}
