import Engine
import Foundation
import TestSupport
import Testing

/// The thread pool's serial schedule (what it falls back to when its threads lose time on a busy CPU)
/// runs the same partition of every job on the caller, so prefill, decode and multi-row decode give the
/// same bits as the threads do; and the adaptive pool goes serial when a worker is held up.
@Suite(.serialized)
struct PoolScheduleTests {
    @Test(.requiresModel(RealModels.smol)) func serialGivesTheThreadsBits() throws {
        let model = try TestModels.model(RealModels.smol)
        let fixture = try EngineFixture.load(RealModels.smol)
        let tokens = Array(try #require(fixture.cases.first { $0.name == "long_prose" }).prompt_tokens.prefix(70))
        func logits(_ schedule: ThreadPool.Schedule) throws -> [[Float]] {
            let s = Session(model: model, threads: 2, batchSize: 32)
            s.pool.schedule = schedule
            var out: [[Float]] = []
            try s.append(Array(tokens[..<60]))           // prefill in two batches
            out.append(Array(s.logits))
            try s.decode(tokens[60])                      // a decode step
            out.append(Array(s.logits))
            try s.appendRows(Array(tokens[61..<66]))      // a multi-row step
            for i in 0..<5 { out.append(Array(s.logits(after: 61 + i)!)) }
            return out
        }
        let parallel = try logits(.parallel), serial = try logits(.serial)
        #expect(parallel.count == serial.count)
        var differing = 0
        for (a, b) in zip(parallel, serial) where a.map(\.bitPattern) != b.map(\.bitPattern) { differing += 1 }
        #expect(differing == 0, "\(differing) of \(parallel.count) logit rows differ between the serial and threaded schedules")
    }

    @Test func aHeldUpWorkerMakesThePoolGoSerial() {
        let pool = ThreadPool(threads: 2)
        pool.schedule = .adaptive
        // Worker 1 is slow (as if preempted); the caller's part is quick.
        for _ in 0..<80 {
            pool.run { t in if t == 1 { usleep(300) } }
        }
        #expect(pool.serialSwitches >= 1)
        let before = pool.serialJobs
        pool.run { _ in }
        #expect(pool.serialJobs == before + 1, "the next job runs serially")

        let fixed = ThreadPool(threads: 2)
        fixed.schedule = .parallel
        for _ in 0..<80 { fixed.run { t in if t == 1 { usleep(300) } } }
        #expect(fixed.serialSwitches == 0 && fixed.serialJobs == 0)
    }
}
