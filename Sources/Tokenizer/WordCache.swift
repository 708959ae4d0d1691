import Foundation

/// Tokens of recently seen pre-tokens ("words"), shared by all encode calls of one tokenizer.
/// Open addressing over fixed arenas (no allocation per word); when an arena or the table fills
/// up, everything is dropped and filling starts again. Guarded by a lock: encode calls from
/// several threads share it.
final class WordCache: @unchecked Sendable {
    /// words longer than this (bytes) are not cached
    static let maxWordBytes = 32
    private static let slotCount = 1 << 16
    private static let maxEntries = slotCount / 2
    private static let byteArena = 1 << 20
    private static let idArena = 1 << 19

    private let lock = NSLock()
    /// hash of the word, 0 = empty slot
    private let hashes = UnsafeMutablePointer<UInt64>.allocate(capacity: slotCount)
    /// byte offset << 8 | byte length
    private let words = UnsafeMutablePointer<UInt64>.allocate(capacity: slotCount)
    /// id offset << 8 | id count
    private let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: slotCount)
    private let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: byteArena)
    private let ids = UnsafeMutablePointer<Int32>.allocate(capacity: idArena)
    private var entries = 0
    private var bytesUsed = 0
    private var idsUsed = 0

    init() {
        hashes.initialize(repeating: 0, count: WordCache.slotCount)
    }

    deinit {
        hashes.deallocate(); words.deallocate(); tokens.deallocate(); bytes.deallocate(); ids.deallocate()
    }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<n {
            h ^= UInt64(p[i])
            h = h &* 0x100_0000_01b3
        }
        h ^= h >> 32
        return h | 1  // never 0
    }

    /// Appends the cached tokens of `word` to `out`; false when it is not cached.
    func lookup(_ word: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, into out: inout [Int32]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let mask = WordCache.slotCount - 1
        var s = Int(truncatingIfNeeded: hash) & mask
        while true {
            let h = hashes[s]
            if h == 0 { return false }
            if h == hash {
                let w = words[s]
                if Int(w & 0xFF) == n && memcmp(bytes + Int(w >> 8), word, n) == 0 {
                    let t = tokens[s]
                    out.append(contentsOf: UnsafeBufferPointer(start: ids + Int(t >> 8), count: Int(t & 0xFF)))
                    return true
                }
            }
            s = (s + 1) & mask
        }
    }

    func insert(_ word: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, tokens list: ArraySlice<Int32>) {
        guard n <= WordCache.maxWordBytes, list.count <= n else { return }
        lock.lock()
        defer { lock.unlock() }
        if entries >= WordCache.maxEntries || bytesUsed + n > WordCache.byteArena
            || idsUsed + list.count > WordCache.idArena {
            hashes.update(repeating: 0, count: WordCache.slotCount)
            entries = 0
            bytesUsed = 0
            idsUsed = 0
        }
        let mask = WordCache.slotCount - 1
        var s = Int(truncatingIfNeeded: hash) & mask
        while hashes[s] != 0 {
            if hashes[s] == hash {
                let w = words[s]
                if Int(w & 0xFF) == n && memcmp(bytes + Int(w >> 8), word, n) == 0 { return }  // another thread won
            }
            s = (s + 1) & mask
        }
        (bytes + bytesUsed).update(from: word, count: n)
        list.withUnsafeBufferPointer { (ids + idsUsed).update(from: $0.baseAddress!, count: $0.count) }
        hashes[s] = hash
        words[s] = UInt64(bytesUsed) << 8 | UInt64(n)
        tokens[s] = UInt64(idsUsed) << 8 | UInt64(list.count)
        bytesUsed += n
        idsUsed += list.count
        entries += 1
    }
}
