import CBLAS

/// One timeline of a model: the tokens so far, their KV cache, and the logits of the last position.
/// `append` processes only the new tokens (in prefill batches); `rewind` cuts the timeline back to a
/// prefix; nothing in the cache is ever computed twice.
public final class Session {
    public let model: Model
    public let pool: ThreadPool
    public let plan: AttentionPlan
    /// Most tokens processed as one prefill batch.
    public let batchSize: Int
    /// Most positions the timeline may hold (the model's context length unless limited).
    public let maxLength: Int

    public private(set) var tokens: [Int32] = []
    /// True when `logits` belong to the last token of `tokens` (false after a rewind until the next append).
    public private(set) var hasLogits = false

    let cache: KVCache
    let forward: Forward
    /// The sessions this one decodes with (its pool is the batch's), if any.
    public let batch: DecodeBatch?

    /// - threads: thread count (default: the cores); results are bit-identical for a given count.
    /// - maxLength: limit on the timeline (default: the model's context length).
    /// - initialCapacity: KV positions allocated up front (the cache grows by doubling beyond it).
    /// - pool: run on this thread pool instead of a new one of `threads` threads (sessions used one at
    ///   a time may share one, e.g. to compare two attention plans without two sets of spinning workers).
    /// - batch: decode together with the other sessions of this batch, which may be driven from other
    ///   threads (`DecodeBatch`); the session runs on the batch's pool (`threads` and `pool` are ignored).
    public init(model: Model, threads: Int = ThreadPool.defaultThreadCount, plan: AttentionPlan? = nil,
                batchSize: Int = 512, maxLength: Int? = nil, initialCapacity: Int = 1024, pool: ThreadPool? = nil,
                batch: DecodeBatch? = nil) {
        precondition(batch == nil || batch!.model === model, "a session joins a batch of its own model")
        self.model = model
        self.batch = batch
        let pool = batch?.pool ?? pool ?? ThreadPool(threads: threads)
        self.pool = pool
        let plan = plan ?? .full(layerCount: model.config.layerCount)
        precondition(plan.layers.count == model.config.layerCount, "attention plan has \(plan.layers.count) layers, model has \(model.config.layerCount)")
        precondition(plan.fits(kvHeads: model.config.kvHeadCount), "attention plan's per-head layers need \(model.config.kvHeadCount) heads of full or sparse")
        self.plan = plan
        self.batchSize = max(1, batchSize)
        self.maxLength = min(maxLength ?? model.config.contextLength, model.config.contextLength)
        // Each pool thread calls single-threaded SGEMM on its own slice (see Forward.gemm).
        openblas_set_num_threads(1)
        cache = KVCache(config: model.config, plan: plan, initialLength: min(initialCapacity, self.maxLength))
        forward = Forward(model: model, pool: pool, maxBatch: self.batchSize)
        forward.reserveKeys(min(initialCapacity, self.maxLength))
    }

    /// Number of positions in the timeline.
    public var count: Int { tokens.count }

    /// Logits of the last token (vocabulary size); valid while `hasLogits`.
    public var logits: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: rowLogits(after: tokens.count - 1) ?? forward.logits.pointer,
                                   count: model.config.vocabSize)
    }

    /// The logits the last `appendRows` computed after the token at `index`, if it computed them.
    private func rowLogits(after index: Int) -> UnsafeMutablePointer<Float>? {
        guard rowsCount > 0, index >= rowsStart, index < min(rowsStart + rowsCount, tokens.count) else { return nil }
        return forward.rowLogits(index - rowsStart)
    }

    /// Logits that follow the token at `index` of the timeline: those of the last token (`logits`, while
    /// `hasLogits`), or of any row the last `appendRows` computed (nil otherwise).
    public func logits(after index: Int) -> UnsafeMutableBufferPointer<Float>? {
        if index == tokens.count - 1 { return hasLogits ? logits : nil }
        return rowLogits(after: index).map { UnsafeMutableBufferPointer(start: $0, count: model.config.vocabSize) }
    }

    /// The positions the last `appendRows` computed (their logits stay valid after a rewind into them).
    private var rowsStart = 0
    private var rowsCount = 0

    /// Most tokens one `appendRows` may take at the current length.
    public var maxRows: Int {
        var n = min(Forward.maxDecodeRows, batchSize, maxLength - tokens.count)
        for layout in cache.layouts { n = min(n, layout.maxBatch(at: tokens.count)) }
        return max(n, 0)
    }

    /// Append `newTokens` (at most `maxRows`) as that many decode steps computed in one pass over the
    /// weights (`Forward.decodeRows`): K/V and logits bit-identical to decoding them one by one. After
    /// a `rewind` that keeps the first k of them, `logits` are those of the k-th (so guessed tokens can
    /// be verified and the wrong ones cut off without computing anything again).
    public func appendRows(_ newTokens: [Int32]) throws(EngineError) {
        guard !newTokens.isEmpty else { return }
        let vocab = model.config.vocabSize
        for t in newTokens where t < 0 || Int(t) >= vocab { throw .invalidToken(id: t, vocabSize: vocab) }
        let start = tokens.count
        guard start + newTokens.count <= maxLength else {
            throw .contextFull(capacity: maxLength, requested: start + newTokens.count)
        }
        precondition(newTokens.count <= maxRows, "appendRows takes at most maxRows (\(maxRows)) tokens")
        step(newTokens, position: start)
    }

    /// Decode steps for `newTokens` at `position` (the timeline's end), alone or in the batch's next pass.
    private func step(_ newTokens: [Int32], position start: Int) {
        cache.reserve(length: start + newTokens.count)
        forward.reserveKeys(start + newTokens.count)
        let inRows = batch?.step(self, tokens: newTokens, position: start, member: decoding)
            ?? computeRows(newTokens, position: start)
        tokens.append(contentsOf: newTokens)
        cache.setLength(tokens.count)
        rowsStart = start
        rowsCount = inRows ? newTokens.count : 0
        hasLogits = true
    }

    /// Compute `newTokens` at `position` on this session's own scratch: one decode step (logits in
    /// `forward.logits`, returns false) or a multi-row decode (logits in the row buffers, true).
    func computeRows(_ newTokens: [Int32], position: Int) -> Bool {
        if newTokens.count == 1 {
            forward.decode(token: newTokens[0], position: position, cache: cache)
            return false
        }
        newTokens.withUnsafeBufferPointer { buf in
            forward.decodeRows(tokens: buf.baseAddress!, count: buf.count, position: position, cache: cache)
        }
        return true
    }

    /// Take the logits of this session's rows from a pass of several sessions: rows `first ..< first + count`.
    func receiveRows(from other: Forward, first: Int, count: Int) {
        forward.prepareRows()
        let vocab = model.config.vocabSize
        forward.rowLogits(0).update(from: other.rowLogits(first), count: count * vocab)
    }

    /// True inside a decode loop (`beginDecoding` ... `endDecoding`): with a batch, its passes wait for
    /// this session's steps.
    public private(set) var decoding = false

    /// The decode loop starts: the batch's passes include this session's steps until `endDecoding`.
    public func beginDecoding() {
        guard !decoding else { return }
        decoding = true
        batch?.join()
    }

    public func endDecoding() {
        guard decoding else { return }
        decoding = false
        batch?.leave()
    }

    /// Other sessions of the batch are decoding now (their passes would carry this one's guesses).
    public var othersDecoding: Bool {
        guard let batch else { return false }
        return batch.decodingSessions > (decoding ? 1 : 0)
    }

    /// Bytes of K/V the timeline occupies: each KV head's slots for `count` positions (a sparse head
    /// stops growing at its sink + ring), whatever the storage has allocated ahead.
    public var kvBytesUsed: Int {
        let perSlot = 2 * 2 * model.config.headDim
        return cache.layouts.reduce(0) { $0 + $1.slotsNeeded(forLength: count) * perSlot }
    }

    /// Bytes held by the KV cache.
    public var kvBytes: Int { cache.bytes }

    /// Process `newTokens` after the current timeline: one decode step for a single token, prefill in
    /// batches of up to `batchSize` otherwise. `progress(done, total)` is called after every batch.
    /// A cancelled task (or a set `cancellation`, for callers on a thread of their own) stops before the
    /// next prefill batch with `EngineError.cancelled`; the timeline then holds the batches already
    /// processed (without logits), so a later `sync` continues from there. With a batch, each prefill
    /// batch takes the pool between the batch's passes.
    public func append(_ newTokens: [Int32], progress: ((Int, Int) -> Void)? = nil,
                       cancellation: CancellationFlag? = nil) throws(EngineError) {
        guard !newTokens.isEmpty else { return }
        let vocab = model.config.vocabSize
        for t in newTokens where t < 0 || Int(t) >= vocab { throw .invalidToken(id: t, vocabSize: vocab) }
        let start = tokens.count
        guard start + newTokens.count <= maxLength else {
            throw .contextFull(capacity: maxLength, requested: start + newTokens.count)
        }
        if newTokens.count == 1 {
            step(newTokens, position: start)
            progress?(1, 1)
            return
        }
        cache.reserve(length: start + newTokens.count)
        forward.reserveKeys(start + newTokens.count)
        rowsCount = 0
        hasLogits = false
        var done = 0
        try newTokens.withUnsafeBufferPointer { (buf) throws(EngineError) in
            while done < buf.count {
                // The agent loop's wall-time limit: a long prompt stops within one batch.
                if Task.isCancelled || cancellation?.isCancelled == true { throw .cancelled }
                let pos = start + done
                var n = min(batchSize, buf.count - done)
                for layout in cache.layouts { n = min(n, layout.maxBatch(at: pos)) }
                n = max(n, 1)
                let last = done + n == buf.count
                let run = { self.forward.prefill(tokens: buf.baseAddress! + done, count: n, position: pos, cache: self.cache, wantLogits: last) }
                if let batch { batch.exclusive(run) } else { run() }
                tokens.append(contentsOf: buf[done..<done + n])
                cache.setLength(tokens.count)
                done += n
                progress?(done, buf.count)
            }
        }
        hasLogits = true
    }

    /// Append one token (a decode step).
    public func decode(_ token: Int32) throws(EngineError) {
        try append([token])
    }

    /// Cut the timeline back to its first `n` tokens (no-op when n >= count). The logits are invalid
    /// until the next append.
    public func rewind(to n: Int) throws(EngineError) {
        let n = max(0, n)
        guard n < tokens.count else { return }
        for layout in cache.layouts where !layout.canRewind(from: tokens.count, to: n) {
            throw .rewindPastEviction(position: n)
        }
        tokens.removeLast(tokens.count - n)
        cache.setLength(n)
        hasLogits = rowLogits(after: n - 1) != nil
        if !hasLogits { rowsCount = 0 }
    }

    /// Cut the timeline back to its first `n` tokens; when a sparse layer already evicted keys that
    /// the continuation needs, start over and prefill those `n` tokens again. Returns true when it had
    /// to re-prefill (the caller should say so: it costs a full prefill of `n` tokens).
    @discardableResult
    public func rewindOrReprefill(to n: Int, progress: ((Int, Int) -> Void)? = nil) throws(EngineError) -> Bool {
        let n = max(0, n)
        guard n < tokens.count else { return false }
        do {
            try rewind(to: n)
            return false
        } catch .rewindPastEviction {
            let keep = Array(tokens[..<n])
            reset()
            reprefillCount += 1
            lastReprefillTokens = n
            try append(keep, progress: progress)
            return true
        }
    }

    /// How many times a rewind into evicted positions forced a re-prefill from the start (by `sync`
    /// or `rewindOrReprefill`), and how many tokens the last one prefilled again.
    public private(set) var reprefillCount = 0
    public private(set) var lastReprefillTokens = 0
    /// True when the last `sync` had to re-prefill from the start because of evicted positions.
    public private(set) var lastSyncReprefilled = false

    /// Length of the longest common prefix of the timeline and `other`.
    public func commonPrefix(with other: [Int32]) -> Int {
        var i = 0
        let n = min(tokens.count, other.count)
        while i < n && tokens[i] == other[i] { i += 1 }
        return i
    }

    /// Make the timeline exactly `prompt`, reusing the longest common prefix: rewinds to it and appends
    /// the rest. When `prompt` is already the timeline (or a prefix of it) the last token is re-run so
    /// that the logits are those of `prompt`. Returns how many tokens were reused from the cache.
    @discardableResult
    public func sync(to prompt: [Int32], progress: ((Int, Int) -> Void)? = nil,
                     cancellation: CancellationFlag? = nil) throws(EngineError) -> Int {
        guard !prompt.isEmpty else { throw .emptyInput("prompt") }
        var keep = commonPrefix(with: prompt)
        lastSyncReprefilled = false
        if keep == prompt.count && keep == tokens.count && hasLogits { return keep }
        if keep == prompt.count { keep -= 1 }
        do {
            try rewind(to: keep)
        } catch {
            // A sparse layer evicted keys the continuation needs: start over (and say so).
            reset()
            reprefillCount += 1
            lastReprefillTokens = keep
            lastSyncReprefilled = keep > 0
            keep = 0
        }
        try append(Array(prompt[keep...]), progress: progress, cancellation: cancellation)
        return keep
    }

    /// Take over `t` as the timeline whose K/V the cache already holds (see `adoptTimeline`).
    func adoptTokens(_ t: [Int32]) {
        tokens = t
        cache.setLength(t.count)
        hasLogits = false
        rowsCount = 0
    }

    /// Start over with an empty timeline (the storage is kept).
    public func reset() {
        tokens.removeAll(keepingCapacity: true)
        cache.setLength(0)
        hasLogits = false
        rowsCount = 0
    }
}
