/// Whether a model reasons before it acts, and for how long.
///
/// `think`: each reply opens with a thinking block, `<think>` ... `</think>`, then a tool call or an
/// answer. Models whose chat template has thinking turns of its own (Qwen3, the R1 distills) write the
/// block the way they were trained to; for the others (the default model) the runtime opens the block,
/// says in the system prompt what it is for, admits only free text inside it, and closes it. At `budget`
/// tokens the runtime closes the block itself and the reply goes on (as Qwen3's thinking budget does).
/// The reasoning is recorded apart from the answer (`ModelTurn.reasoning`, `Message.reasoning`).
public struct Reasoning: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case off, think
    }

    public var mode: Mode
    /// Most tokens inside the thinking block of one reply (the block's own tags aside).
    public var budget: Int

    public init(mode: Mode, budget: Int = Reasoning.defaultBudget) {
        self.mode = mode
        self.budget = budget
    }

    public static let off = Reasoning(mode: .off)
    public static let defaultBudget = 1024

    public var isOn: Bool { mode == .think }

    public static let openTag = "<think>"
    public static let closeTag = "</think>"

    /// What the system prompt says about the block to a model that has no thinking turns of its own.
    public static let instruction = "Think before you act. Start every reply with your reasoning between <think> and "
        + "</think>: what is asked, what you already know, and what is still missing. After </think>, either call a "
        + "tool or give your final answer."

    /// `messages` with `instruction` at the end of the system prompt (`defaultSystem` when there is none).
    public static func instructed(_ messages: [Message], defaultSystem: String?) -> [Message] {
        var out = messages
        if let first = out.first, first.role == .system {
            out[0].content = first.content.isEmpty ? instruction : first.content + "\n\n" + instruction
        } else {
            let system = defaultSystem.map { $0.isEmpty ? instruction : $0 + "\n\n" + instruction } ?? instruction
            out.insert(.system(system), at: 0)
        }
        return out
    }

    /// The block as it is written before the reply's content: `<think>\nREASONING\n</think>`.
    public static func block(_ reasoning: String) -> String {
        openTag + "\n" + reasoning + "\n" + closeTag
    }

    /// The text of an assistant message whose template shows reasoning as part of the content (templates
    /// without thinking turns): the block, then the content on the next line.
    public static func contentWithBlock(_ reasoning: String, _ content: String) -> String {
        content.isEmpty ? block(reasoning) : block(reasoning) + "\n" + content
    }

    /// Splits a leading thinking block off a reply's text: the reasoning (without tags and the newline
    /// after `<think>` and before `</think>`) and the text after the block (without the newlines that
    /// follow it). nil when the text does not open with a block; an unclosed block is all reasoning.
    public static func split(_ text: String) -> (reasoning: String, rest: String)? {
        let trimmed = text.drop { $0 == " " || $0 == "\n" }
        guard trimmed.hasPrefix(openTag) else { return nil }
        var body = trimmed.dropFirst(openTag.count)
        if body.first == "\n" { body = body.dropFirst() }
        guard let close = body.firstRange(of: closeTag) else {
            return (String(body), "")
        }
        var reasoning = body[..<close.lowerBound]
        if reasoning.last == "\n" { reasoning = reasoning.dropLast() }
        let rest = body[close.upperBound...].drop { $0 == "\n" }
        return (String(reasoning), String(rest))
    }
}

extension SamplingOptions {
    /// Turns reasoning on or off. `maxTokens` counts the thinking block: when it was not given, turning
    /// reasoning on raises it by the budget (the reply keeps its room after the block), and turning it off
    /// takes that back.
    public mutating func setReasoning(_ new: Reasoning, maxTokensGiven: Bool) {
        if !maxTokensGiven {
            if reasoning.isOn { maxTokens -= reasoning.budget }
            if new.isOn { maxTokens += new.budget }
        }
        reasoning = new
    }

    /// A command line's override of a spec's reasoning: the mode and budget given, the others kept.
    /// `maxTokens` follows as in `setReasoning` when it still has its default room.
    public mutating func overrideReasoning(mode: Reasoning.Mode?, budget: Int?) {
        let defaultRoom = SamplingOptions().maxTokens + (reasoning.isOn ? reasoning.budget : 0)
        let new = Reasoning(mode: mode ?? reasoning.mode, budget: budget ?? reasoning.budget)
        setReasoning(new, maxTokensGiven: maxTokens != defaultRoom)
    }
}
