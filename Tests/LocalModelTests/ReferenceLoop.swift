import AgentCore
import ChatTemplate
import Engine
import Tokenizer
@testable import LocalModel

/// The local model's sampling loop as it was before it went through `Generator` (commit 3a41999):
/// render, sync, then constrain -> sample -> advance -> decode, token by token, on its own session.
/// The tests hold `LocalChatModel` to the tokens this gives.
final class ReferenceLoop {
    let model: LocalChatModel
    let session: Session
    let buffers: SamplerBuffers
    let trie: TokenTrie

    init(_ model: LocalChatModel) throws {
        self.model = model
        let plan = try AttentionResolver.plan(for: model.model, settings: nil).plan
        session = Session(model: model.model, threads: model.threads, plan: plan)
        buffers = SamplerBuffers(vocabSize: model.model.config.vocabSize)
        trie = TokenTrie(tokenizer: model.tokenizer)
    }

    func respond(to messages: [Message], tools: [ToolDeclaration], sampling: SamplingOptions) throws -> ModelTurn {
        let ids = model.tokenizer.encode(model.template.render(messages: messages, tools: tools, addGenerationPrompt: true),
                                         addSpecial: true, parseSpecial: true)
        let turn = messages.filter { $0.role == .assistant }.count
        let reused = try session.sync(to: ids)
        let parameters = SamplingParameters(
            temperature: Float(sampling.temperature), topK: sampling.topK, topP: Float(sampling.topP),
            minP: Float(sampling.minP), repetitionPenalty: Float(sampling.repetitionPenalty),
            seed: sampling.seed &+ UInt64(turn) &* 0x9E37_79B9_7F4A_7C15)
        let sampler = Sampler(parameters: parameters, vocabSize: model.model.config.vocabSize, buffers: buffers)
        let constraint = tools.isEmpty ? nil : ToolCallConstraint(trie: trie, tools: tools, choice: .auto)
        var parser = ToolCallParser(tools: tools, turn: turn)
        var decoder = model.tokenizer.streamingDecoder(renderSpecial: true)
        var generated: [Int32] = []
        var stop = StopReason.length
        let budget = max(0, min(sampling.maxTokens, session.maxLength - session.count))
        while generated.count < budget {
            let logits = session.logits
            constraint?.constrain(logits: logits)
            let token = sampler.sample(logits, history: session.tokens[...])
            if model.tokenizer.isEndOfGeneration(token) { stop = .eos; break }
            constraint?.advance(token)
            generated.append(token)
            _ = parser.push(decoder.push(token))
            if constraint?.mustEnd == true { stop = .toolCall; break }
            guard generated.count < budget else { break }
            try session.decode(token)
        }
        _ = parser.push(decoder.flush())
        let parsed = parser.finish()
        return ModelTurn(text: parser.text, tokens: generated, toolCalls: parsed.calls, malformedCalls: parsed.malformed,
                         content: parsed.content, stop: stop, promptTokens: ids.count - reused, reusedTokens: reused)
    }
}
