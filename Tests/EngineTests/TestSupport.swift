import Engine
import Foundation
import TestSupport
import Testing

/// Models shared by the tests (loaded once per process; a Model is immutable). A test using one
/// declares it with `.requiresModel(alias)`.
enum TestModels {
    nonisolated(unsafe) private static var cache: [String: Model] = [:]
    private static let lock = NSLock()

    static func model(_ alias: String) throws -> Model {
        let p = try RealModels.require(alias)
        lock.lock()
        defer { lock.unlock() }
        if let m = cache[alias] { return m }
        let m = try Model(path: p)
        cache[alias] = m
        return m
    }
}

/// Reference fixtures written by scripts/make-engine-fixtures.py (llama.cpp through llama-cpp-python).
struct EngineFixture: Decodable {
    struct TopLogits: Decodable {
        let position: Int?
        let step: Int?
        let ids: [Int32]
        let logits: [Float]
        /// The same logits in float64 from the dequantized weights (prompt positions only).
        let f64: [Float]?
    }

    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let prompt: String
        let prompt_tokens: [Int32]
        let continuation: [Int32]
        let top2_gaps: [Float]
        let prompt_top_logits: [TopLogits]
        let step_top_logits: [TopLogits]
        var testDescription: String { name }
    }

    let model: String
    let reference: String
    /// Largest |llama.cpp - f64| over the fixture's top-10 prompt logits: llama.cpp's own rounding.
    let llamacpp_f64_deviation: Float
    let cases: [Case]

    static func load(_ alias: String) throws -> EngineFixture {
        let url = try #require(Bundle.module.url(forResource: alias, withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(EngineFixture.self, from: Data(contentsOf: url))
    }
}

/// Greedy continuation of `prompt` for `count` tokens (argmax of the logits at every step).
func greedy(_ session: Session, prompt: [Int32], count: Int) throws -> [Int32] {
    session.reset()
    try session.append(prompt)
    var out: [Int32] = []
    while out.count < count {
        let next = Sampler.argmax(UnsafeBufferPointer(session.logits))
        out.append(next)
        if out.count < count { try session.decode(next) }
    }
    return out
}
