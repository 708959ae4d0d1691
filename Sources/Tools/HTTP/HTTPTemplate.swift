import AgentCore

/// `{param}` substitution in an HTTP tool's URL, headers and body. Only names that are parameters of the
/// tool are slots; any other `{...}` (a JSON body's own braces) is left as written. A parameter the call
/// did not give expands to the empty string.
enum HTTPTemplate {
    enum Context { case url, header, body }

    static func expand(_ template: String, names: Set<String>, arguments: JSONValue, context: Context) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), names.contains(String(after[..<close])) {
                let name = String(after[..<close])
                out += try render(arguments[name], name: name, context: context)
                rest = after[after.index(after: close)...]
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
    }

    static func render(_ value: JSONValue?, name: String, context: Context) throws -> String {
        guard let value, value != .null else { return "" }
        switch context {
        case .url:
            let text = value.stringValue ?? value.serialized(.compact)
            // "." and ".." would be dot segments that the URL parser removes.
            if !text.isEmpty && text.allSatisfy({ $0 == "." }) { return String(repeating: "%2E", count: text.count) }
            return percentEscape(text)
        case .header:
            let text = value.stringValue ?? value.serialized(.compact)
            if text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                throw HTTPFailure("argument '\(name)' contains a line break, which is not allowed in a header")
            }
            return text
        case .body:
            if case .string = value { return String(value.serialized(.compact).dropFirst().dropLast()) }
            return value.serialized(.compact)
        }
    }

    /// Percent-escapes every byte except the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`).
    static func percentEscape(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return out
    }
}
