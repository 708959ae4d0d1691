/// Durations (`500ms`, `30s`, `2m`, `1h`, `1h30m`, or a bare number of seconds) and
/// sizes (`512`, `512B`, `64KiB`, `1GiB`, `512MB`, `1.5GB`).
public enum SpecUnits {
    /// Seconds, or nil if `text` is not a duration.
    public static func duration(_ text: String) -> Double? {
        let s = text.trimmingSpaces
        if let plain = Double(s), plain.isFinite { return plain }
        var total = 0.0
        var rest = Substring(s)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
        }
        return total
    }

    /// Bytes, or nil if `text` is not a size.
    public static func size(_ text: String) -> Int? {
        let s = text.trimmingSpaces
        let number = s.prefix { $0.isNumber || $0 == "." }
        guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
        let unit = s.dropFirst(number.count).trimmingSpaces.lowercased()
        let scale: Double
        switch unit {
        case "", "b": scale = 1
        case "kb": scale = 1e3
        case "mb": scale = 1e6
        case "gb": scale = 1e9
        case "tb": scale = 1e12
        case "kib": scale = 1024
        case "mib": scale = 1024 * 1024
        case "gib": scale = 1024 * 1024 * 1024
        case "tib": scale = 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let bytes = (value * scale).rounded(.down)
        guard bytes < 9.0e18 else { return nil }
        return Int(bytes)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
