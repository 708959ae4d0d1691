/// Turns generated token ids into text as they arrive. A character whose UTF-8 bytes are split
/// across tokens (emoji, CJK from byte tokens) is held back until its last byte arrives, so every
/// returned string is complete text; `flush()` returns whatever is left (invalid bytes as U+FFFD).
/// The concatenated output equals `decode` of all the ids.
public struct StreamingDecoder: Sendable {
    public let tokenizer: Tokenizer
    public var renderSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, renderSpecial: Bool = true) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Bytes held back, waiting for the rest of a character.
    public var pendingByteCount: Int { pending.count }

    public mutating func push(_ id: Int32) -> String {
        tokenizer.appendPiece(id, renderSpecial: renderSpecial, to: &pending)
        return take(StreamingDecoder.completeLength(pending))
    }

    public mutating func flush() -> String {
        take(pending.count)
    }

    public mutating func reset() {
        pending.removeAll(keepingCapacity: true)
    }

    private mutating func take(_ n: Int) -> String {
        guard n > 0 else { return "" }
        let s = String(decoding: pending[0..<n], as: UTF8.self)
        pending.removeFirst(n)
        return s
    }

    /// Length of the longest prefix that does not end inside a multi-byte sequence.
    static func completeLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        while i >= 0 && n - i <= 4 {
            let b = bytes[i]
            if b & 0xC0 == 0x80 {  // continuation byte: look further back for its lead
                i -= 1
                continue
            }
            let need: Int
            switch b {
            case 0xC2...0xDF: need = 2
            case 0xE0...0xEF: need = 3
            case 0xF0...0xF4: need = 4
            default: need = 1  // ASCII or a byte that never starts a sequence
            }
            return n - i < need ? i : n
        }
        return n
    }
}
