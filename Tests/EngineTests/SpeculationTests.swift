import Engine
import Foundation
import TestSupport
import Testing
import Tokenizer

/// Lookup speculation on SmolLM2: the tokens, text, stop reason and final session are plain decoding's,
/// greedy and sampled, with stop strings and a constraint, on a prompt that invites copying (so guesses
/// are made and some are right) and one that does not.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct SpeculationTests {
    static let copyPrompt = """
        Here is a list of fruits: apple, banana, cherry, damson, elderberry, fig, grape, honeydew, kiwi, lemon, \
        mango, nectarine, orange, papaya, quince, raspberry, strawberry.
        Repeat the list exactly: apple, banana,
        """

    struct Run: Equatable {
        var tokens: [Int32], text: String, stop: GenerationStop, session: [Int32], hasLogits: Bool
    }

    static func run(_ speculation: Speculation, prompt: String, parameters: SamplingParameters, maxTokens: Int,
                    stops: [String] = [], constraint: (any TokenConstraint)? = nil) throws -> (Run, GenerationTimings) {
        let model = try TestModels.model(RealModels.smol)
        let tokenizer = try Tokenizer(gguf: model.file)
        let generator = Generator(session: Session(model: model, threads: 2), tokenizer: tokenizer)
        var streamed = ""
        let r = try generator.generate(prompt: tokenizer.encode(prompt), parameters: parameters, maxTokens: maxTokens,
                                       stopStrings: stops, constraint: constraint, speculation: speculation,
                                       onText: { streamed += $0 })
        #expect(streamed == r.text)
        let s = generator.session
        return (Run(tokens: r.tokens, text: r.text, stop: r.stop, session: s.tokens, hasLogits: s.hasLogits), r.timings)
    }

    @Test func greedyCopyIsPlainDecodingAndGuessesPay() throws {
        let (plain, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 60)
        let (spec, t) = try Self.run(.lookup, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 60)
        #expect(spec == plain)
        #expect(t.guessSteps > 0 && t.acceptedGuesses > 0, "no guess was made or none was right: \(t)")
        #expect(t.decodeTokens == plain.tokens.count - 1)
    }

    @Test func sampledIsPlainDecoding() throws {
        for seed: UInt64 in [1, 2, 3] {
            let p = SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, seed: seed)
            let (plain, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: p, maxTokens: 48)
            let (spec, _) = try Self.run(.lookup, prompt: Self.copyPrompt, parameters: p, maxTokens: 48)
            #expect(spec == plain, "seed \(seed)")
        }
    }

    @Test func stopStringsAndBudgetEndAsPlainDecoding() throws {
        let (full, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 40)
        let words = full.text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let stop = try #require(words.dropFirst(4).first)
        let (plain, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 40, stops: [stop])
        let (spec, _) = try Self.run(.lookup, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 40, stops: [stop])
        #expect(plain.stop == .stop)
        #expect(spec == plain)
        for budget in [1, 2, 5, 13] {
            let (a, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: budget)
            let (b, _) = try Self.run(.lookup, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: budget)
            #expect(a == b, "budget \(budget)")
        }
    }

    /// A constraint that bans one token the copy would produce: guesses containing it must be cut off
    /// where plain decoding (masked) diverges from them.
    final class Ban: TokenConstraint {
        let banned: Int32
        init(_ banned: Int32) { self.banned = banned }
        func constrain(logits: UnsafeMutableBufferPointer<Float>) { logits[Int(banned)] = -.infinity }
        func advance(_ token: Int32) {}
        var mustEnd: Bool { false }
    }

    @Test func aConstraintMasksGuessesAsItMasksDecoding() throws {
        let (free, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 30)
        let banned = try #require(free.tokens.dropFirst(3).first)
        let (plain, _) = try Self.run(.off, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 30, constraint: Ban(banned))
        let (spec, _) = try Self.run(.lookup, prompt: Self.copyPrompt, parameters: .greedy, maxTokens: 30, constraint: Ban(banned))
        #expect(!plain.tokens.contains(banned))
        #expect(spec == plain)
    }

    @Test func drafterGuessesTheContinuationOfTheLastNgram() {
        var d = LookupDrafter(context: [1, 2, 3, 4, 5, 9, 9, 2, 3])
        #expect(d.guess(maxCount: 3) == [4, 5, 9])
        d.push(7)  // "3 7" never occurred, nor "7": no guess
        #expect(d.guess(maxCount: 3) == [])
        d.push(2); d.push(3)  // "2 3" again: its latest earlier occurrence continues with 7
        #expect(d.guess(maxCount: 2) == [7, 2])
    }
}
