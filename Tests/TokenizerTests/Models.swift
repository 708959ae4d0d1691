import Foundation
import GGUF
import TestSupport
import Testing
@testable import Tokenizer

/// The tokenizers of the two real models (`RealModels`), loaded once per run. A test that needs one
/// declares it with `.requiresModel(alias)`.
enum TestModels {
    static let qwen = RealModels.qwen
    static let smollm = RealModels.smol

    private static let cache = TokenizerCache()

    /// The model's tokenizer, or the same vocabulary with another pre-tokenizer; loaded once per run.
    static func tokenizer(_ alias: String, pre: String? = nil) throws -> Tokenizer {
        try cache.get(alias + "|" + (pre ?? "")) { try load(alias, pre: pre) }
    }

    static func load(_ alias: String, pre: String? = nil) throws -> Tokenizer {
        let gguf = try GGUFFile(path: RealModels.require(alias))
        guard let pre else { return try Tokenizer(gguf: gguf) }
        // the same vocabulary with another pre-tokenizer, as in the fixture script's GGUF copies
        return try Tokenizer(tokens: try #require(gguf.stringArray("tokenizer.ggml.tokens")),
                             merges: try #require(gguf.stringArray("tokenizer.ggml.merges")),
                             types: try #require(gguf.intArray("tokenizer.ggml.token_type")), pre: pre,
                             bos: gguf.int("tokenizer.ggml.bos_token_id").map(Int32.init),
                             eos: gguf.int("tokenizer.ggml.eos_token_id").map(Int32.init), eot: nil,
                             addBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? false,
                             addEOS: gguf.bool("tokenizer.ggml.add_eos_token") ?? false)
    }
}

final class TokenizerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String: Tokenizer] = [:]

    func get(_ key: String, _ make: () throws -> Tokenizer) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let t = items[key] { return t }
        let t = try make()
        items[key] = t
        return t
    }
}
