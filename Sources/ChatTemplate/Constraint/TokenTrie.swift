#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The model's vocabulary as a byte trie, built once per model and shared by every constraint.
///
/// Tokens are sorted by their bytes; each trie node covers a contiguous range of that order (the tokens
/// whose bytes start with the node's path), so a whole subtree can be allowed at once. Per node the trie
/// keeps two summaries of the bytes below it that let the mask skip subtrees: whether any contains `<`
/// (a possible opening tag in free text), and for each UTF-8 state whether every suffix is plain JSON
/// string content (no `"`, `\`, `<` or control byte, valid UTF-8 from that state; `<` because call tags
/// may not appear inside strings).
public final class TokenTrie: @unchecked Sendable {
    public enum Kind: Sendable {
        /// Ordinary token with these bytes.
        case text
        /// End of generation (end of turn, end of text): allowed only where the reply may end.
        case endOfGeneration
        /// Never allowed while constrained (control and unused tokens).
        case excluded
    }

    public let vocabularySize: Int
    let nodeCount: Int
    /// Token ids sorted by bytes.
    let sorted: UnsafeMutableBufferPointer<Int32>
    let lo: UnsafeMutableBufferPointer<Int32>
    let hi: UnsafeMutableBufferPointer<Int32>
    /// Tokens ending exactly at the node: `sorted[lo ..< lo + ends]`.
    let ends: UnsafeMutableBufferPointer<Int32>
    let firstChild: UnsafeMutableBufferPointer<Int32>
    let nextSibling: UnsafeMutableBufferPointer<Int32>
    let edge: UnsafeMutableBufferPointer<UInt8>
    /// Bit s: every suffix below is plain string content starting in UTF-8 state s.
    let plain: UnsafeMutableBufferPointer<UInt8>
    /// Some suffix below contains `<`.
    let hasAngle: UnsafeMutableBufferPointer<Bool>
    /// Inside a JSON string with no escape pending, in string state `key` (see `stringKey`):
    /// `stringInside[key][id]` says token `id` stays inside the string; `stringClosers[key]` lists the tokens
    /// that close it, which must be checked against the rest of the state.
    let stringInside: [UnsafeMutableBufferPointer<Bool>]
    let stringClosers: [[Int32]]
    /// All token bytes back to back: token `id` is `flat[offsets[id] ..< offsets[id + 1]]`.
    let flat: UnsafeMutableBufferPointer<UInt8>
    let offsets: UnsafeMutableBufferPointer<Int32>
    public let endOfGeneration: [Int32]
    /// Bytes of every token (empty for non-text tokens).
    let tokenBytes: [[UInt8]]
    public let maxTokenLength: Int

    /// - Parameters:
    ///   - count: vocabulary size.
    ///   - bytes: the bytes a token stands for (`Tokenizer.tokenBytes`).
    ///   - kind: how the constraint treats the token.
    public init(count: Int, bytes: (Int) -> [UInt8], kind: (Int) -> Kind) {
        vocabularySize = count
        var all = [[UInt8]](repeating: [], count: count)
        var eog: [Int32] = []
        var ids: [Int32] = []
        for id in 0..<count {
            switch kind(id) {
            case .text:
                let b = bytes(id)
                if !b.isEmpty { all[id] = b; ids.append(Int32(id)) }
            case .endOfGeneration: eog.append(Int32(id))
            case .excluded: break
            }
        }
        tokenBytes = all
        endOfGeneration = eog
        var flatBytes: [UInt8] = []
        var offs: [Int32] = [0]
        for t in all { flatBytes += t; offs.append(Int32(flatBytes.count)) }
        flatBytes.withUnsafeBufferPointer { fb in
            offs.withUnsafeBufferPointer { ob in
                ids.sort { a, b in
                    let a0 = Int(ob[Int(a)]), a1 = Int(ob[Int(a) + 1]), b0 = Int(ob[Int(b)]), b1 = Int(ob[Int(b) + 1])
                    let n = min(a1 - a0, b1 - b0)
                    let c = memcmp(fb.baseAddress! + a0, fb.baseAddress! + b0, n)
                    return c != 0 ? c < 0 : a1 - a0 < b1 - b0
                }
            }
        }
        maxTokenLength = ids.reduce(0) { max($0, all[Int($1)].count) }

        // Build: nodes are created in depth-first order, so parents precede children.
        var nLo: [Int32] = [0], nHi: [Int32] = [Int32(ids.count)], nEnds: [Int32] = [0]
        var nFirst: [Int32] = [-1], nNext: [Int32] = [-1], nLast: [Int32] = [-1], nEdge: [UInt8] = [0]
        var path: [Int32] = [0]  // path[d] = node at depth d for the previous token
        var previous: [UInt8] = []
        for (position, id) in ids.enumerated() {
            let t = all[Int(id)]
            var common = 0
            while common < min(t.count, previous.count), t[common] == previous[common] { common += 1 }
            path.removeSubrange((common + 1)...)
            for d in common..<t.count {
                let parent = path[d]
                let node = Int32(nLo.count)
                nLo.append(Int32(position)); nHi.append(Int32(position)); nEnds.append(0)
                nFirst.append(-1); nNext.append(-1); nLast.append(-1); nEdge.append(t[d])
                if nLast[Int(parent)] >= 0 { nNext[Int(nLast[Int(parent)])] = node } else { nFirst[Int(parent)] = node }
                nLast[Int(parent)] = node
                path.append(node)
            }
            for d in 1...t.count { nHi[Int(path[d])] = Int32(position + 1) }
            nEnds[Int(path[t.count])] += 1
            previous = t
        }
        nodeCount = nLo.count
        func buffer<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
            let p = UnsafeMutableBufferPointer<T>.allocate(capacity: max(a.count, 1))
            _ = p.initialize(from: a)
            return p
        }
        sorted = buffer(ids)
        lo = buffer(nLo); hi = buffer(nHi); ends = buffer(nEnds)
        firstChild = buffer(nFirst); nextSibling = buffer(nNext); edge = buffer(nEdge)

        // Summaries, children before parents.
        var plainBits = [UInt8](repeating: 0xFF, count: nodeCount)
        var angle = [Bool](repeating: false, count: nodeCount)
        for node in stride(from: nodeCount - 1, through: 0, by: -1) {
            var bits: UInt8 = 0xFF
            var c = nFirst[node]
            while c >= 0 {
                let b = nEdge[Int(c)]
                if b == UInt8(ascii: "<") || angle[Int(c)] { angle[node] = true }
                let plainByte = b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") && b != UInt8(ascii: "<")
                for s in 0..<UTF8State.count where bits & (1 << s) != 0 {
                    let n = utf8Next[s * 256 + Int(b)]
                    if !plainByte || n == UTF8State.invalid || plainBits[Int(c)] & (1 << n) == 0 { bits &= ~(1 << s) }
                }
                c = nNext[Int(c)]
            }
            plainBits[node] = bits
        }
        plain = buffer(plainBits)
        hasAngle = buffer(angle)

        flat = buffer(flatBytes)
        offsets = buffer(offs)
        var inside: [UnsafeMutableBufferPointer<Bool>] = []
        var closers: [[Int32]] = []
        for key in 0..<Self.stringStateCount {
            let m = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(count, 1))
            m.initialize(repeating: false)
            var c: [Int32] = []
            // Walk the trie with the string automaton: a subtree is all inside (plain bytes below), all
            // closing (the quote is on the edge into it), or rejected, as soon as its path says so.
            func walk(_ node: Int, _ esc: UInt32, _ aux: UInt32) {
                if esc == EscapeState.none && aux >> TagMatch.shift == TagMatch.none && plainBits[node] & (1 << ((aux >> 16) & 0xFF)) != 0 {
                    for k in Int(nLo[node])..<Int(nHi[node]) { m[Int(ids[k])] = true }
                    return
                }
                for k in Int(nLo[node])..<Int(nLo[node] + nEnds[node]) { m[Int(ids[k])] = true }
                var child = Int(nFirst[node])
                while child >= 0 {
                    var e = esc, a = aux
                    switch stringStep(&e, &a, nEdge[child]) {
                    case .inside: walk(child, e, a)
                    case .close: c += ids[Int(nLo[child])..<Int(nHi[child])]
                    case .fail: break
                    }
                    child = Int(nNext[child])
                }
            }
            walk(0, EscapeState.none, Self.stringAux(key: key))
            inside.append(m)
            closers.append(c.sorted())
        }
        stringInside = inside
        stringClosers = closers
    }

    deinit {
        for p in [sorted, lo, hi, ends, firstChild, nextSibling] { p.deallocate() }
        edge.deallocate(); plain.deallocate(); hasAngle.deallocate(); flat.deallocate(); offsets.deallocate()
        for m in stringInside { m.deallocate() }
    }

    /// String states without a pending escape: UTF-8 states 0-7 with no partial tag, then partial call tags
    /// 1-12 at a character boundary (a partial tag is reset by any multi-byte character).
    static let stringStateCount = 8 + 12

    static func stringKey(aux: UInt32) -> Int {
        let tag = Int(aux >> 24)
        return tag == 0 ? Int((aux >> 16) & 0xFF) : 7 + tag
    }

    static func stringAux(key: Int) -> UInt32 {
        key < 8 ? UInt32(key) << 16 : UInt32(key - 7) << 24
    }

    /// The bytes of a token (empty for end-of-generation and excluded tokens).
    public func bytes(of token: Int) -> [UInt8] { tokenBytes[token] }

    public var isEndOfGenerationToken: (Int32) -> Bool {
        let set = Set(endOfGeneration)
        return { set.contains($0) }
    }
}
