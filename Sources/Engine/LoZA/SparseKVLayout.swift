import Catalog

/// Streaming sparse attention (LoZA's SSA, Docs/ARCHITECTURE.md, LoZA) over a sink + ring cache.
///
/// Rule: a query at p sees key s iff `s <= p && (s < S*B || s/B >= p/B - (L-1))`, blocks aligned to
/// absolute multiples of B. Storage: positions below S*B (the sink) live in slots 0 ..< S*B for good;
/// every later block b lives in ring entry `(b - S) % R` (slots S*B + entry*B ..< +B), where the ring
/// holds R = L + spareBlocks blocks. The spare blocks hold the batch in flight: prefill writes a whole
/// batch before attending, so with R = L a batch could only reach the end of the current block;
/// `maxBatch` allows exactly as much as never overwrites a key some query of the batch still needs.
/// Memory is therefore at most (S + L + spare) * B slots, whatever the timeline length.
public struct SparseKVLayout: KVLayout, Equatable {
    public let blockSize: Int
    public let sinkBlocks: Int
    public let localBlocks: Int
    public let spareBlocks: Int

    public init(blockSize: Int = LoZADefaults.blockSize, sinkBlocks: Int = LoZADefaults.sinkBlocks,
                localBlocks: Int = LoZADefaults.localBlocks, spareBlocks: Int = 2) {
        precondition(blockSize >= 1 && sinkBlocks >= 0 && localBlocks >= 1 && spareBlocks >= 0,
                     "sparse layout needs B >= 1, S >= 0, L >= 1, spare >= 0")
        self.blockSize = blockSize
        self.sinkBlocks = sinkBlocks
        self.localBlocks = localBlocks
        self.spareBlocks = spareBlocks
    }

    /// Blocks in the ring.
    @inline(__always) var ringBlocks: Int { localBlocks + spareBlocks }
    @inline(__always) var sinkEnd: Int { sinkBlocks * blockSize }

    /// The exact rule, for reference and tests.
    @inline(__always)
    public func isVisible(key s: Int, query p: Int) -> Bool {
        s <= p && (s < sinkEnd || s / blockSize >= p / blockSize - (localBlocks - 1))
    }

    /// Slots of the whole storage once the ring is full.
    public var maxSlots: Int { (sinkBlocks + ringBlocks) * blockSize }

    public func slotsNeeded(forLength length: Int) -> Int { min(length, maxSlots) }

    @inline(__always)
    public func slot(forPosition p: Int) -> Int {
        if p < sinkEnd { return p }
        let b = p / blockSize
        return sinkEnd + ((b - sinkBlocks) % ringBlocks) * blockSize + p % blockSize
    }

    public func keySpans(forQuery p: Int) -> KeySpans {
        var spans = KeySpans()
        if p < sinkEnd {
            spans.append(KeySpan(start: 0, count: p + 1, slot: 0))
            return spans
        }
        spans.append(KeySpan(start: 0, count: sinkEnd, slot: 0))
        let lo = max(sinkBlocks, p / blockSize - (localBlocks - 1)) * blockSize
        var start = lo
        var remaining = p - lo + 1
        // At most two runs: the ring wraps at most once over L <= R blocks.
        while remaining > 0 {
            let slot = slot(forPosition: start)
            let run = min(remaining, maxSlots - slot)
            spans.append(KeySpan(start: start, count: run, slot: slot))
            start += run
            remaining -= run
        }
        return spans
    }

    public func canRewind(from length: Int, to newLength: Int) -> Bool {
        guard newLength < length, newLength > sinkEnd else { return true }
        // The oldest ring key the query at newLength needs; it is overwritten once position
        // (that key + R*B) has been written, and every later needed key after it.
        let oldest = max(sinkBlocks, newLength / blockSize - (localBlocks - 1)) * blockSize
        guard oldest < newLength else { return true }
        return oldest + ringBlocks * blockSize >= length
    }

    public func maxBatch(at length: Int) -> Int {
        // A batch writing up to block e overwrites blocks up to e - R; the first query of the batch
        // needs blocks from length/B - (L-1) on. Blocks before S + R overwrite nothing.
        let lastBlock = max(sinkBlocks + ringBlocks - 1, length / blockSize + ringBlocks - localBlocks)
        return (lastBlock + 1) * blockSize - length
    }
}
