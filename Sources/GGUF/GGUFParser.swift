/// Parses the header, metadata and tensor table of a GGUF v2/v3 file held in memory.
struct GGUFParser {
    struct Parsed {
        var version: UInt32
        var alignment: Int
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var tensors: [GGUFTensor]
        var dataOffset: Int
    }

    static let magic: [UInt8] = Array("GGUF".utf8)
    static let maxArrayDepth = 8
    static let maxDims = 4

    static func parse(base: UnsafeRawPointer, size: Int, allowUnsupportedTypes: Bool) throws(GGUFError) -> Parsed {
        var c = ByteCursor(base: base, size: size)
        try c.need(4, "magic")
        let m = UnsafeRawBufferPointer(start: base, count: 4)
        guard m.elementsEqual(magic) else {
            let hex = m.map { String($0, radix: 16).leftPad(2) }.joined()
            let text = String(m.map { (0x20..<0x7f).contains($0) ? Character(UnicodeScalar($0)) : "." })
            throw GGUFError(.badMagic, "not a GGUF file: bad magic 0x\(hex) (\"\(text)\") at byte 0, expected \"GGUF\"")
        }
        c.pos = 4
        let version = try c.read(UInt32.self, "version")
        switch version {
        case 2, 3: break
        case 1:
            throw GGUFError(.unsupportedVersion, "GGUF version 1 is not supported (only 2 and 3); re-convert the model with a current llama.cpp")
        case 0x0200_0000, 0x0300_0000:
            throw GGUFError(.unsupportedVersion, "big-endian GGUF files are not supported")
        default:
            throw GGUFError(.unsupportedVersion, "unsupported GGUF version \(version) (only 2 and 3)")
        }
        let tensorCount = try c.read(UInt64.self, "tensor count")
        let kvCount = try c.read(UInt64.self, "metadata count")
        // Each key/value takes at least 13 bytes (key length, type, one byte); each tensor entry at least 32.
        try checkCount(kvCount, minimumSize: 13, c, "metadata count \(kvCount) at byte 16", "metadata entries")
        try checkCount(tensorCount, minimumSize: 32, c, "tensor count \(tensorCount) at byte 8", "tensor table entries")

        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(Int(kvCount))
        var keys: [String] = []
        keys.reserveCapacity(Int(kvCount))
        for i in 0..<Int(kvCount) {
            let at = c.pos
            let key = try c.string("key of metadata entry #\(i)")
            let rawType = try c.read(UInt32.self, "type of metadata key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError(.unknownType, "metadata key '\(key)' at byte \(at) has unknown value type \(rawType)")
            }
            let value = try readValue(&c, type, key: key, depth: 0)
            if metadata.updateValue(value, forKey: key) != nil {
                throw GGUFError(.duplicate, "duplicate metadata key '\(key)' at byte \(at)")
            }
            keys.append(key)
        }

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0, v <= 1 << 30 else {
                throw GGUFError(.badValue, "general.alignment is \(a), not a power of two")
            }
            alignment = v
        }

        struct Entry { var name: String; var dims: [Int]; var type: GGMLType; var relOffset: UInt64; var at: Int }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(tensorCount))
        var names = Set<String>()
        for i in 0..<Int(tensorCount) {
            let at = c.pos
            let name = try c.string("name of tensor #\(i)")
            let nDims = try c.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard nDims >= 1, nDims <= UInt32(maxDims) else {
                throw GGUFError(.badValue, "tensor '\(name)' (entry at byte \(at)) has \(nDims) dimensions; 1 to \(maxDims) allowed")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let v = try c.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard v >= 1, v <= UInt64(Int64.max) else {
                    throw GGUFError(.badValue, "tensor '\(name)' (entry at byte \(at)) has dimension \(d) = \(v)")
                }
                let (p, o) = elements.multipliedReportingOverflow(by: Int(v))
                guard !o else {
                    throw GGUFError(.absurdCount, "tensor '\(name)' (entry at byte \(at)): dimensions overflow a 64-bit element count")
                }
                elements = p
                dims.append(Int(v))
            }
            let rawType = try c.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError(.unknownType, "tensor '\(name)' (entry at byte \(at)) has unknown type number \(rawType)")
            }
            if !type.isSupported && !allowUnsupportedTypes {
                throw GGUFError(.unsupportedType, "tensor '\(name)' has type \(type.name), which loza does not support (supported: \(GGMLType.supported.map(\.name).joined(separator: ", ")))")
            }
            guard dims[0] % type.blockElements == 0 else {
                throw GGUFError(.badValue, "tensor '\(name)' (entry at byte \(at)): row length \(dims[0]) is not a multiple of the \(type.name) block size \(type.blockElements)")
            }
            let off = try c.read(UInt64.self, "data offset of tensor '\(name)'")
            guard names.insert(name).inserted else {
                throw GGUFError(.duplicate, "duplicate tensor name '\(name)' (entry at byte \(at))")
            }
            entries.append(Entry(name: name, dims: dims, type: type, relOffset: off, at: at))
        }

        let dataOffset = (c.pos + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensor] = []
        tensors.reserveCapacity(entries.count)
        for e in entries {
            guard e.relOffset % UInt64(alignment) == 0 else {
                throw GGUFError(.misaligned, "tensor '\(e.name)' data offset \(e.relOffset) is not a multiple of the alignment \(alignment)")
            }
            let rows = e.dims.dropFirst().reduce(1, *)  // cannot overflow: the full product did not
            guard let rowBytes = e.type.rowBytes(e.dims[0]) else {
                throw GGUFError(.absurdCount, "tensor '\(e.name)': row size overflows")
            }
            let (bytes, o1) = rowBytes.multipliedReportingOverflow(by: rows)
            guard !o1, e.relOffset <= UInt64(size) else {
                throw GGUFError(.dataPastEnd, "tensor '\(e.name)' data at offset \(e.relOffset) past the data start (byte \(dataOffset)) is beyond the end of the file (\(size) bytes)")
            }
            let start = dataOffset + Int(e.relOffset)
            let (end, o2) = start.addingReportingOverflow(bytes)
            guard !o2, end <= size else {
                throw GGUFError(.dataPastEnd, "tensor '\(e.name)' data [\(start), \(o2 ? "overflow" : String(end))) runs past the end of the file (\(size) bytes)")
            }
            tensors.append(GGUFTensor(name: e.name, dims: e.dims, type: e.type, offset: start, byteCount: bytes,
                                      elementCount: rows * e.dims[0], rowCount: rows, rowBytes: rowBytes))
        }
        return Parsed(version: version, alignment: alignment, metadata: metadata, metadataKeys: keys,
                      tensors: tensors, dataOffset: dataOffset)
    }

    /// A count of items that take at least `minimumSize` bytes each must fit in the bytes left: a count
    /// that could not fit even in the whole file is absurd (corrupt); a smaller one means truncation.
    static func checkCount(_ count: UInt64, minimumSize: Int, _ c: ByteCursor, _ what: @autoclosure () -> String,
                           _ items: String) throws(GGUFError) {
        let fits = c.remaining / minimumSize
        guard count > UInt64(fits) else { return }
        if count <= UInt64(c.size / minimumSize) {
            throw GGUFError(.truncated, "truncated: \(what()) needs at least \(count * UInt64(minimumSize)) more bytes, but the file ends at byte \(c.size)")
        }
        throw GGUFError(.absurdCount, "absurd \(what()): the \(c.remaining) bytes left can hold at most \(fits) \(items)")
    }

    static func readValue(_ c: inout ByteCursor, _ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, "value of key '\(key)'"))
        case .int8: return .int8(try c.read(Int8.self, "value of key '\(key)'"))
        case .uint16: return .uint16(try c.read(UInt16.self, "value of key '\(key)'"))
        case .int16: return .int16(try c.read(Int16.self, "value of key '\(key)'"))
        case .uint32: return .uint32(try c.read(UInt32.self, "value of key '\(key)'"))
        case .int32: return .int32(try c.read(Int32.self, "value of key '\(key)'"))
        case .uint64: return .uint64(try c.read(UInt64.self, "value of key '\(key)'"))
        case .int64: return .int64(try c.read(Int64.self, "value of key '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try c.read(UInt32.self, "value of key '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try c.read(UInt64.self, "value of key '\(key)'")))
        case .bool:
            let at = c.pos
            let b = try c.read(UInt8.self, "value of key '\(key)'")
            guard b <= 1 else { throw GGUFError(.badValue, "metadata key '\(key)' at byte \(at): bool value \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case .string: return .string(try c.string("string value of key '\(key)'"))
        case .array:
            let at = c.pos
            guard depth < maxArrayDepth else {
                throw GGUFError(.absurdCount, "metadata key '\(key)' at byte \(at): arrays nested deeper than \(maxArrayDepth)")
            }
            let rawType = try c.read(UInt32.self, "array element type of key '\(key)'")
            guard let et = GGUFValueType(rawValue: rawType) else {
                throw GGUFError(.unknownType, "metadata key '\(key)' at byte \(at) is an array of unknown value type \(rawType)")
            }
            let count = try c.read(UInt64.self, "array length of key '\(key)'")
            try checkCount(count, minimumSize: et.minimumSize, c, "array length \(count) of \(et.name) for key '\(key)' at byte \(at)", "elements")
            let n = Int(count)
            var out: [GGUFValue] = []
            out.reserveCapacity(n)
            switch et {
            case .string:
                for _ in 0..<n { out.append(.string(try c.string("string #\(out.count) of array '\(key)'"))) }
            case .array, .bool:
                for _ in 0..<n { out.append(try readValue(&c, et, key: key, depth: depth + 1)) }
            default:
                // Fixed-size elements: the count check above already proved they are all in the file.
                let sz = et.fixedSize!
                let p = c.base + c.pos
                for i in 0..<n {
                    let q = p + i * sz
                    switch et {
                    case .uint8: out.append(.uint8(q.load(as: UInt8.self)))
                    case .int8: out.append(.int8(q.load(as: Int8.self)))
                    case .uint16: out.append(.uint16(UInt16(littleEndian: q.loadUnaligned(as: UInt16.self))))
                    case .int16: out.append(.int16(Int16(littleEndian: q.loadUnaligned(as: Int16.self))))
                    case .uint32: out.append(.uint32(UInt32(littleEndian: q.loadUnaligned(as: UInt32.self))))
                    case .int32: out.append(.int32(Int32(littleEndian: q.loadUnaligned(as: Int32.self))))
                    case .uint64: out.append(.uint64(UInt64(littleEndian: q.loadUnaligned(as: UInt64.self))))
                    case .int64: out.append(.int64(Int64(littleEndian: q.loadUnaligned(as: Int64.self))))
                    case .float32: out.append(.float32(Float(bitPattern: UInt32(littleEndian: q.loadUnaligned(as: UInt32.self)))))
                    case .float64: out.append(.float64(Double(bitPattern: UInt64(littleEndian: q.loadUnaligned(as: UInt64.self)))))
                    default: break
                    }
                }
                c.pos += n * sz
            }
            return .array(et, out)
        }
    }
}

extension String {
    func leftPad(_ n: Int, with ch: Character = "0") -> String {
        count >= n ? self : String(repeating: ch, count: n - count) + self
    }
}
