import Crypto

/// Keeps the head and the tail of a byte stream of any length in bounded memory, and hashes all of it.
///
/// At most `limit` bytes are kept: the first `limit/2` and the last `limit - limit/2`. When more arrived,
/// `text` joins them with a `[... N bytes truncated ...]` marker and `sha256` names the whole stream.
struct OutputCapture {
    let limit: Int
    private(set) var totalBytes = 0
    private var head: [UInt8] = []
    private var tail: [UInt8]      // ring buffer once full
    private var tailStart = 0       // index of the oldest byte in `tail` when it is full
    private var hasher = SHA256()
    private let headLimit: Int
    private let tailLimit: Int

    init(limit: Int) {
        self.limit = max(limit, 0)
        headLimit = self.limit / 2
        tailLimit = self.limit - headLimit
        tail = []
        tail.reserveCapacity(min(tailLimit, 1 << 20))
        head.reserveCapacity(min(headLimit, 1 << 20))
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        hasher.update(bufferPointer: bytes)
        totalBytes += bytes.count
        var rest = bytes[...]
        if head.count < headLimit {
            let n = min(headLimit - head.count, rest.count)
            head.append(contentsOf: rest.prefix(n))
            rest = rest.dropFirst(n)
        }
        guard !rest.isEmpty, tailLimit > 0 else { return }
        if rest.count >= tailLimit {
            // The chunk alone fills the tail: keep its last tailLimit bytes.
            tail = Array(rest.suffix(tailLimit))
            tailStart = 0
            return
        }
        var src = rest
        while !src.isEmpty {
            if tail.count < tailLimit {
                let n = min(tailLimit - tail.count, src.count)
                tail.append(contentsOf: src.prefix(n))
                src = src.dropFirst(n)
                continue
            }
            let n = min(tailLimit - tailStart, src.count)
            let start = tailStart
            tail.withUnsafeMutableBytes { dst in
                UnsafeMutableRawBufferPointer(rebasing: dst[start..<(start + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(n)))
            }
            tailStart = (tailStart + n) % tailLimit
            src = src.dropFirst(n)
        }
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    var truncated: Bool { totalBytes > limit }
    var truncatedBytes: Int { max(0, totalBytes - head.count - tail.count) }

    /// Tail bytes in stream order.
    private var orderedTail: [UInt8] {
        tailStart == 0 ? tail : Array(tail[tailStart...] + tail[..<tailStart])
    }

    /// The kept bytes as text (invalid UTF-8 replaced), with the marker when bytes were dropped.
    var text: String {
        let t = orderedTail
        if !truncated { return String(decoding: head + t, as: UTF8.self) }
        return String(decoding: head, as: UTF8.self) + "\n[... \(truncatedBytes) bytes truncated ...]\n"
            + String(decoding: t, as: UTF8.self)
    }

    /// Hex SHA-256 of everything appended. Consumes nothing; can be read at any time.
    var sha256: String {
        hasher.finalize().map { b in
            let h = String(b, radix: 16)
            return b < 16 ? "0" + h : h
        }.joined()
    }
}

/// The finished form of an `OutputCapture`.
struct CapturedText: Sendable, Hashable {
    var text: String
    var totalBytes: Int
    var truncated: Bool
    /// Hex SHA-256 of the whole stream.
    var sha256: String

    static let empty = CapturedText(text: "", totalBytes: 0, truncated: false,
                                    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

extension OutputCapture {
    var finished: CapturedText {
        CapturedText(text: text, totalBytes: totalBytes, truncated: truncated, sha256: sha256)
    }
}
