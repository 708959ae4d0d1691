import Engine
import Foundation
import TestSupport
import Testing
import Tokenizer

/// Sessions decoding together through a `DecodeBatch`, each driven by its own thread, against each
/// decoding alone: the same tokens and the same final logits bit for bit, for full attention and LoZA
/// (past the ring wrap) in one batch, greedy and sampled, with speculation on; sessions join and leave
/// at different times; and passes were really shared.
@Suite(.serialized, .requiresModel(RealModels.smol))
struct DecodeBatchTests {
    struct Job: Sendable {
        let prompt: String
        let maxTokens: Int
        let loza: Bool
    }

    struct Outcome: Equatable {
        var tokens: [Int32] = []
        var logits: [UInt32] = []
        var session: [Int32] = []
    }

    static let jobs: [Job] = [
        Job(prompt: "Once upon a time, in a harbour town by the sea, there lived an old sailor who", maxTokens: 60,
            loza: false),
        Job(prompt: "The planets of the solar system, in order from the Sun, are Mercury,", maxTokens: 45, loza: true),
        Job(prompt: "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n", maxTokens: 30, loza: false),
        Job(prompt: String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 14) + "Now count to ten:",
            maxTokens: 70, loza: true),
    ]

    /// A LoZA plan with 16-token blocks and a ring of 4 blocks, so the runs pass the ring wrap.
    static func plan(_ model: Model, loza: Bool) -> AttentionPlan? {
        guard loza else { return nil }
        let n = model.config.layerCount
        return AttentionPlan(layers: (0..<n).map { $0 % 2 == 0 ? .full : .sparse(blockSize: 16, sinkBlocks: 1, localBlocks: 2) })
    }

    static func generate(_ session: Session, _ job: Job, tokenizer: Tokenizer, parameters: SamplingParameters,
                         speculation: Speculation) throws -> Outcome {
        let generator = Generator(session: session, tokenizer: tokenizer)
        let r = try generator.generate(prompt: tokenizer.encode(job.prompt), parameters: parameters,
                                       maxTokens: job.maxTokens, speculation: speculation)
        return Outcome(tokens: r.tokens, logits: session.hasLogits ? session.logits.map(\.bitPattern) : [],
                       session: session.tokens)
    }

    /// Every job alone, then all of them at once in one batch (each on its own thread).
    static func compare(parameters: SamplingParameters, speculation: Speculation) throws {
        let model = try TestModels.model(RealModels.smol)
        let tokenizer = try Tokenizer(gguf: model.file)
        var alone: [Outcome] = []
        for job in jobs {
            let s = Session(model: model, threads: 2, plan: plan(model, loza: job.loza), batchSize: 64)
            alone.append(try generate(s, job, tokenizer: tokenizer, parameters: parameters, speculation: speculation))
        }

        let batch = DecodeBatch(model: model, threads: 2)
        let sessions = jobs.map { Session(model: model, plan: plan(model, loza: $0.loza), batchSize: 64, batch: batch) }
        let results = Results(count: jobs.count)
        let group = DispatchGroup()
        for (i, job) in jobs.enumerated() {
            let session = sessions[i]
            nonisolated(unsafe) let unsafeSession = session
            group.enter()
            let thread = Thread {
                results.set(i, Result { try generate(unsafeSession, job, tokenizer: tokenizer, parameters: parameters,
                                                     speculation: speculation) })
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        for i in jobs.indices {
            let together = try results.get(i)
            #expect(together.tokens == alone[i].tokens, "job \(i): tokens differ")
            #expect(together.logits == alone[i].logits, "job \(i): final logits differ")
            #expect(together.session == alone[i].session, "job \(i): timeline differs")
            #expect(together.tokens.count >= 5, "job \(i): \(together.tokens.count) tokens")
        }
        let shared = batch.sharedPassCounts
        #expect(shared.passes > 10 && shared.rows >= 2 * shared.passes, "passes were not shared: \(shared)")
        #expect(batch.decodingSessions == 0)
    }

    @Test func greedyRunsTogetherAreEachRunAlone() throws {
        try Self.compare(parameters: .greedy, speculation: .off)
    }

    @Test func sampledRunsWithSpeculationTogetherAreEachRunAlone() throws {
        try Self.compare(parameters: SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, seed: 7), speculation: .lookup)
    }

    @Test func aSetFlagStopsPrefillAndDecode() throws {
        let model = try TestModels.model(RealModels.smol)
        let tokenizer = try Tokenizer(gguf: model.file)
        let batch = DecodeBatch(model: model, threads: 2)
        let generator = Generator(session: Session(model: model, batchSize: 8, batch: batch), tokenizer: tokenizer)
        let prompt = tokenizer.encode(Self.jobs[3].prompt)
        let early = CancellationFlag()
        early.cancel()
        #expect(throws: EngineError.cancelled) {
            _ = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 20, cancellation: early)
        }
        #expect(generator.session.count == 0)
        let later = CancellationFlag()
        var pieces = 0
        #expect(throws: EngineError.cancelled) {
            _ = try generator.generate(prompt: prompt, parameters: .greedy, maxTokens: 50, cancellation: later,
                                       onText: { _ in pieces += 1; if pieces == 3 { later.cancel() } })
        }
        #expect(pieces == 3)
        #expect(batch.decodingSessions == 0, "a cancelled loop left the batch")
    }
}

/// Results written by the job threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<DecodeBatchTests.Outcome, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ r: Result<DecodeBatchTests.Outcome, any Error>) { lock.withLock { slots[i] = r } }

    func get(_ i: Int) throws -> DecodeBatchTests.Outcome {
        try #require(lock.withLock { slots[i] }).get()
    }
}
