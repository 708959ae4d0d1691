// Named states of the tool-call automaton (`CallMachine`). Frames keep them as plain integers (a frame is
// copied at every trie depth of a mask walk, so it stays a few bytes); these names say what each value is.

/// `Frame.phase` of a `.call` frame: where it is in `{"name": <tool>, "arguments": {...}}` and, when
/// tagged, the closing `</tool_call>`. An `in...` phase waits for a child frame (a literal or the
/// arguments object) to complete; `CallMachine.pop` then moves on to the next phase.
enum CallPhase {
    static let start: UInt8 = 0               // `{` next
    static let beforeNameKey: UInt8 = 1       // `"name"` next
    static let inNameKey: UInt8 = 2
    static let afterNameKey: UInt8 = 3        // `:` next
    static let beforeName: UInt8 = 4          // the quoted tool name next
    static let inName: UInt8 = 5
    static let afterName: UInt8 = 6           // `,` next
    static let beforeArgumentsKey: UInt8 = 7  // `"arguments"` next
    static let inArgumentsKey: UInt8 = 8
    static let afterArgumentsKey: UInt8 = 9   // `:` next
    static let beforeArguments: UInt8 = 10    // `{` next
    static let inArguments: UInt8 = 11
    static let afterArguments: UInt8 = 12     // the call's `}` next
    /// The call's object is complete: a bare call ends here, a tagged one continues with `</tool_call>`.
    static let closed: UInt8 = 13
    static let inCloseTag: UInt8 = 14
}

/// `Frame.phase` of an `.object` frame.
enum ObjectPhase {
    static let start: UInt8 = 0       // after `{`: a key or `}` next
    static let afterComma: UInt8 = 1  // a key next
    static let afterKey: UInt8 = 2    // `:` next
    static let afterColon: UInt8 = 3  // the value next
    static let afterValue: UInt8 = 4  // `,` or `}` next
    static let inKey: UInt8 = 10
    static let inValue: UInt8 = 11
}

/// `Frame.phase` of an `.array` frame (`Frame.mask` counts the items).
enum ArrayPhase {
    static let start: UInt8 = 0       // after `[`: an item or `]` next
    static let afterComma: UInt8 = 1  // an item next
    static let afterItem: UInt8 = 2   // `,` or `]` next
    static let inItem: UInt8 = 11
}

/// `Frame.phase` of a `.number` frame: the JSON number grammar.
enum NumberPhase {
    static let start: UInt8 = 0
    static let afterMinus: UInt8 = 1
    static let leadingZero: UInt8 = 2
    static let integerDigits: UInt8 = 3
    static let afterPoint: UInt8 = 4
    static let fractionDigits: UInt8 = 5
    static let afterExponent: UInt8 = 6      // after `e` or `E`
    static let afterExponentSign: UInt8 = 7
    static let exponentDigits: UInt8 = 8
    /// Not a phase: the byte cannot continue the number.
    static let rejected: UInt8 = 255

    /// Whether a number may end in `phase`.
    @inline(__always) static func accepts(_ phase: UInt8) -> Bool {
        phase == leadingZero || phase == integerDigits || phase == fractionDigits || phase == exponentDigits
    }

    /// Whether `phase` needs at least one more character (a number cannot end on `-`, `.`, `e` or a sign).
    @inline(__always) static func needsMore(_ phase: UInt8) -> Bool {
        phase == afterMinus || phase == afterPoint || phase == afterExponent || phase == afterExponentSign
    }
}

/// `Frame.flag`: how a `.call` frame was opened.
enum CallForm {
    static let tagged: UInt8 = 0  // after `<tool_call>`; `</tool_call>` closes it
    static let bare: UInt8 = 1    // `{` first in the reply; only the end of the reply may follow it
    static let fenced: UInt8 = 2  // bare, inside a ```` ```json ```` fence
}

/// `Frame.flag` of the other kinds.
enum FrameFlag {
    /// A `.string` frame that is an object key.
    static let objectKey: UInt8 = 1
    /// A `.number` frame that admits only integers.
    static let integerOnly: UInt8 = 1
}

/// `MachineHead.fence`: progress through an opening fence at the start of the reply. 1-3: that many
/// backticks; 4-6: that many bytes of `json` after them.
enum FenceState {
    static let none: UInt8 = 0
    static let backticks: UInt8 = 3  // ```` ``` ````: `json` or a newline next
    static let info: UInt8 = 7       // ```` ```json ````: a newline next
    static let open: UInt8 = 8       // after the newline: spaces, then the call's `{`
}

/// States of the UTF-8 validator `utf8Next` (also bits 16-23 of a string frame's `aux`). 1-3: that many
/// continuation bytes (80-BF) expected.
enum UTF8State {
    static let boundary: UInt8 = 0
    static let afterE0: UInt8 = 4  // A0-BF next
    static let afterED: UInt8 = 5  // 80-9F next
    static let afterF0: UInt8 = 6  // 90-BF next
    static let afterF4: UInt8 = 7  // 80-8F next
    static let count = 8
    /// Not a state: the byte is invalid here.
    static let invalid: UInt8 = 255
}

/// `Frame.pos` of a `.string` frame: the escape state of `stringStep`.
enum EscapeState {
    static let none: UInt32 = 0
    static let backslash: UInt32 = 1
    /// After `\u`; `unicode + n` after n of its 4 hex digits (n < 4).
    static let unicode: UInt32 = 2
    /// A high surrogate was written: the `\` of the low one next.
    static let lowBackslash: UInt32 = 6
    static let lowU: UInt32 = 7
    /// After the low surrogate's `\u`; `lowUnicode + n` after n of its hex digits (n < 4).
    static let lowUnicode: UInt32 = 8
}

/// Bits 24-31 of a `.string` frame's `aux`: how much of a call tag the string's last bytes spell (the
/// tags may not appear literally inside a string).
enum TagMatch {
    static let shift: UInt32 = 24
    static let none: UInt32 = 0
    static let afterLess: UInt32 = 1       // `<`
    static let afterLessSlash: UInt32 = 2  // `</`
    /// `tail + k`: `<` or `</` and k bytes of "tool_call>" (k >= 1).
    static let tail: UInt32 = 3
}
