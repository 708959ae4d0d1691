/// Holds generated text back while it could still be the start of a stop string, so no part of a stop
/// string is ever released. Matching is on UTF-8 bytes: a stop string (valid UTF-8) can only match at a
/// character boundary of valid text, so every cut falls between characters.
public struct StopStringFilter: Sendable {
    private let stops: [[UInt8]]
    /// Text not released yet: the longest tail that a stop string may still start with.
    private var held: [UInt8] = []

    /// Empty stop strings are ignored.
    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    /// Whether there is nothing to hold back (no stop strings).
    public var isEmpty: Bool { stops.isEmpty }

    /// Takes the next piece of text. Returns the text that can no longer be part of a stop string and
    /// whether a stop string is complete; the text released then ends where the earliest stop string starts
    /// (and the rest is dropped).
    public mutating func push(_ piece: String) -> (text: String, stopped: Bool) {
        if stops.isEmpty { return (piece, false) }
        held += piece.utf8
        if let start = firstStop() {
            let text = String(decoding: held[..<start], as: UTF8.self)
            held.removeAll()
            return (text, true)
        }
        let keep = heldStart()
        let text = String(decoding: held[..<keep], as: UTF8.self)
        held.removeFirst(keep)
        return (text, false)
    }

    /// Releases what is held (generation ended without completing a stop string).
    public mutating func flush() -> String {
        let text = String(decoding: held, as: UTF8.self)
        held.removeAll()
        return text
    }

    /// Where the earliest complete stop string starts in `held`. Released text never ends inside a
    /// possible start of a stop string, so every occurrence lies within `held`.
    private func firstStop() -> Int? {
        var best: Int?
        for s in stops where s.count <= held.count {
            let last = min(held.count - s.count, (best ?? Int.max) - 1)
            guard last >= 0 else { continue }
            for i in 0...last where held[i] == s[0] && held[i..<i + s.count].elementsEqual(s) {
                best = i
                break
            }
        }
        return best
    }

    /// Start of the longest tail of `held` that is a proper prefix of some stop string (`held.count` if none).
    private func heldStart() -> Int {
        for i in 0..<held.count {
            let tail = held[i...]
            if stops.contains(where: { $0.count > tail.count && $0.starts(with: tail) }) { return i }
        }
        return held.count
    }
}
