import Foundation
import Testing
@testable import Tokenizer

/// Load time and encoding throughput on the real vocabularies. Figures are printed; run in release
/// (`swift test -c release -Xswiftc -enable-testing --filter TokenizerTests.PerformanceTests`).
@Suite("tokenizer speed")
struct PerformanceTests {
    static func corpus() throws -> String {
        var parts: [String] = []
        for name in ["tokenizer-qwen2.5-coder-0.5b-instruct"] {
            parts += try TokenizerFixture.load(name).cases.map(\.text)
        }
        let once = parts.joined(separator: "\n")
        return String(repeating: once + "\n", count: max(1, (4 << 20) / once.utf8.count))
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    @Test("load and encode throughput", arguments: [TestModels.qwen, TestModels.smollm])
    func throughput(_ model: String) throws {
        var loads: [Double] = []
        var tok: Tokenizer?
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            tok = try TestModels.load(model)
            loads.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let tokenizer = try #require(tok)
        let text = try Self.corpus()
        let mb = Double(text.utf8.count) / 1e6
        var rates: [Double] = []
        var count = 0
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            count = tokenizer.encode(text).count
            rates.append(mb / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
        }
        print(String(format: "PERF %@: load median %.3f s (3 runs); encode %.1f MB -> %d tokens, median %.1f MB/s (3 runs)",
                     model, Self.median(loads), mb, count, Self.median(rates)))
        #expect(count > 0)
    }
}
