import Foundation
import GGUF
import TestSupport
import Testing
@testable import Tokenizer

/// Load time and encoding throughput on the real vocabularies: about 64 MB encoded, so it runs only
/// with LOZA_BENCH set, in release (`LOZA_BENCH=1 swift test -c release -Xswiftc -enable-testing
/// --filter TokenizerTests.PerformanceTests`). Figures are printed, not asserted; what is asserted is
/// that every encoding of a text (fresh word cache or warm) gives the same tokens, which decode back
/// to the text.
@Suite("tokenizer speed", .benchmark, .requiresModel(RealModels.qwen, RealModels.smol))
struct PerformanceTests {
    /// The fixture texts (code, many scripts, emoji, chat markup) repeated to about 4 MB: mostly
    /// words the cache has seen.
    static func repeatedCorpus() throws -> String {
        let once = try TokenizerFixture.load("tokenizer-qwen2.5-coder-0.5b-instruct").cases.map(\.text)
            .joined(separator: "\n")
        return String(repeating: once + "\n", count: max(1, (4 << 20) / once.utf8.count))
    }

    /// Pseudo-words (mostly lowercase Latin, some capitals, digits, punctuation, Cyrillic, Chinese)
    /// with few repeats, so nearly every word goes through BPE. Must stay identical to
    /// `pseudo_words` in scripts/make-tokenizer-fixtures.py, which checks the tokens of 1 MB of it.
    static func pseudoWords(seed: UInt64, size: Int) -> String {
        var rng = SplitMix64(seed: seed)
        let pools: [[Character]] = [Array("etaoinshrdlucmfwypvbgkqjxz"), Array("ETAOINSHRDLU"), Array("0123456789"),
                                    Array(".,;:!?()[]{}<>=+-*/\"'"), Array("абвгдежзиклмнопрст"),
                                    Array("的一是不了人我在有他这为之")]
        var s = ""
        s.reserveCapacity(size + 64)
        while s.utf8.count < size {
            let pool = pools[rng.next() % 100 < 70 ? 0 : Int(rng.next() % UInt64(pools.count))]
            for _ in 0..<(1 + Int(rng.next() % 9)) { s.append(pool[Int(rng.next() % UInt64(pool.count))]) }
            s.append(rng.next() % 12 == 0 ? "\n" : " ")
        }
        return s
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    static func seconds(_ f: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try f()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    @Test("load time and encode throughput", arguments: [TestModels.qwen, TestModels.smollm])
    func throughput(_ model: String) throws {
        let path = try RealModels.require(model)
        var opens: [Double] = [], builds: [Double] = []
        var tok: Tokenizer?
        for _ in 0..<3 {
            var gguf: GGUFFile?
            opens.append(try Self.seconds { gguf = try GGUFFile(path: path) })
            builds.append(try Self.seconds { tok = try Tokenizer(gguf: gguf!) })
        }
        let tokenizer = try #require(tok)
        var report = String(format: "PERF %@: GGUF open %.3f s + tokenizer build %.3f s (medians of 3)",
                            model, Self.median(opens), Self.median(builds))
        for (name, text) in [("repeated text", try Self.repeatedCorpus()), ("pseudo-words", Self.pseudoWords(seed: 42, size: 4 << 20))] {
            let mb = Double(text.utf8.count) / 1e6
            var rates: [Double] = []
            var cold: [[Int32]] = []
            for _ in 0..<3 {
                let fresh = try Tokenizer(gguf: try GGUFFile(path: path))  // empty word cache
                var ids: [Int32] = []
                rates.append(mb / Self.seconds { ids = fresh.encode(text) })
                cold.append(ids)
            }
            var ids: [Int32] = []
            let warm = mb / Self.seconds { ids = tokenizer.encode(text) }
            report += String(format: "; %@ %.1f MB -> %d tokens: %.1f MB/s cold cache (median of 3), %.1f MB/s warm",
                             name, mb, ids.count, Self.median(rates), warm)
            #expect(cold.allSatisfy { $0 == ids }, "\(model) \(name): a fresh and a warm word cache encode alike")
            #expect(tokenizer.decode(ids) == text, "\(model) \(name): the tokens decode back to the text")
        }
        // Speed is reported, not asserted: timed assertions fail on a loaded machine.
        print(report)
    }
}
