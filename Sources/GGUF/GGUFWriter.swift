import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a GGUF v3 file in memory: metadata of every type, tensors padded to the alignment.
/// Used by tests to make tiny models, and by tools.
public struct GGUFWriter: Sendable {
    public struct PendingTensor: Sendable {
        public let name: String
        public let dims: [Int]
        public let type: GGMLType
        public let data: [UInt8]
    }

    public let alignment: Int
    /// Written as the header version (2 and 3 share one layout); tests may set others.
    public var version: UInt32 = 3
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [PendingTensor] = []

    /// `alignment` other than 32 is recorded as `general.alignment`.
    public init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.alignment = alignment
        if alignment != 32 { metadata.append((key: "general.alignment", value: .uint32(UInt32(alignment)))) }
    }

    /// Sets a metadata value; a key set twice keeps its first position and the new value.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key: key, value: value))
        }
    }

    public mutating func set(_ key: String, _ s: String) { set(key, .string(s)) }
    public mutating func set(_ key: String, strings: [String]) { set(key, .array(.string, strings.map { .string($0) })) }

    /// Adds a tensor whose data is already in `type`'s block layout.
    public mutating func addTensor(name: String, dims: [Int], type: GGMLType, data: [UInt8]) throws(GGUFError) {
        guard !dims.isEmpty, dims.count <= GGUFParser.maxDims, dims.allSatisfy({ $0 >= 1 }) else {
            throw GGUFError(.badValue, "tensor '\(name)': bad dims \(dims)")
        }
        guard let rowBytes = type.rowBytes(dims[0]) else {
            throw GGUFError(.badValue, "tensor '\(name)': row length \(dims[0]) is not a multiple of the \(type.name) block size \(type.blockElements)")
        }
        let bytes = rowBytes * dims.dropFirst().reduce(1, *)
        guard data.count == bytes else {
            throw GGUFError(.badValue, "tensor '\(name)': \(data.count) bytes given, \(type.name) \(dims) needs \(bytes)")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw GGUFError(.duplicate, "duplicate tensor name '\(name)'")
        }
        tensors.append(PendingTensor(name: name, dims: dims, type: type, data: data))
    }

    /// Adds a tensor from floats (row-major, dims[0] contiguous), quantized to `type` with the
    /// reference quantizer.
    public mutating func addTensor(name: String, dims: [Int], type: GGMLType, floats: [Float]) throws(GGUFError) {
        guard type.isSupported else { throw GGUFError(.unsupportedType, "cannot quantize to \(type.name)") }
        guard !dims.isEmpty, dims.allSatisfy({ $0 >= 1 }), dims.reduce(1, *) == floats.count else {
            throw GGUFError(.badValue, "tensor '\(name)': \(floats.count) floats do not fill dims \(dims)")
        }
        guard let rowBytes = type.rowBytes(dims[0]) else {
            throw GGUFError(.badValue, "tensor '\(name)': row length \(dims[0]) is not a multiple of the \(type.name) block size \(type.blockElements)")
        }
        let rows = floats.count / dims[0]
        var data = [UInt8](repeating: 0, count: rowBytes * rows)
        floats.withUnsafeBufferPointer { src in
            data.withUnsafeMutableBytes { dst in
                for r in 0..<rows {
                    loza_quantize_row_ref(type.kernelType, src.baseAddress! + r * dims[0],
                                          dst.baseAddress! + r * rowBytes, Int64(dims[0]))
                }
            }
        }
        try addTensor(name: name, dims: dims, type: type, data: data)
    }

    /// The complete file.
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: Array("GGUF".utf8))
        out.appendLE(version)
        out.appendLE(UInt64(tensors.count))
        out.appendLE(UInt64(metadata.count))
        for (k, v) in metadata {
            out.appendString(k)
            out.appendLE(v.type.rawValue)
            out.appendValue(v)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            out.appendString(t.name)
            out.appendLE(UInt32(t.dims.count))
            for d in t.dims { out.appendLE(UInt64(d)) }
            out.appendLE(t.type.rawValue)
            out.appendLE(UInt64(offset))
            offsets.append(offset)
            offset = (offset + t.data.count + alignment - 1) / alignment * alignment
        }
        out.pad(to: alignment)
        let dataStart = out.count
        for (t, o) in zip(tensors, offsets) {
            out.append(contentsOf: [UInt8](repeating: 0, count: dataStart + o - out.count))
            out.append(contentsOf: t.data)
        }
        if !tensors.isEmpty { out.pad(to: alignment) }
        return out
    }

    public func write(to path: String) throws(GGUFError) {
        try GGUFWriter.writeBytes(serialize(), to: path)
    }

    /// Writes `bytes` to `path` (created or truncated).
    public static func writeBytes(_ bytes: [UInt8], to path: String) throws(GGUFError) {
        guard let f = fopen(path, "wb") else {
            throw GGUFError(.io, "cannot create file: \(String(cString: strerror(errno)))", path: path)
        }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        guard n == bytes.count, closed == 0 else { throw GGUFError(.io, "write failed", path: path) }
    }
}

extension [UInt8] {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendString(_ s: String) {
        let u = Array(s.utf8)
        appendLE(UInt64(u.count))
        append(contentsOf: u)
    }

    mutating func pad(to alignment: Int) {
        let r = count % alignment
        if r != 0 { append(contentsOf: [UInt8](repeating: 0, count: alignment - r)) }
    }

    mutating func appendValue(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): appendLE(x)
        case .int8(let x): appendLE(x)
        case .uint16(let x): appendLE(x)
        case .int16(let x): appendLE(x)
        case .uint32(let x): appendLE(x)
        case .int32(let x): appendLE(x)
        case .uint64(let x): appendLE(x)
        case .int64(let x): appendLE(x)
        case .float32(let x): appendLE(x.bitPattern)
        case .float64(let x): appendLE(x.bitPattern)
        case .bool(let b): append(b ? 1 : 0)
        case .string(let s): appendString(s)
        case .array(let t, let xs):
            appendLE(t.rawValue)
            appendLE(UInt64(xs.count))
            for x in xs {
                precondition(x.type == t, "GGUF array of \(t.name) holds a \(x.type.name)")
                appendValue(x)
            }
        }
    }
}
