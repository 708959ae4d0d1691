#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds special tokens written in text, the way llama.cpp's `tokenizer_st_partition` does:
/// tokens are taken longest first (ties by id), and each one claims its leftmost non-overlapping
/// occurrences in the text not yet claimed by a longer token. Control and unknown tokens count
/// only when special tokens are parsed; user-defined tokens always count.
struct SpecialTokens: Sendable {
    struct Entry: Sendable {
        let id: Int32
        let bytes: [UInt8]
        let alwaysParsed: Bool
    }

    /// longest first, then by id
    let entries: [Entry]
    /// entry indices by first byte
    let byFirstByte: [[Int]]

    init(tables: Tables) {
        var list: [Entry] = []
        for id in 0..<tables.count {
            let type = TokenType(rawValue: tables.types[id]) ?? .undefined
            guard type == .control || type == .userDefined || type == .unknown else { continue }
            let bytes = Array(tables.textBuffer(id))
            guard !bytes.isEmpty else { continue }
            list.append(Entry(id: Int32(id), bytes: bytes, alwaysParsed: type == .userDefined))
        }
        list.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        entries = list
        var first = [[Int]](repeating: [], count: 256)
        for (i, e) in list.enumerated() { first[Int(e.bytes[0])].append(i) }
        byFirstByte = first
    }

    /// A piece of the input: raw text `start..<end`, or one special token (`token >= 0`).
    struct Fragment {
        var start: Int
        var end: Int
        var token: Int32
    }

    func partition(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        let n = text.count
        guard n > 0 else { return [] }
        guard let base = text.baseAddress, !entries.isEmpty else { return [Fragment(start: 0, end: n, token: -1)] }
        // every occurrence of every candidate, as (entry index, position)
        var found: [(entry: Int, pos: Int)] = []
        byFirstByte.withUnsafeBufferPointer { first in
            for pos in 0..<n {
                let candidates = first[Int(base[pos])]
                if candidates.isEmpty { continue }
                for e in candidates {
                    let entry = entries[e]
                    guard parseSpecial || entry.alwaysParsed else { continue }
                    let len = entry.bytes.count
                    guard pos + len <= n else { continue }
                    let same = entry.bytes.withUnsafeBufferPointer { memcmp(base + pos, $0.baseAddress!, len) == 0 }
                    if same { found.append((e, pos)) }
                }
            }
        }
        guard !found.isEmpty else { return [Fragment(start: 0, end: n, token: -1)] }
        found.sort { $0.entry != $1.entry ? $0.entry < $1.entry : $0.pos < $1.pos }
        var claimed = [Bool](repeating: false, count: n)
        var accepted: [Fragment] = []
        for (e, pos) in found {
            let len = entries[e].bytes.count
            var free = true
            for k in pos..<(pos + len) where claimed[k] { free = false; break }
            guard free else { continue }
            for k in pos..<(pos + len) { claimed[k] = true }
            accepted.append(Fragment(start: pos, end: pos + len, token: entries[e].id))
        }
        accepted.sort { $0.start < $1.start }
        var out: [Fragment] = []
        out.reserveCapacity(2 * accepted.count + 1)
        var at = 0
        for f in accepted {
            if f.start > at { out.append(Fragment(start: at, end: f.start, token: -1)) }
            out.append(f)
            at = f.end
        }
        if at < n { out.append(Fragment(start: at, end: n, token: -1)) }
        return out
    }
}
