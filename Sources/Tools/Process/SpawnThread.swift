import Foundation

/// The one thread every child is spawned from, alive as long as loza.
///
/// bubblewrap runs with `--die-with-parent`, which is `PR_SET_PDEATHSIG`: the kernel kills bwrap when the
/// *thread* that forked it exits, not the process. A child spawned from a thread of the concurrency or
/// Dispatch pool, which the runtime retires when idle, was killed (signal 9) seconds later while loza ran
/// on: MCP servers died between two calls of a run. Spawning here keeps the parent thread alive until loza
/// exits, when the sandboxes must die anyway.
final class SpawnThread: @unchecked Sendable {
    static let shared = SpawnThread()

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var thread: Thread?

    private init() {
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "loza-spawn"
        self.thread = thread
        thread.start()
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the spawn thread and returns its result (inline when already there).
    func perform<T>(_ body: @escaping () -> T) -> T {
        if Thread.current === thread { return body() }
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        condition.lock()
        jobs.append {
            box.value = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }
}
