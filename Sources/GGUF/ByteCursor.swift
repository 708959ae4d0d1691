/// Bounds-checked little-endian reads from a memory-mapped file. Every read checks that the bytes
/// exist before touching them; the `what` text names the item for the error.
struct ByteCursor {
    let base: UnsafeRawPointer
    let size: Int
    var pos: Int

    init(base: UnsafeRawPointer, size: Int, pos: Int = 0) {
        self.base = base
        self.size = size
        self.pos = pos
    }

    var remaining: Int { size - pos }

    @inline(__always)
    func need(_ n: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        if n > size - pos {
            throw GGUFError(.truncated, "truncated: \(what()) at byte \(pos) needs \(n) bytes, but the file ends at byte \(size)")
        }
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        try need(MemoryLayout<T>.size, what())
        let v = base.loadUnaligned(fromByteOffset: pos, as: T.self)
        pos += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// A GGUF string: u64 length + bytes (UTF-8; invalid sequences become U+FFFD).
    @inline(__always)
    mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let start = pos
        let len = try read(UInt64.self, "length of \(what())")
        guard len <= UInt64(size - pos) else {
            throw GGUFError(.stringTooLong, "\(what()) at byte \(start) claims \(len) bytes, longer than the \(size - pos) bytes left in the file")
        }
        let n = Int(len)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + pos, count: n), as: UTF8.self)
        pos += n
        return s
    }
}
