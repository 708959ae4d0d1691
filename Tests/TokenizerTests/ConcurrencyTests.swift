import TestSupport
import Testing
@testable import Tokenizer

/// One tokenizer (and its shared word cache) used from many tasks at once gives the same ids as
/// llama.cpp for every fixture text.
@Suite("concurrent encoding", .requiresModel(RealModels.smol))
struct ConcurrencyTests {
    @Test func sharedTokenizerFromManyTasks() async throws {
        let fixture = try TokenizerFixture.load("tokenizer-smollm2-135m-instruct")
        let tok = try TestModels.load(TestModels.smollm)  // fresh: empty cache
        let cases = fixture.cases
        let failures = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var bad = 0
                    for round in 0..<20 {
                        let c = cases[(worker * 7 + round) % cases.count]
                        if tok.encode(c.text) != c.ids { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}
