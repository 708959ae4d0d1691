import Engine
import TestSupport
import Testing
import Tokenizer

/// Generation through the tokenizer on SmolLM2: streamed pieces add up to the text, stop strings cut
/// it, greedy generation is the reference continuation, the prompt prefix is reused.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct GeneratorTests {
    static let alias = "smollm2-135m-instruct"

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
}
