import Engine
import Foundation
import TestSupport
import Testing
import Tokenizer

/// Generation through the tokenizer on SmolLM2: streamed pieces add up to the text, stop strings cut
/// it, greedy generation is the reference continuation, the prompt prefix is reused.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct GeneratorTests {
    static let alias = RealModels.smol

    @Test func streamsStopsAndReuses() throws {
        let model = try TestModels.model(Self.alias)
        let tokenizer = try Tokenizer(gguf: model.file)
        let session = Session(model: model, threads: 2)
        let generator = Generator(session: session, tokenizer: tokenizer)
        let prompt = tokenizer.encode("def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n")

        var pieces: [String] = []
        let full = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 12, onText: { pieces.append($0) })
        #expect(full.stop == .length)
        #expect(full.tokens.count == 12)
        #expect(pieces.joined() == full.text)
        #expect(full.text == tokenizer.decode(full.tokens))
        #expect(full.reusedTokens == 0)

        // Greedy = the argmax continuation computed directly.
        #expect(full.tokens == (try greedy(session, prompt: prompt, count: 12)))

        // A stop string taken from the middle of that text ends generation before it.
        let words = full.text.split(separator: " ")
        let stop = try #require(words.dropFirst(2).first.map(String.init))
        var streamed = ""
        let cut = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 12, stopStrings: [stop], onText: { streamed += $0 })
        #expect(cut.stop == .stop)
        #expect(!cut.text.contains(stop))
        #expect(full.text.hasPrefix(cut.text))
        #expect(streamed == cut.text)

        // Same prompt again: everything but the last prompt token comes from the cache.
        let again = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 2)
        #expect(again.reusedTokens >= prompt.count - 1)
        #expect(again.tokens == Array(full.tokens.prefix(2)))
    }

    @Test func seededSamplingRepeats() throws {
        let model = try TestModels.model(Self.alias)
        let tokenizer = try Tokenizer(gguf: model.file)
        let p = SamplingParameters(temperature: 0.9, topK: 40, topP: 0.95, seed: 7)
        let prompt = tokenizer.encode("Once upon a time")
        var runs: [[Int32]] = []
        for _ in 0..<2 {
            let g = Generator(session: Session(model: model, threads: 2), tokenizer: tokenizer)
            runs.append(try g.generate(prompt: prompt, parameters: p, maxTokens: 16).tokens)
        }
        #expect(runs[0] == runs[1])
    }

    /// A stop string that starts inside one token's text and ends in a later token's: no byte of it
    /// reaches `onText`, though its first part arrives with a token that is streamed.
    @Test func noPartOfAStopStringIsStreamed() throws {
        let model = try TestModels.model(Self.alias)
        let tokenizer = try Tokenizer(gguf: model.file)
        let generator = Generator(session: Session(model: model, threads: 2), tokenizer: tokenizer)
        let prompt = tokenizer.encode("The three primary colors are")
        // Every run below finds the prompt in the cache and re-runs its last token as a decode step. A first
        // run on the empty session computes that token in a prefill batch instead, whose arithmetic differs
        // (8-bit GEMM on VNNI hosts, SGEMM elsewhere), so a near-tie later on may part: compare like with like.
        _ = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 24)
        var pieces: [String] = []
        let full = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 24, onText: { pieces.append($0) })
        #expect(full.tokens.count == 24 && pieces.joined() == full.text)

        // The first pair of pieces with at least two characters each, past the first piece.
        let i = try #require((1..<pieces.count - 1).first { pieces[$0].count >= 2 && pieces[$0 + 1].count >= 2 })
        let stop = String(pieces[i].suffix(2)) + String(pieces[i + 1].prefix(2))
        let start = try #require(full.text.range(of: stop)).lowerBound
        var streamed: [String] = []
        let cut = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 24, stopStrings: [stop],
                                         onText: { streamed.append($0) })
        #expect(cut.stop == .stop)
        #expect(cut.text == String(full.text[..<start]))
        #expect(streamed.joined() == cut.text, "streamed \(streamed) for stop \(stop.debugDescription)")
        #expect(cut.tokens == Array(full.tokens.prefix(cut.tokens.count)))

        // A stop string that starts the same way but never completes: held back, then all released.
        var released = ""
        let near = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 24,
                                          stopStrings: [String(pieces[i].suffix(2)) + "\u{7}"], onText: { released += $0 })
        #expect(near.stop == .length && near.text == full.text && released == full.text)
        #expect(near.tokens == full.tokens)
    }

    /// A task cancelled between tokens stops with `.cancelled`, and the session stays usable.
    @Test func cancelledBetweenTokens() async throws {
        let model = try TestModels.model(Self.alias)
        let tokenizer = try Tokenizer(gguf: model.file)
        let generator = Generator(session: Session(model: model, threads: 2), tokenizer: tokenizer)
        let prompt = tokenizer.encode("Once upon a time")
        let box = UncheckedBox(generator)
        let task = Task {
            try box.value.generate(prompt: prompt, parameters: .greedy, maxTokens: 64, onText: { _ in
                withUnsafeCurrentTask { $0?.cancel() }
            })
        }
        await #expect(throws: EngineError.cancelled) { try await task.value }
        // It stopped right after the first piece of text: a handful of tokens decoded at most.
        #expect(generator.session.count < prompt.count + 8)
        let again = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 4)
        #expect(again.tokens.count == 4 && again.reusedTokens == prompt.count - 1)
    }
}

/// Hands a non-Sendable engine object to a task the test awaits at once (the test does not touch it meanwhile).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
