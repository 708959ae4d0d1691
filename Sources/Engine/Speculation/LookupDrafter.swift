/// How a local generation guesses tokens ahead of the model.
public enum Speculation: String, Sendable, Codable, CaseIterable {
    /// Plain decoding, one token per pass over the weights.
    case off
    /// Guess the continuation from the context itself (an earlier occurrence of the last few tokens)
    /// and verify the guesses in one pass (`Session.appendRows`); the tokens are those plain decoding
    /// gives, for any sampling parameters.
    case lookup
}

/// Prompt lookup: guesses the next tokens of a generation from its own context. The last n tokens
/// (n from `maxNgram` down to `minNgram`) are looked up among the earlier n-grams of the context
/// (prompt, tool results and the generation so far); the tokens that followed its most recent
/// occurrence are the guess. Tables are filled incrementally as the context grows, so a lookup costs
/// a few hash probes, whatever the context length.
public struct LookupDrafter: Sendable {
    public let maxNgram: Int
    public let minNgram: Int
    public private(set) var context: [Int32] = []
    /// n-grams ending before this index are in `tables`.
    private var indexed = 0
    /// tables[n - 1]: n-gram key -> index of the token that followed its most recent occurrence.
    private var tables: [[UInt64: Int32]]

    public init(context: [Int32] = [], maxNgram: Int = 3, minNgram: Int = 2) {
        precondition(minNgram >= 1 && maxNgram >= minNgram && maxNgram <= 3, "n-grams of 1 to 3 tokens")
        self.maxNgram = maxNgram
        self.minNgram = minNgram
        tables = Array(repeating: [:], count: maxNgram)
        self.context.reserveCapacity(context.count + 1024)
        self.context.append(contentsOf: context)
    }

    public mutating func push(_ token: Int32) { context.append(token) }

    @inline(__always)
    private func key(endingAt e: Int, length n: Int) -> UInt64 {
        var k: UInt64 = 0
        for i in (e - n + 1)...e { k = (k << 21) | UInt64(UInt32(bitPattern: context[i]) & 0x1F_FFFF) }
        return k
    }

    /// Up to `maxCount` tokens guessed to follow the context (none when no n-gram of the suffix
    /// occurred before).
    public mutating func guess(maxCount: Int) -> [Int32] {
        let L = context.count
        guard maxCount > 0, L >= minNgram + 1 else { return [] }
        // Index every n-gram that has a continuation (ending at L - 2 at the latest).
        while indexed <= L - 2 {
            let e = indexed
            for n in 1...maxNgram where e - n + 1 >= 0 {
                tables[n - 1][key(endingAt: e, length: n)] = Int32(e + 1)
            }
            indexed += 1
        }
        for n in stride(from: maxNgram, through: minNgram, by: -1) where L >= n {
            guard let next = tables[n - 1][key(endingAt: L - 1, length: n)] else { continue }
            let from = Int(next)
            return Array(context[from..<min(from + maxCount, L)])
        }
        return []
    }
}
