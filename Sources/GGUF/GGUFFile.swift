#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A GGUF file mapped read-only into memory. Immutable after init; tensor data pointers stay valid
/// for the life of the object.
public final class GGUFFile: Sendable {
    public let path: String
    public let version: UInt32
    public let alignment: Int
    public let fileSize: Int
    /// Byte offset where the tensor data section starts.
    public let dataOffset: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensor]
    private let tensorIndex: [String: Int]
    nonisolated(unsafe) private let base: UnsafeRawPointer
    private let mapped: Bool  // mmap'ed file, or a heap copy (init(bytes:))

    /// Maps and parses the file. `allowUnsupportedTypes` lets tools list files whose tensors use types
    /// loza cannot run (the engine keeps the default and refuses them).
    public convenience init(path: String, allowUnsupportedTypes: Bool = false) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GGUFError(.io, "cannot open: \(String(cString: strerror(errno)))", path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw GGUFError(.io, "cannot stat: \(String(cString: strerror(errno)))", path: path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw GGUFError(.io, "not a regular file", path: path) }
        let size = Int(st.st_size)
        guard size > 0 else { throw GGUFError(.truncated, "truncated: the file is empty (0 bytes)", path: path) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw GGUFError(.io, "cannot map \(size) bytes: \(String(cString: strerror(errno)))", path: path)
        }
        let parsed: GGUFParser.Parsed
        do {
            parsed = try GGUFParser.parse(base: UnsafeRawPointer(p), size: size, allowUnsupportedTypes: allowUnsupportedTypes)
        } catch {
            munmap(p, size)
            throw error.with(path: path)
        }
        self.init(path: path, base: UnsafeRawPointer(p), size: size, mapped: true, parsed: parsed)
    }

    /// Parses a GGUF image held in memory (copied; no file involved). `name` stands in for the path
    /// in errors.
    public convenience init(bytes: [UInt8], name: String = "<memory>", allowUnsupportedTypes: Bool = false) throws(GGUFError) {
        guard !bytes.isEmpty else { throw GGUFError(.truncated, "truncated: the file is empty (0 bytes)", path: name) }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let parsed: GGUFParser.Parsed
        do {
            parsed = try GGUFParser.parse(base: UnsafeRawPointer(p), size: bytes.count, allowUnsupportedTypes: allowUnsupportedTypes)
        } catch {
            p.deallocate()
            throw error.with(path: name)
        }
        self.init(path: name, base: UnsafeRawPointer(p), size: bytes.count, mapped: false, parsed: parsed)
    }

    private init(path: String, base: UnsafeRawPointer, size: Int, mapped: Bool, parsed: GGUFParser.Parsed) {
        self.path = path
        self.base = base
        self.mapped = mapped
        self.fileSize = size
        self.version = parsed.version
        self.alignment = parsed.alignment
        self.dataOffset = parsed.dataOffset
        self.metadata = parsed.metadata
        self.metadataKeys = parsed.metadataKeys
        self.tensors = parsed.tensors
        var index: [String: Int] = [:]
        index.reserveCapacity(parsed.tensors.count)
        for (i, t) in parsed.tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    public func tensor(_ name: String) -> GGUFTensor? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's data inside the mapping (valid while this object lives).
    public func data(_ t: GGUFTensor) -> UnsafeRawPointer {
        precondition(t.offset >= 0 && t.offset + t.byteCount <= fileSize, "tensor \(t.name) is not from this file")
        return base + t.offset
    }

    /// Row `r` of a tensor (rowBytes bytes).
    public func row(_ t: GGUFTensor, _ r: Int) -> UnsafeRawPointer {
        precondition(r >= 0 && r < t.rowCount, "row \(r) out of range for \(t.name) (\(t.rowCount) rows)")
        return data(t) + r * t.rowBytes
    }

    /// The whole mapping, for tools that need raw bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: fileSize) }

    // MARK: typed metadata accessors (nil when absent or of another type)

    public var architecture: String? { string("general.architecture") }

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    /// Any integer type that fits in Int.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    /// f32 or f64 (integers are converted too).
    public func float(_ key: String) -> Float? { metadata[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    public func stringArray(_ key: String) -> [String]? {
        guard case .array(.string, let xs)? = metadata[key] else { return nil }
        var out: [String] = []
        out.reserveCapacity(xs.count)
        for x in xs {
            guard case .string(let s) = x else { return nil }
            out.append(s)
        }
        return out
    }

    public func intArray(_ key: String) -> [Int]? {
        guard case .array(_, let xs)? = metadata[key] else { return nil }
        var out: [Int] = []
        out.reserveCapacity(xs.count)
        for x in xs {
            guard let v = x.intValue else { return nil }
            out.append(v)
        }
        return out
    }

    public func floatArray(_ key: String) -> [Float]? {
        guard case .array(_, let xs)? = metadata[key] else { return nil }
        var out: [Float] = []
        out.reserveCapacity(xs.count)
        for x in xs {
            guard let v = x.floatValue else { return nil }
            out.append(v)
        }
        return out
    }
}
