#if canImport(Glibc)
import Glibc
#endif

/// glibc functions that Swift's Glibc module does not import (they are declared only under `_GNU_SOURCE`),
/// resolved once by name. A missing one makes the sandbox fail closed rather than run with a hole.
enum LibC {
    typealias CloseFromFn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChdirFn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias PrlimitFn = @convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34): no descriptor of the runtime leaks into a tool.
    static let addCloseFrom: CloseFromFn? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
    static let addChdir: ChdirFn? = symbol("posix_spawn_file_actions_addchdir_np")
    /// `prlimit` (Linux): set the resource limits of a process we spawned, before it runs the tool.
    static let prlimit: PrlimitFn? = symbol("prlimit")

    typealias Pipe2Fn = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    /// `pipe2`: pipes created close-on-exec atomically, so no other spawn in the process inherits them.
    static let pipe2: Pipe2Fn? = symbol("pipe2")

    typealias PidfdOpenFn = @convention(c) (pid_t, UInt32) -> Int32
    /// `pidfd_open` (glibc 2.36, Linux 5.3): a descriptor that polls readable once the process exited.
    /// Without it the pump notices a child's exit by polling `waitid`.
    static let pidfdOpen: PidfdOpenFn? = symbol("pidfd_open")

    typealias PidfdSendSignalFn = @convention(c) (Int32, Int32, UnsafeMutableRawPointer?, UInt32) -> Int32
    /// `pidfd_send_signal` (glibc 2.36, Linux 5.1): a signal to the process a pidfd names, never to a later
    /// process that reused its pid.
    static let pidfdSendSignal: PidfdSendSignalFn? = symbol("pidfd_send_signal")

    /// `POSIX_SPAWN_SETSID` (glibc 2.26).
    static let spawnSetSID: Int32 = 0x80

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, name) else { return nil }
        return unsafeBitCast(sym, to: T.self)
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
