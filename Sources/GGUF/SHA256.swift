import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GGUFFile {
    /// Lower-case hex SHA-256 of a file, read in 4 MiB chunks (the caller caches it).
    public static func sha256(path: String) throws(GGUFError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GGUFError(.io, "cannot open: \(String(cString: strerror(errno)))", path: path) }
        defer { close(fd) }
        var hasher = SHA256()
        let chunk = 4 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw GGUFError(.io, "read failed: \(String(cString: strerror(errno)))", path: path)
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buf, count: n))
        }
        return hasher.finalize().map { String($0, radix: 16).leftPad(2) }.joined()
    }
}
