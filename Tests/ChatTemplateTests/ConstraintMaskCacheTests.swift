import AgentCore
@testable import ChatTemplate
import Foundation
import TestSupport
import Testing
import Tokenizer

/// Replies that visit many constraint states: free text with partial and broken tags, tagged and bare calls,
/// text between calls, markup that is not a tag.
let maskCacheReplies = [
    "The result is 7006652. Use <b>bold</b>, a <tool_response> or <tool_cal but not a call; 1 < 2 <",
    "Let me check.\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls <x> | grep '.swift'\"}}\n</tool_call>\nThen <tool and more <<tool_call>\n{\"name\": \"list_files\", \"arguments\": {}}\n</tool_call> done <",
    "{\"name\": \"read_file\", \"arguments\": {\"path\": \"a <b>.txt\", \"strict\": true, \"tags\": [\"x\"]}}",
    "```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"echo <tool_call>\"}}\n```",
    "  Sure: {not a call} [1, 2] `code` <tool_call",
    "<<<tool_call>{\"name\": \"say\", \"arguments\": {\"text\": \"é😀\"}}</tool_call> été 世界 <t<to<too",
]

/// The kept free-text masks give exactly the mask of a full trie walk, at every step of many replies, for every
/// tool choice, and `constrain` sets exactly the disallowed logits.
@Suite(.serialized) struct ConstraintMaskCacheTests {
    static let choices: [ToolChoice] = [.auto, .none, .required]

    /// Compares the kept-mask path with the walk in the constraint's current state; returns whether the state
    /// was free text (where the kept masks are used).
    static func compare(_ c: ToolCallConstraint, _ fast: UnsafeMutableBufferPointer<Bool>,
                        _ walked: UnsafeMutableBufferPointer<Bool>, _ logits: UnsafeMutableBufferPointer<Float>,
                        _ context: @autoclosure () -> String) -> Bool {
        let n = c.trie.vocabularySize
        c.allowedTokens(into: fast)
        c.walkedTokens(into: walked)
        #expect(memcmp(fast.baseAddress!, walked.baseAddress!, n) == 0, "mask differs: \(context())")
        for i in 0..<logits.count { logits[i] = Float(i % 97) }
        c.constrain(logits: logits)
        var ok = true
        for i in 0..<logits.count {
            let expected: Float = !c.needsMask ? Float(i % 97) : (i < n && walked[i] ? Float(i % 97) : -.infinity)
            if logits[i] != expected { ok = false; break }
        }
        #expect(ok, "constrained logits differ: \(context())")
        return c.isInsideCall == false && !c.failed
    }

    /// Small vocabulary, byte by byte: every state the replies pass through.
    @Test func keptMasksMatchTheWalkByteByByte() {
        let trie = makeTestTrie()
        let n = trie.vocabularySize
        let fast = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n), walked = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n)
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: n + 5)
        defer { fast.deallocate(); walked.deallocate(); logits.deallocate() }
        var steps = 0
        for choice in Self.choices {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: choice)
            for reply in maskCacheReplies {
                c.reset()
                for (k, b) in Array(reply.utf8).enumerated() {
                    guard !c.failed else { break }
                    _ = Self.compare(c, fast, walked, logits, "\(choice) \(reply.debugDescription) at byte \(k)")
                    steps += 1
                    c.advance(bytes: [b])
                }
                _ = Self.compare(c, fast, walked, logits, "\(choice) \(reply.debugDescription) at the end")
            }
        }
        #expect(steps > 500)
    }

    /// The default model's vocabulary, token by token through its own tokenization of the replies.
    @Test(.requiresModel(RealModels.qwen)) func keptMasksMatchTheWalkOverTheModelVocabulary() throws {
        let (tokenizer, trie) = try ConstraintModelVocabularyTests.load(RealModels.qwen)
        let n = trie.vocabularySize
        let fast = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n), walked = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n)
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: n + 300)
        defer { fast.deallocate(); walked.deallocate(); logits.deallocate() }
        var free = 0, total = 0
        for choice in Self.choices {
            let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: choice)
            for reply in maskCacheReplies {
                c.reset()
                for token in tokenizer.encode(reply, addSpecial: false, parseSpecial: true) {
                    guard !c.failed else { break }
                    if Self.compare(c, fast, walked, logits, "\(choice) \(reply.debugDescription) before token \(token)") { free += 1 }
                    total += 1
                    c.advance(token)
                }
            }
        }
        #expect(free > 50 && total - free > 50, "free \(free) of \(total) steps")

        // Cost of `constrain` per token of a text reply under tool choice none (best of 3 per token).
        let text = "The function `apply_discount` is defined in the file `src/shop/pricing.py` at line 4: it takes an amount and a code, and returns the discounted amount."
        let c = ToolCallConstraint(trie: trie, tools: constraintTools, choice: .none)
        var costs: [Double] = []
        for token in tokenizer.encode(text, addSpecial: false, parseSpecial: true) {
            var best = Double.infinity
            for _ in 0..<3 {
                let start = ContinuousClock.now
                c.constrain(logits: logits)
                let d = ContinuousClock.now - start
                best = min(best, Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
            }
            costs.append(best)
            c.advance(token)
        }
        costs.sort()
        print("constrain, text under tool choice none: median \(Int(costs[costs.count / 2])) µs/token, max \(Int(costs.last!)) µs over \(costs.count) tokens")
    }
}
