/// Byte-pair merging inside one pre-token. Symbols start as the tokens of single bytes; the
/// adjacent pair with the lowest merge rank (leftmost on ties) is merged until no pair has a
/// rank, which is the order llama.cpp's priority queue produces.
extension Tables {
    /// Pieces up to this many bytes merge with a linear scan over an array; longer ones use a
    /// heap and a linked list (a long run of Chinese text is one pre-token).
    static let linearLimit = 48

    func bpe(_ word: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
        if n == 1 {
            let t = byteToken[Int(word[0])]
            if t >= 0 { out.append(t) }
            return
        }
        if n <= Tables.linearLimit {
            bpeLinear(word, n, into: &out)
        } else {
            bpeHeap(word, n, into: &out)
        }
    }

    func bpeLinear(_ word: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: n) { idsBuf in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: n) { rankBuf in
                let ids = idsBuf.baseAddress!, ranks = rankBuf.baseAddress!
                for i in 0..<n { ids[i] = byteToken[Int(word[i])] }
                var m = n
                for i in 0..<(m - 1) { ranks[i] = bytePairRank[Int(word[i]) << 8 | Int(word[i + 1])] }
                while m > 1 {
                    // lowest rank, leftmost on ties
                    var best = Tables.noMerge
                    var at = -1
                    for i in 0..<(m - 1) where ranks[i] < best {
                        best = ranks[i]
                        at = i
                    }
                    if at < 0 { break }
                    ids[at] = mergeResult[Int(best)]
                    // drop symbol at+1 and the pair (at, at+1)
                    var k = at + 1
                    while k < m - 1 { ids[k] = ids[k + 1]; k += 1 }
                    k = at
                    while k < m - 2 { ranks[k] = ranks[k + 1]; k += 1 }
                    m -= 1
                    if at > 0 { ranks[at - 1] = rank(ids[at - 1], ids[at]) }
                    if at < m - 1 { ranks[at] = rank(ids[at], ids[at + 1]) }
                }
                for i in 0..<m where ids[i] >= 0 { out.append(ids[i]) }
            }
        }
    }

    func bpeHeap(_ word: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int32]) {
        let ids = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let prev = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let next = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        var heap = MinHeap(capacity: 3 * n)
        defer { ids.deallocate(); prev.deallocate(); next.deallocate(); heap.deallocate() }
        for i in 0..<n {
            ids[i] = byteToken[Int(word[i])]
            prev[i] = Int32(i - 1)
            next[i] = i + 1 < n ? Int32(i + 1) : -1
        }
        // heap items: rank << 32 | position of the left symbol (lowest rank, then leftmost)
        for i in 0..<(n - 1) {
            let r = bytePairRank[Int(word[i]) << 8 | Int(word[i + 1])]
            if r != Tables.noMerge { heap.push(UInt64(r) << 32 | UInt64(i)) }
        }
        let dead = Int32.min
        while let top = heap.pop() {
            let r = UInt32(top >> 32)
            let left = Int(top & 0xFFFF_FFFF)
            if ids[left] == dead { continue }
            let right = Int(next[left])
            if right < 0 || rank(ids[left], ids[right]) != r { continue }  // stale entry
            ids[left] = mergeResult[Int(r)]
            ids[right] = dead
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            let before = prev[left]
            if before >= 0 {
                let w = rank(ids[Int(before)], ids[left])
                if w != Tables.noMerge { heap.push(UInt64(w) << 32 | UInt64(before)) }
            }
            if after >= 0 {
                let w = rank(ids[left], ids[Int(after)])
                if w != Tables.noMerge { heap.push(UInt64(w) << 32 | UInt64(left)) }
            }
        }
        var i: Int32 = 0
        while i >= 0 {
            if ids[Int(i)] >= 0 { out.append(ids[Int(i)]) }
            i = next[Int(i)]
        }
    }
}

/// Binary min-heap of UInt64 (rank in the high half, position in the low half).
struct MinHeap {
    let items: UnsafeMutablePointer<UInt64>
    var count = 0

    init(capacity: Int) { items = .allocate(capacity: max(1, capacity)) }
    func deallocate() { items.deallocate() }

    mutating func push(_ v: UInt64) {
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if items[parent] <= v { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = v
    }

    mutating func pop() -> UInt64? {
        guard count > 0 else { return nil }
        let top = items[0]
        count -= 1
        if count > 0 {
            let v = items[count]
            var i = 0
            while true {
                var c = 2 * i + 1
                if c >= count { break }
                if c + 1 < count && items[c + 1] < items[c] { c += 1 }
                if v <= items[c] { break }
                items[i] = items[c]
                i = c
            }
            items[i] = v
        }
        return top
    }
}
