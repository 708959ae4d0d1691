import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one I/O loop of a child, run on a thread of its own so that the Swift concurrency pool is never
/// blocked. It writes what is queued for stdin, hands each output stream's bytes to its sink, reads
/// bwrap's status (the sandbox's init pid, needed to kill the whole sandbox), notices the child's exit,
/// and ends the child: at once (SIGKILL of every process of it) when the wall-clock `deadline` passes or
/// `check` names a reason, or through the graceful `teardown` steps when asked to `stop`. `run` returns
/// once the child is reaped, its outputs are closed and the sandbox's init is dead.
final class ChildPump: @unchecked Sendable {
    typealias Sink = (UnsafeRawBufferPointer) -> Void

    /// How the child ended.
    struct End: Sendable {
        /// The raw wait status of the child.
        var waitStatus: Int32 = 0
        var timedOut = false
        /// Why `check` had the child killed.
        var killReason: String?
        /// bwrap's JSON status (the first 4 KiB).
        var status = ""

        var exitCode: Int32? { waitStatus & 0x7f == 0 ? (waitStatus >> 8) & 0xff : nil }
        var signal: Int32? { waitStatus & 0x7f == 0 ? nil : waitStatus & 0x7f }
    }

    let child: Child
    /// Set before `run`, used on the pump's thread only.
    var sinks: [ChildStream: Sink] = [:]
    var deadline = Double.infinity
    /// Called every `checkInterval` seconds while the child runs, with the sandbox's init pid (0 until
    /// known); a reason kills the child.
    var check: ((Double, pid_t) -> String?)? = nil
    var checkInterval = 0.05
    var teardown: [TeardownStep] = []
    /// A server whose stdout closed is of no more use: tear it down.
    var stopWhenStdoutCloses = false

    private let lock = NSLock()
    private var queued: [UInt8] = []
    private var inputFinished = false
    private var stopWanted = false
    private var ended = false
    private let wakeR: Int32
    private let wakeW: Int32

    private init(_ child: Child, wake: (Int32, Int32)) {
        self.child = child
        (wakeR, wakeW) = wake
    }

    /// Starts a child (see `Child.spawn`) with its pump; configure the pump, then `run` it.
    static func spawn(_ spec: ChildSpec, prepare: ((pid_t) -> String?)? = nil) -> Result<ChildPump, SpawnFailure> {
        var fds: [Int32] = [-1, -1]
        guard let pipe2 = LibC.pipe2, pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            return .failure(SpawnFailure(description: "pipe: \(LibC.errnoText())"))
        }
        switch Child.spawn(spec, prepare: prepare) {
        case .success(let child):
            return .success(ChildPump(child, wake: (fds[0], fds[1])))
        case .failure(let e):
            close(fds[0])
            close(fds[1])
            return .failure(e)
        }
    }

    /// Queues bytes for the child's stdin. Any thread.
    func send(_ bytes: [UInt8]) {
        lock.withLock {
            if !inputFinished { queued += bytes }
            wakeLocked()
        }
    }

    /// Closes stdin once what is queued has been written. Any thread.
    func finishInput() {
        lock.withLock {
            inputFinished = true
            wakeLocked()
        }
    }

    /// Runs the teardown sequence. Any thread.
    func stop() {
        lock.withLock {
            stopWanted = true
            wakeLocked()
        }
    }

    /// Under `lock`: the wake pipe is closed (and its number may be reused) once `run` has returned.
    private func wakeLocked() {
        guard !ended else { return }
        var b: UInt8 = 1
        _ = write(wakeW, &b, 1)
    }

    /// Starts `body` on a thread of its own.
    static func detach(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    private enum Phase {
        case running
        case stopping(step: Int, until: Double)
        case killed
    }

    func run() -> End {
        _ = ChildPump.ignoreSIGPIPE
        var end = End()
        var open = Set(child.descriptors)
        func forget(_ fd: Int32) {
            if open.remove(fd) != nil { close(fd) }
        }
        var readers: [(fd: Int32, stream: ChildStream?)] = []   // nil: bwrap's status
        for (fd, stream) in [(child.stdout, ChildStream.stdout), (child.stderr, .stderr), (child.toolStderr, .toolStderr)] where fd >= 0 {
            readers.append((fd, stream))
        }
        if child.status >= 0 { readers.append((child.status, nil)) }
        var stdinFD = child.stdin
        for fd in readers.map(\.fd) + [stdinFD] where fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        var phase = Phase.running
        var exited = false
        var drainUntil = Double.infinity
        var nextCheck = LibC.monotonicSeconds()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }

        func closeInput() {
            if stdinFD >= 0 { forget(stdinFD); stdinFD = -1 }
            lock.withLock { queued = []; inputFinished = true }
        }
        func killAll(_ now: Double) {
            child.signal(SIGKILL)
            phase = .killed
            drainUntil = min(drainUntil, now + 2)
        }
        func step(_ i: Int, _ now: Double) {
            guard i < teardown.count else { return killAll(now) }
            switch teardown[i] {
            case .closeInput(let grace):
                closeInput()
                phase = .stopping(step: i, until: now + grace)
            case .signal(let sig, let grace):
                child.signal(sig)
                phase = .stopping(step: i, until: now + grace)
            }
        }

        while true {
            let now = LibC.monotonicSeconds()
            let (wantStop, hasInput, inputDone) = lock.withLock { (stopWanted, !queued.isEmpty, inputFinished) }
            if !exited {
                switch phase {
                case .running:
                    let stdoutClosed = stopWhenStdoutCloses && !readers.contains { $0.stream == .stdout }
                    if now >= deadline {
                        end.timedOut = true
                        killAll(now)
                    } else if let check, now >= nextCheck, let reason = check(now, child.initPid) {
                        end.killReason = reason
                        killAll(now)
                    } else if wantStop || stdoutClosed {
                        step(0, now)
                    }
                    if now >= nextCheck { nextCheck = now + checkInterval }
                case .stopping(let i, let until):
                    if now >= until { step(i + 1, now) }
                case .killed:
                    break
                }
            }
            if stdinFD >= 0 && !hasInput && inputDone { forget(stdinFD); stdinFD = -1 }
            if !exited && child.hasExited {
                exited = true
                // Unsandboxed: the child's background descendants die with it (its process group,
                // killed while the zombie still holds the group's id).
                if child.newSession { kill(-child.pid, SIGKILL) }
                end.waitStatus = child.reap()
                if !readers.isEmpty { drainUntil = min(drainUntil, now + 2) }
            }
            // Only an unsandboxed descendant that escaped the process group can hold a pipe this long.
            if (exited && readers.isEmpty) || now >= drainUntil { break }

            var pfds = readers.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            pfds.append(pollfd(fd: wakeR, events: Int16(POLLIN), revents: 0))
            let writing = stdinFD >= 0 && hasInput
            if writing { pfds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if !exited && child.exitFD >= 0 { pfds.append(pollfd(fd: child.exitFD, events: Int16(POLLIN), revents: 0)) }
            var wait = min(drainUntil - now, 1.0)
            if !exited {
                switch phase {
                case .running:
                    wait = min(wait, deadline - now)
                    if check != nil { wait = min(wait, nextCheck - now) }
                case .stopping(_, let until): wait = min(wait, until - now)
                case .killed: break
                }
                // Without a pidfd, the child's exit is noticed by polling.
                if child.exitFD < 0 { wait = min(wait, readers.isEmpty ? 0.002 : 0.05) }
            }
            let n = poll(&pfds, nfds_t(pfds.count), Int32(max(0, wait) * 1000) + 1)
            if n < 0 && errno != EINTR { break }
            if n <= 0 { continue }

            var closed: [Int32] = []
            for (i, r) in readers.enumerated() where pfds[i].revents != 0 {
                while true {
                    let got = read(r.fd, buffer, 1 << 16)
                    if got > 0 {
                        let chunk = UnsafeRawBufferPointer(start: buffer, count: got)
                        if let stream = r.stream {
                            sinks[stream]?(chunk)
                        } else {
                            if end.status.utf8.count < 4096 { end.status += String(decoding: chunk, as: UTF8.self) }
                            if child.initPid == 0, let p = Child.parseChildPid(end.status) {
                                child.adoptInit(p)
                                nextCheck = LibC.monotonicSeconds()   // a check on the sandbox runs as soon as it can
                            }
                        }
                        if got < (1 << 16) { break }
                    } else if got == 0 || (errno != EAGAIN && errno != EINTR) {
                        closed.append(r.fd)
                        break
                    } else if errno == EAGAIN {
                        break
                    }
                }
            }
            for fd in closed {
                readers.removeAll { $0.fd == fd }
                forget(fd)
            }
            while read(wakeR, buffer, 256) > 0 {}
            if writing, let pf = pfds.first(where: { $0.fd == stdinFD }), pf.revents != 0 {
                if pf.revents & Int16(POLLOUT) == 0 {
                    closeInput()   // the reading end is gone
                } else {
                    let chunk: [UInt8] = lock.withLock { queued }
                    let wrote = chunk.withUnsafeBytes { write(stdinFD, $0.baseAddress!, $0.count) }
                    if wrote > 0 {
                        lock.withLock { queued.removeFirst(min(wrote, queued.count)) }
                    } else if wrote < 0 && errno != EAGAIN && errno != EINTR {
                        closeInput()
                    }
                }
            }
        }
        if !exited {
            child.signal(SIGKILL)
            end.waitStatus = child.reap()
        }
        for fd in open { close(fd) }
        sinks = [:]     // they may hold the pump's owner
        check = nil
        lock.withLock {
            ended = true
            close(wakeR)
            close(wakeW)
        }
        child.awaitSandboxGone()
        return end
    }

    /// Writing to a pipe whose reader died must be an error, not a signal that ends loza.
    static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()
}
