import AgentCore
import Foundation

/// `ground_optional_arguments`: an optional argument (a property of the tool's schema that is not in
/// `required`) whose value the model did not take from the conversation is dropped before the call runs,
/// so the tool's own default applies. Small models fill optional parameters with values nobody gave
/// (`units: "Fahrenheit"`, `end_line: 2000`); a value the user or a tool result wrote is kept.
///
/// What counts as taken from the conversation, per value: a string whose text (case aside, and a leading
/// `./` aside) appears in the evidence, or `.` (the current directory); a number whose magnitude appears
/// there as a number (`5` in "5cm", `10.0` for "10"), in words (`3` for "three days") or as a percentage
/// (`0.2` for "20%"); an ISO date the user wrote in another form (`2023-04-11` for "April 11th, 2023"); a value
/// equal to the property's schema `default`. Booleans, arrays, objects and null are always kept (nothing
/// to look up reliably), as are required arguments and arguments the schema does not describe. The
/// evidence is the text of the user's messages and of tool results, never the system prompt, the tool
/// declarations, the model's own turns or the acknowledgement of a collected call.
struct ArgumentGrounding: Sendable {
    private let text: String
    private let numbers: Set<Double>
    private let dates: Set<String>

    init(conversation: [Message]) {
        // A declared call's acknowledgement (`declared_calls: collect`) is the runtime's word, not a tool's
        // data: a model once filled `prompt_message: "OK"` from it.
        let parts = conversation.filter {
            $0.role == .user || ($0.role == .tool && $0.content != DeclaredCallsMode.acknowledgement)
        }.map(\.content)
        let joined = parts.joined(separator: "\n")
        text = joined.lowercased()
        numbers = Self.numbers(in: joined)
        dates = WrittenDates.isoDates(in: joined)
    }

    /// `call` with its ungrounded optional arguments taken out (kept in `ungrounded`); unchanged when every
    /// optional argument is grounded, when the schema says nothing of them, or when dropping one would make
    /// the call break the schema.
    func ground(_ call: ToolCall, parameters: JSONValue) -> ToolCall {
        guard case .object(let members) = call.arguments,
              let properties = parameters["properties"]?.objectValue else { return call }
        let required = Set((parameters["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        var kept: [JSONMember] = [], dropped: [JSONMember] = []
        for member in members {
            guard !required.contains(member.key),
                  let property = properties.first(where: { $0.key == member.key })?.value,
                  !isGrounded(member.value, default: property["default"]) else {
                kept.append(member)
                continue
            }
            dropped.append(member)
        }
        guard !dropped.isEmpty else { return call }
        var grounded = call
        grounded.arguments = .object(kept)
        if JSONSchema(parameters).firstError(grounded.arguments) != nil { return call }
        grounded.ungrounded = .object(dropped)
        return grounded
    }

    func isGrounded(_ value: JSONValue, default fallback: JSONValue?) -> Bool {
        if let fallback, fallback == value { return true }
        switch value {
        case .string(let s):
            var needle = s.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
            // A relative path written from the current directory ("./data") names what "data" names.
            while needle.hasPrefix("./") { needle.removeFirst(2) }
            return needle.isEmpty || needle == "." || text.contains(needle) || dates.contains(needle)
        case .int, .double:
            guard let d = value.doubleValue else { return true }
            return numbers.contains(abs(d))
        case .null, .bool, .array, .object:
            return true
        }
    }

    /// Whether `value` was taken from the conversation, looking inside arrays and objects (each string and
    /// number in them must be); booleans and null count as taken.
    func isGroundedDeep(_ value: JSONValue) -> Bool {
        switch value {
        case .array(let items): return items.allSatisfy(isGroundedDeep)
        case .object(let members): return members.allSatisfy { isGroundedDeep($0.value) }
        default: return isGrounded(value, default: nil)
        }
    }

    /// The magnitudes of the decimal numbers written in `s` ("3", "2.5"; "1,200" as 1200 and as 1 and 200, a list or a thousands separator; a sign is not kept), and of the numbers it writes in words (`NumberWords`).
    static func numbers(in s: String) -> Set<Double> {
        var found = Set<Double>()
        var digits = ""
        func flush() {
            var t = digits
            while t.hasSuffix(".") || t.hasSuffix(",") { t.removeLast() }
            if let d = Double(t.filter { $0 != "," }) { found.insert(d) }
            for piece in t.split(separator: ",") { if let d = Double(piece) { found.insert(d) } }
            digits = ""
        }
        for ch in s {
            if ch.isASCII && ch.isNumber {
                digits.append(ch)
            } else if (ch == "." || ch == ","), !digits.isEmpty, !digits.hasSuffix("."), !digits.hasSuffix(",") {
                digits.append(ch)
            } else if !digits.isEmpty {
                flush()
            }
        }
        if !digits.isEmpty { flush() }
        return found.union(NumberWords.values(in: s)).union(percentages(in: s))
    }

    /// "20%" and "20 percent" also as 0.2: a rate the user wrote as a percentage.
    static func percentages(in s: String) -> Set<Double> {
        let words = s.lowercased().split(whereSeparator: \.isWhitespace)
        var found = Set<Double>()
        for (i, word) in words.enumerated() {
            let trimmed = word.drop { !($0.isASCII && $0.isNumber) }
            var number = trimmed.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
            while number.hasSuffix(".") { number = number.dropLast() }
            guard let value = Double(number) else { continue }
            let rest = trimmed.dropFirst(number.count)
            if rest.hasPrefix("%") || (rest.isEmpty && i + 1 < words.count && words[i + 1].hasPrefix("percent")) {
                found.insert(value / 100)
            }
        }
        return found
    }
}
