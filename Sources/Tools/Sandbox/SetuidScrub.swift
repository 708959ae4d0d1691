import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// When loza runs as root, the sandbox's uid 0 owns files as the host's root. Inside, the work directory is
/// mounted `nosuid`, but a tool could still leave a setuid-root (or setgid) executable there for someone to
/// run on the host later. After each call (all of its processes are gone, so nothing races this), the
/// writable paths are walked without following symlinks and those bits are cleared.
enum SetuidScrub {
    static let needed: Bool = geteuid() == 0

    /// Returns the paths whose setuid/setgid bits were cleared. Visits at most `limit` entries.
    static func scrub(_ roots: [String], limit: Int = 200_000) -> [String] {
        var cleared: [String] = []
        var visited = 0
        var stack = roots
        while let dir = stack.popLast(), visited < limit {
            guard let d = opendir(dir) else { continue }
            defer { closedir(d) }
            while let entry = readdir(d), visited < limit {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                visited += 1
                let path = dir + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                let kind = st.st_mode & S_IFMT
                if kind == S_IFDIR {
                    stack.append(path)
                } else if kind == S_IFREG && st.st_mode & (S_ISUID | S_ISGID) != 0 {
                    if chmod(path, st.st_mode & 0o1777) == 0 { cleared.append(path) }
                }
            }
        }
        return cleared
    }
}
