import AgentCore
import Foundation

/// `declared_calls: collect`: which declared calls a run has collected for its caller, and whether a further
/// call adds a new one. The first call is collected; after it, only calls of a tool already collected whose
/// required arguments (all of its arguments when the schema requires none) differ from every collected call
/// of that tool: the items of a request that lists several (two artists, three cities), which a model that
/// writes one call per turn makes one after another. Four kinds of further call are not collected, because
/// small models answered `OK` go on to make them although nobody asked:
/// - a call of another declared tool that brings no values of its own (see `bringsItsOwnValues`): offered
///   several tools, the default model calls each of the others in turn with the values it has used (on BFCL's
///   `multiple` category, 31 of 40 runs; collecting them all cost 25 of 31 right answers);
/// - a variant: the same tool and required arguments with other optional settings (`method: "trapezoid"`
///   after `"simpson"`, `formatted: false` after `true`);
/// - a restatement: a call whose required values (case, surrounding spaces and the order of lists aside) are
///   all values of one collected call, in other places or again (`function1`/`function2` swapped, a list
///   reordered, `" Christianity"` for `"Christianity"`, a string inside one of that call's or around it: see
///   `overlaps`), or all values of collected calls of other tools;
///   a new item brings a value of its own;
/// - an invented item: a required argument (any argument when none is required) whose value is not in the
///   user's messages or the tool results (`vehicle_type: "diesel"` and `"EV"` after `"gas"` for "a
///   gas-powered vehicle"), tested as `ArgumentGrounding` tests optional arguments, inside arrays and objects
///   too; a name from them with a short qualifier (`"San Francisco, CA"`) counts as taken, and so does the
///   value a collected call of the tool gave the same argument (the setting the items share).
/// Two string values that differ only in their qualifier name one item (see `named`).
/// The loop passes the calls it acknowledged to later turns (`SamplingOptions.acknowledgedCalls`): a model
/// answered `OK` writes its call again, and decoded again without it writes its next call.
struct CollectedCalls: Sendable {
    /// Why a call was not collected.
    enum Refusal: Sendable, Hashable {
        case variant, restated, otherTool, ungrounded

        /// The `declared_call` metadata of the call's acknowledgement.
        var note: String {
            switch self {
            case .variant: return "not collected: a variant of a collected call (only optional arguments differ)"
            case .restated: return "not collected: the values of a collected call again, in other places or order"
            case .otherTool: return "not collected: another tool than the calls collected, without values of its own in the conversation"
            case .ungrounded: return "not collected: a value that says which item it is (a required argument, any when none is) is not in the conversation"
            }
        }
    }

    private(set) var calls: [ToolCall] = []

    var isEmpty: Bool { calls.isEmpty }

    /// Collect `call`, or say why not. `parameters`: the schema the tool was declared with; `grounding`: what
    /// the conversation holds (nil: every value counts as grounded).
    mutating func add(_ call: ToolCall, parameters: JSONValue?, grounding: ArgumentGrounding? = nil) -> Refusal? {
        if !calls.isEmpty && !calls.contains(where: { $0.name == call.name }) {
            guard bringsItsOwnValues(call, parameters: parameters, grounding: grounding) else { return .otherTool }
            calls.append(call)
            return nil
        }
        let identity = Self.identity(of: call, parameters: parameters)
        if calls.contains(where: { $0.name == call.name && Self.identity(of: $0, parameters: parameters) == identity }) {
            return .variant
        }
        let values = Self.values(in: identity)
        func within(_ theirs: [JSONValue], containing: Bool = false) -> Bool {
            let exact = Set(theirs), named = Set(theirs.map { Self.named($0) ?? $0 })
            return values.allSatisfy { value in
                exact.contains(value) || named.contains(Self.named(value) ?? value)
                    || (containing && theirs.contains { Self.overlaps(value, $0) })
            }
        }
        // The values of one collected call of this tool again, or values only calls of other tools had
        // (the model pairing each tool with the other's item: `news(Letterkenny)`, `weather(Paris)` after
        // `news(Paris)`, `weather(Letterkenny)`).
        let others = calls.filter { $0.name != call.name }.flatMap { Self.values(in: $0.arguments) }
        if calls.contains(where: { $0.name == call.name && within(Self.values(in: Self.identity(of: $0, parameters: parameters)), containing: true) })
            || (!others.isEmpty && within(others))
        {
            return .restated
        }
        if !calls.isEmpty, let grounding, !(identity.objectValue ?? []).allSatisfy({ member in
            isItemValue(member.value, grounding: grounding) || sharesCollectedValue(member, of: call.name)
        }) {
            return .ungrounded
        }
        calls.append(call)
        return nil
    }

    /// A call of another tool than those collected is a further item of the request when its required
    /// values (all its values when none is required; strings and numbers) are all in the conversation and none
    /// is a value of a collected call: a request that needs several tools names each one's values ("the area
    /// of a 5 by 3 rectangle and of a circle of radius 2"), while a model answered `OK` that calls each
    /// of the other offered tools in turn fills them with the values it has already used
    /// (`circle_area(radius: 5)` after `rectangle_area(5, 3)` for "the area of a 5 by 3 rectangle").
    func bringsItsOwnValues(_ call: ToolCall, parameters: JSONValue?, grounding: ArgumentGrounding?) -> Bool {
        let identity = Self.identity(of: call, parameters: parameters)
        let own = Self.values(in: identity).filter {
            switch $0 {
            case .string(let s): return !s.isEmpty
            case .int, .double: return true
            default: return false
            }
        }
        guard !own.isEmpty else { return false }
        let used = Set(calls.flatMap { Self.values(in: $0.arguments) })
        guard own.allSatisfy({ !used.contains($0) }) else { return false }
        guard let grounding else { return true }
        return (identity.objectValue ?? []).allSatisfy { isItemValue($0.value, grounding: grounding) }
    }

    /// Whether a further call's value is one the user gave: taken from the conversation (see
    /// `ArgumentGrounding.isGroundedDeep`), or a name from it with a short qualifier after a comma. Asked for
    /// "Boston, MA and also San Francisco", the model writes `"San Francisco, CA"` as it wrote `"Boston, MA"`;
    /// the qualifier (a state, a country: at most three words) says where the named item is, not which.
    func isItemValue(_ value: JSONValue, grounding: ArgumentGrounding) -> Bool {
        switch value {
        case .array(let items): return items.allSatisfy { isItemValue($0, grounding: grounding) }
        case .object(let members): return members.allSatisfy { isItemValue($0.value, grounding: grounding) }
        case .string:
            if grounding.isGrounded(value, default: nil) { return true }
            return Self.named(value).map { grounding.isGrounded($0, default: nil) } ?? false
        default: return grounding.isGrounded(value, default: nil)
        }
    }

    /// Whether two (lowercased, trimmed) strings are one inside the other, the shorter of two characters or
    /// more: a model made to write another item shortens or pads the one it wrote (`"HbA1c"` after
    /// `"human HbA1c"`, `"The Treaty of Paris"`, `"plgah.ca"` after `"http://plgah.ca"`, `"PG"` after `"PG1"`).
    static func overlaps(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard case .string(let x) = a, case .string(let y) = b, x != y else { return false }
        let (short, long) = x.count <= y.count ? (x, y) : (y, x)
        return short.count >= 2 && long.contains(short)
    }

    /// The name of a qualified string value: `"San Francisco"` of `"San Francisco, CA"` (a name of two
    /// characters or more, then one comma and at most three words, 24 characters); nil for other values. Two
    /// values with the same name and other qualifiers name one item (`"上海, CN"` restates `"上海, CA"`).
    static func named(_ value: JSONValue) -> JSONValue? {
        guard case .string(let s) = value, let comma = s.firstIndex(of: ",") else { return nil }
        let name = s[..<comma].trimmingCharacters(in: .whitespaces)
        let qualifier = s[s.index(after: comma)...].trimmingCharacters(in: .whitespaces)
        guard name.count >= 2, !qualifier.isEmpty, qualifier.count <= 24, !qualifier.contains(","),
              qualifier.split(separator: " ").count <= 3 else { return nil }
        return .string(name)
    }

    /// Whether `member`'s value is the value a collected call of the same tool gave the same argument: the
    /// settings the items of a request share ("2 and 4 GB machines with one CPU": the CPU of the first call).
    func sharesCollectedValue(_ member: JSONMember, of tool: String) -> Bool {
        let mine = Self.values(in: member.value)
        return calls.contains { earlier in
            guard earlier.name == tool, let theirs = earlier.arguments[member.key] else { return false }
            return Self.values(in: theirs) == mine
        }
    }

    /// The scalar values inside `value` (arrays and objects opened, keys left out), strings trimmed and
    /// lowercased, numbers as doubles.
    static func values(in value: JSONValue) -> [JSONValue] {
        switch value {
        case .array(let items): return items.flatMap(values(in:))
        case .object(let members): return members.flatMap { values(in: $0.value) }
        case .string(let s): return [.string(s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())]
        case .int, .double: return [value.doubleValue.map(JSONValue.double) ?? value]
        case .null, .bool: return [value]
        }
    }

    /// The arguments that say which request a call is: the required ones, or all when none is required.
    static func identity(of call: ToolCall, parameters: JSONValue?) -> JSONValue {
        guard case .object(let members) = call.arguments else { return call.arguments }
        let required = Set((parameters?["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        let kept = required.isEmpty ? members : members.filter { required.contains($0.key) }
        return .object(kept.sorted { $0.key < $1.key })
    }
}
