/// One entry of a GGUF tensor table.
public struct GGUFTensor: Sendable, Hashable {
    public let name: String
    /// ggml order: `dims[0]` is the contiguous row length.
    public let dims: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the tensor's data in the file.
    public let offset: Int
    public let byteCount: Int
    public let elementCount: Int
    /// Rows of `dims[0]` elements (elementCount / dims[0]).
    public let rowCount: Int
    /// Bytes of one row.
    public let rowBytes: Int

    public init(name: String, dims: [Int], type: GGMLType, offset: Int, byteCount: Int, elementCount: Int,
                rowCount: Int, rowBytes: Int) {
        self.name = name
        self.dims = dims
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
        self.elementCount = elementCount
        self.rowCount = rowCount
        self.rowBytes = rowBytes
    }

    /// e.g. "blk.0.attn_q.weight Q4_K [896, 896]"
    public var summary: String { "\(name) \(type.name) [\(dims.map(String.init).joined(separator: ", "))]" }
}
