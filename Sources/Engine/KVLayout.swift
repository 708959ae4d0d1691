/// A run of consecutive key positions `start ..< start + count` stored at consecutive cache slots
/// `slot ..< slot + count`.
public struct KeySpan: Sendable, Equatable {
    public var start: Int
    public var count: Int
    public var slot: Int
    public init(start: Int, count: Int, slot: Int) { self.start = start; self.count = count; self.slot = slot }
}

/// The key spans one query sees, in increasing position order: at most 4 spans (a sink plus a ring
/// that may wrap), held inline so asking costs no allocation.
public struct KeySpans: Sendable {
    public private(set) var count = 0
    private var s0 = KeySpan(start: 0, count: 0, slot: 0)
    private var s1 = KeySpan(start: 0, count: 0, slot: 0)
    private var s2 = KeySpan(start: 0, count: 0, slot: 0)
    private var s3 = KeySpan(start: 0, count: 0, slot: 0)

    public init() {}

    public mutating func append(_ span: KeySpan) {
        guard span.count > 0 else { return }
        switch count {
        case 0: s0 = span
        case 1: s1 = span
        case 2: s2 = span
        case 3: s3 = span
        default: preconditionFailure("KeySpans holds at most 4 spans")
        }
        count += 1
    }

    public subscript(i: Int) -> KeySpan {
        switch i {
        case 0: s0
        case 1: s1
        case 2: s2
        default: s3
        }
    }

    /// Total keys visible.
    public var keyCount: Int {
        var n = 0
        for i in 0..<count { n += self[i].count }
        return n
    }
}

/// KV bookkeeping of one layer, apart from the tensor storage (as llama.cpp separates its KV cells from
/// the K/V tensors): which slot a position is written to, and which positions (at which slots) a query
/// at position p attends to. The storage (`KVCache`) only holds `capacity` slots.
///
/// Contract for implementations that reuse slots (a ring): prefill writes the K/V of a whole batch
/// before attending, so a layout must either not evict inside a batch or the caller must limit
/// batches so that no position a query of the batch needs is overwritten by a later one.
public protocol KVLayout: Sendable {
    /// Slots the storage must hold for a timeline of `length` positions.
    func slotsNeeded(forLength length: Int) -> Int
    /// The slot position `p` is stored in.
    func slot(forPosition p: Int) -> Int
    /// Key positions a query at `p` sees (all <= p, in increasing order), with their slots.
    func keySpans(forQuery p: Int) -> KeySpans
    /// Whether a timeline of `length` positions can be cut back to `newLength` keeping exact K/V
    /// (false when positions it still needs were evicted).
    func canRewind(from length: Int, to newLength: Int) -> Bool
    /// The most positions a batch may write at once when the timeline is at `length` (Int.max: no limit).
    func maxBatch(at length: Int) -> Int
}

/// Dense causal attention: position p lives in slot p; a query at p sees 0...p.
public struct FullKVLayout: KVLayout {
    public init() {}
    public func slotsNeeded(forLength length: Int) -> Int { length }
    @inline(__always) public func slot(forPosition p: Int) -> Int { p }
    @inline(__always) public func keySpans(forQuery p: Int) -> KeySpans {
        var spans = KeySpans()
        spans.append(KeySpan(start: 0, count: p + 1, slot: 0))
        return spans
    }
    public func canRewind(from length: Int, to newLength: Int) -> Bool { true }
    public func maxBatch(at length: Int) -> Int { Int.max }
}

extension AttentionPlan.Mode {
    /// The layout that implements this mode for KV head `head` of a layer with `kvHeads` heads.
    func makeLayout(head: Int, kvHeads: Int) -> any KVLayout {
        switch mode(ofHead: head, kvHeads: kvHeads) {
        case .full: FullKVLayout()
        case let .sparse(b, s, l): SparseKVLayout(blockSize: b, sinkBlocks: s, localBlocks: l)
        case .heads: preconditionFailure("a KV head's mode is full or sparse")
        }
    }
}
