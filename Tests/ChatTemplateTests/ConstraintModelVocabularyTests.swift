import AgentCore
@testable import ChatTemplate
import Foundation
import TestSupport
import Testing
import Tokenizer

/// The constraint over the real vocabularies of both models (needs the model files; run in release).
@Suite(.serialized, .requiresModel(RealModels.qwen, RealModels.smol)) struct ConstraintModelVocabularyTests {
    static let models = [RealModels.qwen, RealModels.smol]

    static func load(_ model: String) throws -> (Tokenizer, TokenTrie) {
        let tokenizer = try Tokenizer(path: try RealModels.require(model))
        let start = ContinuousClock.now
        let trie = TokenTrie(tokenizer: tokenizer)
        print("vocabulary trie \(model): \(trie.nodeCount) nodes, built in \(ContinuousClock.now - start)")
        return (tokenizer, trie)
    }

    static let calls = [
        "<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls -la Sources/ | grep '.swift' && wc -l *.swift\"}}\n</tool_call>",
        "I'll read it first.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"docs/README — été 世界.md\", \"strict\": true, \"range\": {\"start\": 10, \"count\": 40}, \"tags\": [\"a\", \"b\"], \"mode\": \"hex\", \"scale\": 0.25}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"say\", \"arguments\": {\"text\": \"é😀\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"list_files\", \"arguments\": {}}\n</tool_call>",
        "{\"name\": \"shell\", \"arguments\": {\"command\": \"python3 -c \\\"print(1 + 2)\\\"\\n echo done\", \"timeout\": 30}}",
        "\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.txt\", \"strict\": false, \"extra\": {\"k\": [1, 2.5, null, {\"deep\": \"<\\/tool_call>\"}]}}}",
    ]

    /// The model's own tokenization of well-formed calls is allowed at every step, and the mask's cost
    /// per token is measured along the way (best of 3 per token, to keep other processes out of it).
    @Test(arguments: models) func naturalTokenizationIsAllowed(model: String) throws {
        let (tokenizer, trie) = try Self.load(model)
        let constraint = ToolCallConstraint(trie: trie, tools: constraintTools)
        let mask = UnsafeMutableBufferPointer<Bool>.allocate(capacity: trie.vocabularySize)
        defer { mask.deallocate() }
        var costs: [Double] = []
        for text in Self.calls {
            constraint.reset()
            let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            for token in tokens {
                var best = Double.infinity
                for _ in 0..<3 {
                    let start = ContinuousClock.now
                    constraint.allowedTokens(into: mask)
                    let d = ContinuousClock.now - start
                    best = min(best, Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
                }
                if constraint.needsMask { costs.append(best) }
                #expect(mask[Int(token)], "\(model): token \(token) \(tokenizer.decode([token]).debugDescription) refused in \(text.debugDescription)")
                constraint.advance(token)
            }
            #expect(!constraint.failed)
            constraint.allowedTokens(into: mask)
            let eog = trie.endOfGeneration.first!
            #expect(mask[Int(eog)], "\(model): end of turn refused after \(text.debugDescription)")
        }
        costs.sort()
        let median = costs[costs.count / 2], p90 = costs[costs.count * 9 / 10]
        print("constraint mask \(model): median \(Int(median)) µs/token, p90 \(Int(p90)) µs, max \(Int(costs.last!)) µs over \(costs.count) constrained tokens (vocabulary \(trie.vocabularySize))")
    }

    /// Random logits over the real vocabulary: every sampled call parses and validates.
    @Test(arguments: models) func fuzzedSamplingOverTheVocabulary(model: String) throws {
        let (tokenizer, trie) = try Self.load(model)
        let constraint = ToolCallConstraint(trie: trie, tools: constraintTools)
        let mask = UnsafeMutableBufferPointer<Bool>.allocate(capacity: trie.vocabularySize)
        defer { mask.deallocate() }
        var rng = SplitMix64(seed: 42)
        var completed = 0
        let structural: Set<UInt8> = [0x22, 0x7D, 0x5D, 0x3C, 0x2C]
        for round in 0..<24 {
            let bare = round % 2 == 1
            constraint.reset()
            var tokens = tokenizer.encode(bare ? "{" : "Let me check.\n<tool_call>\n", addSpecial: false, parseSpecial: true)
            for t in tokens { constraint.advance(t) }
            var ended = false
            for step in 0..<400 {
                constraint.allowedTokens(into: mask)
                var best: Int32 = -1, bestScore = -1.0
                for id in 0..<trie.vocabularySize where mask[id] {
                    var score = rng.nextDouble()
                    // Favour closing bytes as the call grows so that most calls finish.
                    if step > 30 {
                        let b = trie.bytes(of: id)
                        if b.isEmpty || b.contains(where: structural.contains) { score += 1 }
                    }
                    if score > bestScore { bestScore = score; best = Int32(id) }
                }
                #expect(best >= 0, "\(model): no token allowed after \(tokenizer.decode(tokens).debugDescription)")
                if best < 0 { break }
                constraint.advance(best)
                #expect(!constraint.failed)
                if trie.endOfGeneration.contains(best) { ended = true; break }
                tokens.append(best)
                if !bare && constraint.completedCalls == 1 { ended = true; break }
            }
            guard ended else { continue }
            completed += 1
            let reply = tokenizer.decode(tokens)
            var parser = ToolCallParser(tools: constraintTools)
            parser.push(reply)
            let result = parser.finish()
            #expect(result.malformed.isEmpty, "\(model): \(reply.debugDescription) \(result.malformed)")
            #expect(result.calls.count == 1, "\(model): \(reply.debugDescription)")
            if let call = result.calls.first, let tool = constraintTools.first(where: { $0.name == call.name }) {
                #expect(JSONSchema(tool.parameters).firstError(call.arguments) == nil, "\(model): \(reply.debugDescription)")
                #expect(call.recovered == bare)
            }
        }
        #expect(completed >= 18, "\(model): only \(completed) of 24 sampled calls finished within 400 tokens")
    }
}
