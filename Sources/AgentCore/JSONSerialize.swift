/// Serialization in the style of Python's `json.dumps`: separators `", "` and `": "` by default,
/// optional indentation, non-ASCII kept as is (`ensure_ascii=False`) or escaped.
public struct JSONFormat: Sendable {
    public var itemSeparator: String
    public var keySeparator: String
    public var indent: Int?
    public var ensureASCII: Bool

    public init(itemSeparator: String = ", ", keySeparator: String = ": ", indent: Int? = nil, ensureASCII: Bool = false) {
        self.itemSeparator = itemSeparator
        self.keySeparator = keySeparator
        self.indent = indent
        self.ensureASCII = ensureASCII
    }

    /// `json.dumps(x)` with Python's defaults for separators, but without ASCII escaping.
    public static let python = JSONFormat()
    /// Compact: `{"a":1,"b":[1,2]}` (transcripts, wire formats).
    public static let compact = JSONFormat(itemSeparator: ",", keySeparator: ":")
    /// Human-readable, two-space indent.
    public static let pretty = JSONFormat(itemSeparator: ",", keySeparator: ": ", indent: 2)
}

extension JSONValue {
    public func serialized(_ format: JSONFormat = .compact) -> String {
        var out = ""
        write(to: &out, format: format, level: 0)
        return out
    }

    private func write(to out: inout String, format: JSONFormat, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += JSONValue.formatDouble(d)
        case .string(let s): JSONValue.writeString(s, to: &out, ensureASCII: format.ensureASCII)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += format.indent == nil ? format.itemSeparator : format.itemSeparator.trimmingTrailingSpaces }
                newline(&out, format: format, level: level + 1)
                item.write(to: &out, format: format, level: level + 1)
            }
            newline(&out, format: format, level: level)
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += format.indent == nil ? format.itemSeparator : format.itemSeparator.trimmingTrailingSpaces }
                newline(&out, format: format, level: level + 1)
                JSONValue.writeString(m.key, to: &out, ensureASCII: format.ensureASCII)
                out += format.keySeparator
                m.value.write(to: &out, format: format, level: level + 1)
            }
            newline(&out, format: format, level: level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, format: JSONFormat, level: Int) {
        guard let indent = format.indent else { return }
        out += "\n" + String(repeating: " ", count: indent * level)
    }

    /// Shortest round-trip representation, as Python's `repr(float)`: `1.0`, `0.1`, `1e-07`, `1e+16`.
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        var s = "\(d)"  // Swift prints shortest round-trip digits, e.g. 1.0, 1e-07, 1e+16
        if s.contains("e") {
            // Python writes 1e-07 / 1e+16 as Swift does; keep it.
            return s
        }
        if !s.contains(".") { s += ".0" }
        return s
    }

    static func writeString(_ s: String, to out: inout String, ensureASCII: Bool) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
