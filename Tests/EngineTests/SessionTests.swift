import Engine
import Foundation
import TestSupport
import Testing

/// Session bookkeeping on a real model (SmolLM2): incremental append, rewind, prefix reuse, and the
/// agreement of the prefill (SGEMM) and decode (quantized) paths.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct SessionTests {
    static let alias = "smollm2-135m-instruct"

    static func prompt() throws -> [Int32] {
        let fixture = try EngineFixture.load(alias)
        return try #require(fixture.cases.first { $0.name == "long_prose" }).prompt_tokens
    }

    @Test func appendInPiecesEqualsOneAppend() throws {
        let model = try TestModels.model(Self.alias)
        let tokens = Array(try Self.prompt().prefix(80))
        let whole = Session(model: model, threads: 2, batchSize: 32)
        try whole.append(tokens)
        let reference = Array(whole.logits)

        // The same batches, reached through rewinds: bit-identical.
        let s = Session(model: model, threads: 2, batchSize: 32)
        try s.append(Array(tokens[..<64]))
        try s.append(Array(tokens[64...]))
        #expect(Array(s.logits) == reference)
        try s.rewind(to: 64)
        #expect(s.count == 64 && !s.hasLogits)
        try s.append(Array(tokens[64...]))
        #expect(Array(s.logits) == reference, "rewind + re-append differs from a fresh prefill")

        // Other boundaries, ending with a single-token decode step (8-bit activations): close, not equal.
        let t = Session(model: model, threads: 2, batchSize: 32)
        try t.append(Array(tokens[..<50]))
        try t.append(Array(tokens[50..<79]))
        try t.append([tokens[79]])
        let err = relativeError(UnsafeBufferPointer(t.logits), reference)
        #expect(err < 0.05, "pieces 50+29+1 vs one prefill: relative error \(err)")
    }

    @Test func syncReusesThePrefix() throws {
        let model = try TestModels.model(Self.alias)
        let tokens = Array(try Self.prompt().prefix(60))
        let s = Session(model: model, threads: 2)
        try s.append(Array(tokens[..<40]) + [1, 2, 3])
        #expect(s.commonPrefix(with: tokens) == 40)
        let reused = try s.sync(to: tokens)
        #expect(reused == 40)
        #expect(s.tokens == tokens)
        let fresh = Session(model: model, threads: 2)
        try fresh.append(Array(tokens[..<40]))
        try fresh.append(Array(tokens[40...]))
        #expect(Array(s.logits) == Array(fresh.logits))

        // Syncing to the timeline itself reuses everything; to a prefix, re-runs one token.
        #expect(try s.sync(to: tokens) == 60)
        #expect(try s.sync(to: Array(tokens[..<30])) == 29)
        #expect(s.count == 30 && s.hasLogits)
    }

    @Test func prefillAndDecodePathsAgree() throws {
        let model = try TestModels.model(Self.alias)
        let tokens = Array(try Self.prompt().prefix(24))
        let batched = Session(model: model, threads: 2)
        try batched.append(tokens)
        let stepped = Session(model: model, threads: 2)
        for t in tokens { try stepped.decode(t) }
        let a = batched.logits, b = stepped.logits
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i])) }
        print("[\(Self.alias)] prefill vs token-by-token decode, largest logit difference: \(worst)")
        #expect(Sampler.argmax(UnsafeBufferPointer(a)) == Sampler.argmax(UnsafeBufferPointer(b)))
        #expect(worst < 1.0)
    }

    @Test func deterministicAtOneAndTwoThreads() throws {
        let model = try TestModels.model(Self.alias)
        let tokens = Array(try Self.prompt().prefix(40))
        for threads in [1, 2] {
            var runs: [[Float]] = []
            for _ in 0..<2 {
                let s = Session(model: model, threads: threads)
                try s.append(tokens)
                for t: Int32 in [260, 1000, 42] { try s.decode(t) }
                runs.append(Array(s.logits))
            }
            #expect(runs[0] == runs[1], "\(threads) threads: two runs give different bits")
        }
    }

    @Test func rejectsBadTokensAndOverflow() throws {
        let model = try TestModels.model(Self.alias)
        let s = Session(model: model, threads: 1, maxLength: 8)
        #expect(throws: EngineError.invalidToken(id: 49152, vocabSize: 49152)) { try s.append([49152]) }
        #expect(throws: EngineError.contextFull(capacity: 8, requested: 9)) {
            try s.append([Int32](repeating: 1, count: 9))
        }
        #expect(s.count == 0)
    }

    /// A task cancelled during a prefill stops before the next batch: the timeline keeps the batches
    /// done (no logits) and a later sync continues from them, to the same logits as an uncancelled prefill.
    @Test func cancelledPrefillStopsBetweenBatches() async throws {
        let model = try TestModels.model(Self.alias)
        let tokens = Array(try Self.prompt().prefix(200))
        let s = UncheckedBox(Session(model: model, threads: 2, batchSize: 32))
        let task = Task { () -> ([Int], EngineError?) in
            var reports: [Int] = []
            do {
                try s.value.sync(to: tokens) { done, _ in
                    reports.append(done)
                    if done >= 64 { withUnsafeCurrentTask { $0?.cancel() } }
                }
            } catch {
                return (reports, error as? EngineError)
            }
            return (reports, nil)
        }
        let (reports, error) = await task.value
        #expect(error == .cancelled)
        #expect(reports == [32, 64])
        #expect(s.value.count == 64 && !s.value.hasLogits)

        #expect(try s.value.sync(to: tokens) == 64)
        let whole = Session(model: model, threads: 2, batchSize: 32)
        try whole.append(tokens)
        #expect(Array(s.value.logits) == Array(whole.logits))
    }
}
