import AgentCore
import ChatTemplate
import Testing
import TestSupport
import Tokenizer

/// Templates without thinking turns show an assistant message's reasoning as the runtime's block before
/// its content, exactly as the model wrote it; the thinking block's constraint on the real vocabularies.
@Suite struct ReasoningTemplateTests {
    static let call = ToolCall(id: "c1", name: "calculator", arguments: ["expression": "6*7"])

    @Test func blockIsShownBeforeTheContent() throws {
        let qwen = ChatTemplate(template: try TemplateFixture.load("qwen2.5-coder-0.5b-instruct").template)
        #expect(!qwen.nativeThinking)
        let answered = qwen.render(messages: [.user("q"), Message(role: .assistant, content: "42", reasoning: "6 times 7")],
                                   tools: [], addGenerationPrompt: false)
        #expect(answered.hasSuffix("<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n6 times 7\n</think>\n42<|im_end|>\n"))
        // A call right after the block: the template's newline before the call is the one after </think>.
        let called = qwen.render(messages: [.user("q"), Message(role: .assistant, content: "", toolCalls: [Self.call], reasoning: "use it")],
                                 tools: [], addGenerationPrompt: false)
        #expect(called.hasSuffix("<|im_start|>assistant\n<think>\nuse it\n</think>\n<tool_call>\n{\"name\": \"calculator\", \"arguments\": {\"expression\": \"6*7\"}}\n</tool_call><|im_end|>\n"))

        let smol = ChatTemplate(template: try TemplateFixture.load("smollm2-135m-instruct").template)
        let chatml = smol.render(messages: [.user("q"), Message(role: .assistant, content: "42", reasoning: "r")], tools: [],
                                 addGenerationPrompt: false)
        #expect(chatml.contains("<|im_start|>assistant\n<think>\nr\n</think>\n42<|im_end|>"))
        // Without reasoning nothing changes.
        #expect(!qwen.render(messages: [.user("q"), .assistant("42")], tools: [], addGenerationPrompt: false).contains("<think>"))
    }

    @Test(.requiresModel(RealModels.qwen, RealModels.smol), arguments: [RealModels.qwen, RealModels.smol])
    func thinkingAdmitsFreeTextOnly(model: String) throws {
        let tokenizer = try Tokenizer(path: try RealModels.require(model))
        let trie = TokenTrie(tokenizer: tokenizer)
        let constraint = ThinkingConstraint(trie: trie)
        let excluded = Set(constraint.excluded)
        for id in tokenizer.endOfGenerationTokens { #expect(excluded.contains(id), "end of generation \(id) allowed") }
        for tag in ["<tool_call>", "</tool_call>", "<tool_response>"] {
            for id in tokenizer.encode(tag, addSpecial: false, parseSpecial: true) where tokenizer.decode([id]) == tag {
                #expect(excluded.contains(id), "\(tag) allowed")
            }
        }
        // Ordinary text (prose, code, the close tag itself) stays allowed.
        for text in ["Let me think: 6 * 7 = 42, so the answer is {\"x\": 1}.", "</think>"] {
            for id in tokenizer.encode(text, addSpecial: false, parseSpecial: true) { #expect(!excluded.contains(id), "\(text): \(id)") }
        }
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: trie.vocabularySize + 3)
        defer { logits.deallocate() }
        logits.initialize(repeating: 1)
        constraint.constrain(logits: logits)
        #expect(logits.filter { $0 == -.infinity }.count == excluded.count + 3)
        #expect(excluded.count < trie.vocabularySize / 100)
    }

    /// A block that says one thing three times in a row (32 bytes or more) must end; twice, or shorter
    /// repeats, or a fresh block after `reset`, need not.
    @Test(arguments: [RealModels.smol, RealModels.qwen])
    func aBlockThatLoopsEnds(model: String) throws {
        let tokenizer = try Tokenizer(path: try RealModels.require(model))
        let constraint = ThinkingConstraint(trie: TokenTrie(tokenizer: tokenizer))
        func feed(_ text: String) -> (endedAfter: Int?, tokens: Int) {
            constraint.reset()
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            for (i, id) in ids.enumerated() {
                constraint.advance(id)
                if constraint.mustEnd { return (i + 1, ids.count) }
            }
            return (nil, ids.count)
        }
        let sentence = " The final answer is 23. The calculator tool does not need to be called."
        let start = "First, 5 * 4 = 20 and 20 + 3 = 23."
        #expect(feed(start + sentence + sentence).endedAfter == nil)
        let thrice = feed(start + sentence + sentence + sentence + " More")
        let ended = try #require(thrice.endedAfter)
        #expect(ended < thrice.tokens && constraint.looped)
        // Short repeats are ordinary text: a row of dashes, a list's markers, digits.
        #expect(feed(start + String(repeating: "-", count: 200) + String(repeating: " 1, 2,", count: 5)).endedAfter == nil)
        // Reasoning that moves on is never cut, however long.
        let steps = (1...40).map { " Step \($0): \($0) * 3 = \($0 * 3)." }.joined()
        #expect(feed(steps).endedAfter == nil && !constraint.looped)
        #expect(ThinkingConstraint.endsWithThreeCopies(Array((start + sentence + sentence + sentence).utf8)))
    }
}
