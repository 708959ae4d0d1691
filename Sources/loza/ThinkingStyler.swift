import AgentCore

/// Splits a reply's streamed text into the thinking block (shown dimmed) and the rest. The tags may arrive
/// split across pieces: a tail that could still be the start of the next tag is held back.
struct ThinkingStyler {
    private(set) var inside = false
    private var held = ""

    /// A new reply starts outside any block.
    mutating func reset() {
        inside = false
        held = ""
    }

    /// The pieces of `text` that can be shown now, each with whether it belongs to a thinking block.
    mutating func push(_ text: String) -> [(text: String, thinking: Bool)] {
        var rest = Substring(held + text)
        held = ""
        var out: [(text: String, thinking: Bool)] = []
        while true {
            let tag = inside ? Reasoning.closeTag : Reasoning.openTag
            if let r = rest.firstRange(of: tag) {
                if r.lowerBound > rest.startIndex { out.append((String(rest[..<r.lowerBound]), inside)) }
                out.append((tag, true))
                inside.toggle()
                rest = rest[r.upperBound...]
                continue
            }
            // The longest tail that is a proper prefix of the tag waits for the next piece.
            var keep = min(rest.count, tag.count - 1)
            while keep > 0 && !tag.hasPrefix(rest.suffix(keep)) { keep -= 1 }
            held = String(rest.suffix(keep))
            let shown = rest.dropLast(keep)
            if !shown.isEmpty { out.append((String(shown), inside)) }
            return out
        }
    }
}
