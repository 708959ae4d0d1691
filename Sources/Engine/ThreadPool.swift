#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A persistent pool of `count` threads (the caller is thread 0, `count - 1` workers) that run one job
/// at a time: `run { t in ... }` calls the body once on every thread with its index and returns when
/// all are done. Work is split by the body itself (`ThreadPool.split`), statically, so every output is
/// computed by exactly one thread and results are bit-identical for a given thread count.
///
/// Workers spin briefly on a generation counter (operations come back to back during a forward
/// pass) and then sleep on a condition variable, so an idle pool costs nothing.
///
/// A busy CPU: when another process takes a core, a preempted worker holds up every job for a
/// scheduler time slice while the others spin. `run` measures, per job, the caller's own work and
/// its wait for the workers; when the wait outgrows the work (time lost to preemption), the pool runs
/// jobs serially on the caller for a while (parts 0..<count one after another: the same partition,
/// so the same bits; the workers sleep) and then tries the threads again.
public final class ThreadPool: @unchecked Sendable {
    public let count: Int

    /// How jobs are run: adaptive (threads, serial while the threads lose time), or always one way.
    public enum Schedule: Sendable { case adaptive, parallel, serial }
    /// LOZA_POOL=parallel or serial fixes the schedule (for measuring one against the other).
    public var schedule: Schedule = {
        switch getenv("LOZA_POOL").map({ String(cString: $0) }) {
        case "parallel": .parallel
        case "serial": .serial
        default: .adaptive
        }
    }()
    /// Jobs run serially because the threads were losing time, and times that happened.
    public private(set) var serialJobs = 0
    public private(set) var serialSwitches = 0
    private var serialLeft = 0
    private var parallelRuns = 0
    private var waitNanos = 0.0, workNanos = 0.0
    /// Jobs run serially after lost time is detected, before the threads are tried again: 500 at
    /// first (a host hiccup costs little), doubling while the threads keep losing time right after each
    /// stretch (up to 8000, about 50 tokens of decode), back to 500 after 4000 clean threaded jobs.
    private var serialStretch = ThreadPool.shortestStretch
    private static let shortestStretch = 500, longestStretch = 8000

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []

    /// Spin this long (nanoseconds) waiting for work before sleeping.
    private static let spinNanos: UInt64 = 2_000_000

    /// The number of CPU cores this process may use.
    public static var defaultThreadCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    public init(threads: Int = ThreadPool.defaultThreadCount) {
        count = max(1, threads)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        for i in 1..<count {
            let box = Unmanaged.passRetained(WorkerArgs(pool: self, index: i))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let args = Unmanaged<WorkerArgs>.fromOpaque(raw!).takeRetainedValue()
                args.pool.workerLoop(args.index)
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            self.threads.append(tid)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Run `body(t)` on every thread t in 0..<count; returns when all have finished.
    /// Not reentrant: one caller at a time.
    public func run(_ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        if schedule == .serial || (schedule == .adaptive && serialLeft > 0) {
            if serialLeft > 0 { serialLeft -= 1 }
            serialJobs += 1
            for t in 0..<count { body(t) }
            return
        }
        let t0 = Self.nanos()
        var t1: UInt64 = 0
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            pending.store(count - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
            escaping(0)
            t1 = Self.nanos()
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
            }
            job = nil
        }
        if schedule == .adaptive { noteParallelJob(work: t1 - t0, wait: Self.nanos() - t1) }
    }

    /// Running averages of the caller's work and its wait for the workers; when the wait is more than
    /// the work (about 3 in 4 of the threads' time lost), go serial for a stretch of jobs.
    private func noteParallelJob(work: UInt64, wait: UInt64) {
        let a = 1.0 / 64
        workNanos += a * (Double(work) - workNanos)
        waitNanos += a * (Double(wait) - waitNanos)
        parallelRuns += 1
        if parallelRuns >= 4000 { serialStretch = Self.shortestStretch }
        if parallelRuns >= 64 && waitNanos > workNanos && waitNanos > 20_000 {
            serialLeft = serialStretch
            serialStretch = min(serialStretch * 2, Self.longestStretch)
            serialSwitches += 1
            parallelRuns = 0
            workNanos = 0
            waitNanos = 0
        }
    }

    /// The part of `0..<n` that thread `t` of `parts` handles: contiguous, in order, sizes differing by
    /// at most `align`, boundaries on multiples of `align`.
    @inline(__always)
    public static func split(_ n: Int, parts: Int, index t: Int, align: Int = 1) -> Range<Int> {
        let units = (n + align - 1) / align
        let lo = units * t / parts, hi = units * (t + 1) / parts
        return min(lo * align, n)..<min(hi * align, n)
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        while true {
            var start: UInt64 = 0
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                spins += 1
                if spins & 255 == 0 {
                    let now = Self.nanos()
                    if start == 0 { start = now }
                    if now - start > Self.spinNanos {
                        pthread_mutex_lock(mutex)
                        while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                            pthread_cond_wait(cond, mutex)
                        }
                        pthread_mutex_unlock(mutex)
                    } else if spins & 4095 == 0 {
                        sched_yield()
                    }
                }
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = generation.load(ordering: .acquiring)
            job!(index)
            pending.subtract(1, ordering: .releasing)
        }
    }

    private static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

private final class WorkerArgs {
    unowned(unsafe) let pool: ThreadPool
    let index: Int
    init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
}
