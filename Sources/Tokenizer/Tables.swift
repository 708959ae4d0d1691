#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable lookup tables behind a `Tokenizer`, in manually allocated memory so that the hot
/// loops index raw pointers. Built once in `init`, never written afterwards, freed in `deinit`.
final class Tables: @unchecked Sendable {
    let count: Int

    /// vocabulary text (as stored in the GGUF) of every token: `text[textStart[i]..<textStart[i+1]]`
    let text: UnsafeMutablePointer<UInt8>
    let textStart: UnsafeMutablePointer<Int>
    /// bytes every token decodes to (byte-level alphabet undone, special tokens as written)
    let piece: UnsafeMutablePointer<UInt8>
    let pieceStart: UnsafeMutablePointer<Int>
    let types: UnsafeMutablePointer<UInt8>

    /// open-addressing index from vocabulary text to id (-1 = empty slot)
    let slots: UnsafeMutablePointer<Int32>
    let slotMask: Int

    /// token of each single byte (its byte-level character), -1 when the vocabulary lacks it
    let byteToken: UnsafeMutablePointer<Int32>

    /// merges, open addressing over 8-byte entries (left id << 43 | right id << 22 | rank) so the
    /// table stays small enough to live mostly in cache; `mergeResult[rank]` is the merged token
    let mergeEntries: UnsafeMutablePointer<UInt64>
    let mergeResult: UnsafeMutablePointer<Int32>
    let mergeMask: Int
    let mergeCount: Int

    /// rank of the merge of the tokens of two bytes, by `first << 8 | second` (the first round of
    /// every word, without hash probes)
    let bytePairRank: UnsafeMutablePointer<UInt32>

    static let noMerge = UInt32.max
    private static let emptyEntry = UInt64.max
    static let maxVocabulary = (1 << 21) - 1
    static let maxMerges = (1 << 22) - 1

    init(tokens: [String], types tokenTypes: [TokenType], merges: [String]) throws {
        let count = tokens.count

        // token texts
        var textBytes = 0
        for t in tokens { textBytes += t.utf8.count }
        let text = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, textBytes))
        let textStart = UnsafeMutablePointer<Int>.allocate(capacity: count + 1)
        var at = 0
        for (i, t) in tokens.enumerated() {
            textStart[i] = at
            var t = t
            t.withUTF8 { u in
                if let base = u.baseAddress { (text + at).update(from: base, count: u.count) }
                at += u.count
            }
        }
        textStart[count] = at

        let types = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, count))
        for i in 0..<count { types[i] = tokenTypes[i].rawValue }

        // text -> id
        var cap = 16
        while cap < count * 2 { cap <<= 1 }
        let slotMask = cap - 1
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: cap)
        slots.initialize(repeating: -1, count: cap)
        for i in 0..<count {
            let start = textStart[i], len = textStart[i + 1] - start
            let h = Tables.hash(text + start, len, seed: Tables.fnvSeed)
            var s = Int(truncatingIfNeeded: h) & slotMask
            while slots[s] >= 0 {
                let o = Int(slots[s])
                if Tables.equal(text + textStart[o], textStart[o + 1] - textStart[o], text + start, len) { break }
                s = (s + 1) & slotMask
            }
            slots[s] = Int32(i)  // a repeated text maps to its last id, as in llama.cpp
        }

        // decoded pieces (never longer than the texts: every scalar becomes at most its own bytes)
        let piece = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, textBytes))
        let pieceStart = UnsafeMutablePointer<Int>.allocate(capacity: count + 1)
        var written = 0
        for i in 0..<count {
            pieceStart[i] = written
            let raw = UnsafeBufferPointer(start: text + textStart[i], count: textStart[i + 1] - textStart[i])
            switch TokenType(rawValue: types[i]) ?? .undefined {
            case .normal:
                written += ByteLevel.decode(raw, into: piece + written)
            case .control, .userDefined, .unknown:
                if let b = raw.baseAddress { (piece + written).update(from: b, count: raw.count) }
                written += raw.count
            case .byte:
                if let b = Tables.hexByte(raw) {
                    piece[written] = b
                    written += 1
                } else {
                    written += ByteLevel.decode(raw, into: piece + written)
                }
            case .unused, .undefined:
                break  // llama.cpp renders nothing for these
            }
        }
        pieceStart[count] = written

        // single bytes
        let byteToken = UnsafeMutablePointer<Int32>.allocate(capacity: 256)
        for b in 0..<256 {
            let enc = ByteLevel.encoded(UInt8(b))
            byteToken[b] = enc.withUnsafeBufferPointer {
                Tables.find(text, textStart, slots, slotMask, $0.baseAddress!, $0.count, nil, 0)
            }
        }

        // merges
        guard count <= Tables.maxVocabulary, merges.count <= Tables.maxMerges else {
            throw TokenizerError("\(count) tokens and \(merges.count) merges exceed the supported \(Tables.maxVocabulary) and \(Tables.maxMerges)")
        }
        var mcap = 16
        while mcap < merges.count + merges.count / 2 { mcap <<= 1 }
        let mergeMask = mcap - 1
        let mergeEntries = UnsafeMutablePointer<UInt64>.allocate(capacity: mcap)
        mergeEntries.initialize(repeating: Tables.emptyEntry, count: mcap)
        let mergeResult = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, merges.count))
        mergeResult.initialize(repeating: -1, count: max(1, merges.count))

        self.count = count
        self.text = text
        self.textStart = textStart
        self.piece = piece
        self.pieceStart = pieceStart
        self.types = types
        self.slots = slots
        self.slotMask = slotMask
        self.byteToken = byteToken
        self.mergeEntries = mergeEntries
        self.mergeResult = mergeResult
        self.bytePairRank = .allocate(capacity: 65536)
        self.mergeMask = mergeMask
        self.mergeCount = merges.count

        for (rank, m) in merges.enumerated() {
            var m = m
            let ok: Bool = m.withUTF8 { u in
                guard let base = u.baseAddress, u.count >= 3 else { return false }
                var sp = 1
                while sp < u.count && base[sp] != 0x20 { sp += 1 }
                guard sp < u.count - 1 else { return false }
                let l = Tables.find(text, textStart, slots, slotMask, base, sp, nil, 0)
                let r = Tables.find(text, textStart, slots, slotMask, base + sp + 1, u.count - sp - 1, nil, 0)
                let res = Tables.find(text, textStart, slots, slotMask, base, sp, base + sp + 1, u.count - sp - 1)
                guard l >= 0, r >= 0, res >= 0 else { return false }
                let key = UInt64(UInt32(l)) << 43 | UInt64(UInt32(r)) << 22
                var s = Tables.mergeSlot(key, mergeMask)
                while mergeEntries[s] != Tables.emptyEntry {
                    if mergeEntries[s] & ~0x3F_FFFF == key { return true }  // first (lowest) rank wins, as in llama.cpp
                    s = (s + 1) & mergeMask
                }
                mergeEntries[s] = key | UInt64(rank)
                mergeResult[rank] = res
                return true
            }
            if !ok {
                throw TokenizerError("merge \(rank) '\(m)' is not two vocabulary tokens whose concatenation is a token")
            }
        }
        for pair in 0..<65536 {
            bytePairRank[pair] = rank(byteToken[pair >> 8], byteToken[pair & 0xFF])
        }
    }

    deinit {
        text.deallocate(); textStart.deallocate(); piece.deallocate(); pieceStart.deallocate(); types.deallocate()
        slots.deallocate(); byteToken.deallocate(); mergeEntries.deallocate(); mergeResult.deallocate()
        bytePairRank.deallocate()
    }

    // MARK: lookups

    static let fnvSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int, seed: UInt64) -> UInt64 {
        var h = seed
        for i in 0..<n {
            h ^= UInt64(p[i])
            h = h &* 0x100_0000_01b3
        }
        return h ^ (h >> 29)
    }

    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ na: Int, _ b: UnsafePointer<UInt8>, _ nb: Int) -> Bool {
        na == nb && (na == 0 || memcmp(a, b, na) == 0)
    }

    @inline(__always)
    static func mergeSlot(_ key: UInt64, _ mask: Int) -> Int {
        var h = key ^ (key >> 33)
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return Int(truncatingIfNeeded: h) & mask
    }

    /// id of the token whose text is `a[0..<na] + b[0..<nb]`, or -1
    static func find(_ text: UnsafeMutablePointer<UInt8>, _ textStart: UnsafeMutablePointer<Int>,
                     _ slots: UnsafeMutablePointer<Int32>, _ mask: Int,
                     _ a: UnsafePointer<UInt8>, _ na: Int, _ b: UnsafePointer<UInt8>?, _ nb: Int) -> Int32 {
        var h = fnvSeed
        for i in 0..<na { h ^= UInt64(a[i]); h = h &* 0x100_0000_01b3 }
        if let b { for i in 0..<nb { h ^= UInt64(b[i]); h = h &* 0x100_0000_01b3 } }
        h ^= h >> 29
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s] >= 0 {
            let o = Int(slots[s])
            let start = textStart[o], len = textStart[o + 1] - start
            if len == na + nb && (na == 0 || memcmp(text + start, a, na) == 0)
                && (nb == 0 || memcmp(text + start + na, b!, nb) == 0) {
                return Int32(o)
            }
            s = (s + 1) & mask
        }
        return -1
    }

    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let base = bytes.baseAddress else { return -1 }
        return Tables.find(text, textStart, slots, slotMask, base, bytes.count, nil, 0)
    }

    /// Rank of the merge of tokens `left` and `right` (lower merges first), or `noMerge`.
    @inline(__always)
    func rank(_ left: Int32, _ right: Int32) -> UInt32 {
        if left < 0 || right < 0 { return Tables.noMerge }
        let key = UInt64(UInt32(left)) << 43 | UInt64(UInt32(right)) << 22
        var s = Tables.mergeSlot(key, mergeMask)
        while true {
            let e = mergeEntries[s]
            if e & ~0x3F_FFFF == key { return UInt32(truncatingIfNeeded: e & 0x3F_FFFF) }
            if e == Tables.emptyEntry { return Tables.noMerge }
            s = (s + 1) & mergeMask
        }
    }

    func textBuffer(_ id: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: text + textStart[id], count: textStart[id + 1] - textStart[id])
    }

    func pieceBuffer(_ id: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: piece + pieceStart[id], count: pieceStart[id + 1] - pieceStart[id])
    }

    /// `<0xHH>` -> HH
    static func hexByte(_ raw: UnsafeBufferPointer<UInt8>) -> UInt8? {
        guard raw.count == 6, raw[0] == 0x3C, raw[1] == 0x30, raw[2] == 0x78, raw[5] == 0x3E else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard let hi = nibble(raw[3]), let lo = nibble(raw[4]) else { return nil }
        return hi << 4 | lo
    }
}
