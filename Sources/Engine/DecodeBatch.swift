import Foundation

/// Sessions of one model that decode at the same time, each driven by its own thread (the runs of
/// `loza batch --jobs N`), sharing one thread pool: their decode steps are computed together, one
/// pass over the weights for the next rows of every timeline (continuous batching: sessions join
/// when their decode loop starts and leave when it ends).
///
/// A session's step (`Session.decode`, `appendRows`) is a request here; the pass runs once every
/// joined session has its request in (the last one to arrive computes it, on its own thread, while
/// the others wait), so a step costs one weight read for all of them. A request from a session that
/// is not in a decode loop (a prompt's last token) does not wait for the others. Prefill batches
/// take the pool alone (`exclusive`), between passes. Each row is computed as that session's decode
/// would compute it alone (`Forward.decodeRows`), so every session's tokens are bit for bit those it
/// gets alone.
public final class DecodeBatch: @unchecked Sendable {
    public let model: Model
    public let pool: ThreadPool
    /// Scratch for passes of several sessions (the rows' logits land here, then go to each session).
    private let forward: Forward
    private let cond = NSCondition()
    // Guarded by `cond`.
    private var members = 0
    private var queue: [Request] = []
    private var queuedMembers = 0
    private var running = false
    /// Prefill batches waiting for the pool: the next pass waits for them (else a stream of passes
    /// could keep a new task's prompt out for long).
    private var exclusiveWaiting = 0
    private var sharedPasses = 0, sharedRows = 0
    /// Passes that held more than one session, and their rows (for `loza batch` figures and tests).
    public var sharedPassCounts: (passes: Int, rows: Int) {
        cond.lock(); defer { cond.unlock() }
        return (sharedPasses, sharedRows)
    }

    final class Request {
        let session: Session
        let tokens: [Int32]
        let position: Int
        /// Set by the pass: the logits are in the session's row buffers (else its one-token logits).
        var inRows = false
        var done = false
        init(session: Session, tokens: [Int32], position: Int) {
            self.session = session
            self.tokens = tokens
            self.position = position
        }
    }

    public init(model: Model, threads: Int = ThreadPool.defaultThreadCount) {
        self.model = model
        pool = ThreadPool(threads: threads)
        forward = Forward(model: model, pool: pool, maxBatch: Forward.maxDecodeRows)
    }

    /// Sessions in a decode loop right now.
    public var decodingSessions: Int {
        cond.lock(); defer { cond.unlock() }
        return members
    }

    /// A session's decode loop starts: passes wait for its steps until `leave`.
    func join() {
        cond.lock(); defer { cond.unlock() }
        members += 1
    }

    func leave() {
        cond.lock(); defer { cond.unlock() }
        members -= 1
        cond.broadcast()
    }

    /// Run `body` with the pool to itself (a prefill batch), before the next pass.
    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        cond.lock()
        exclusiveWaiting += 1
        while running { cond.wait() }
        exclusiveWaiting -= 1
        running = true
        cond.unlock()
        defer {
            cond.lock()
            running = false
            cond.broadcast()
            cond.unlock()
        }
        return try body()
    }

    /// Compute `tokens` at `position ..< position + count` of `session` (at most its `maxRows`) in the
    /// next pass; returns when they are computed: true when their logits are in the session's row
    /// buffers (`Forward.rowLogits`), false when in its one-token logits.
    func step(_ session: Session, tokens: [Int32], position: Int, member: Bool) -> Bool {
        let request = Request(session: session, tokens: tokens, position: position)
        cond.lock()
        queue.append(request)
        if member { queuedMembers += 1 }
        while !request.done {
            let ready = !running && exclusiveWaiting == 0 && !queue.isEmpty
                && (queuedMembers >= members || queue.count > queuedMembers)
            if !ready {
                cond.wait()
                continue
            }
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            queuedMembers = 0
            running = true
            cond.unlock()
            let shared = compute(taken)
            cond.lock()
            sharedPasses += shared.passes
            sharedRows += shared.rows
            for r in taken { r.done = true }
            running = false
            cond.broadcast()
        }
        cond.unlock()
        return request.inRows
    }

    /// The requests' rows in passes of at most `Forward.maxDecodeRows` rows (a request is never split):
    /// a lone request runs on its session's own scratch, exactly as without a batch.
    private func compute(_ requests: [Request]) -> (passes: Int, rows: Int) {
        var group: [Request] = []
        var rows = 0
        var shared = (passes: 0, rows: 0)
        func flush() {
            defer { group.removeAll(keepingCapacity: true); rows = 0 }
            if group.count == 1 {
                let r = group[0]
                r.inRows = r.session.computeRows(r.tokens, position: r.position)
                return
            }
            guard !group.isEmpty else { return }
            var all: [DecodeRow] = []
            all.reserveCapacity(rows)
            for r in group {
                for (i, t) in r.tokens.enumerated() {
                    all.append(DecodeRow(token: t, position: r.position + i, cache: r.session.cache))
                }
            }
            forward.decodeRows(all)
            shared.passes += 1
            shared.rows += all.count
            var first = 0
            for r in group {
                r.session.receiveRows(from: forward, first: first, count: r.tokens.count)
                r.inRows = true
                first += r.tokens.count
            }
        }
        for r in requests {
            if rows + r.tokens.count > Forward.maxDecodeRows { flush() }
            group.append(r)
            rows += r.tokens.count
        }
        flush()
        return shared
    }
}
