import Foundation
import GGUF
import Testing
@testable import Tokenizer

/// The two real models, found under $LOZA_MODELS (default ~/.cache/loza/models). A test that needs
/// one fails, naming the file, when it is not there.
enum TestModels {
    static let qwen = "qwen2.5-coder-0.5b-instruct.gguf"
    static let smollm = "smollm2-135m-instruct.gguf"

    static func path(_ file: String) -> String {
        let dir = ProcessInfo.processInfo.environment["LOZA_MODELS"]
            ?? (NSHomeDirectory() + "/.cache/loza/models")
        return dir + "/" + file
    }

    private static let cache = TokenizerCache()

    /// The model's tokenizer, or the same vocabulary with another pre-tokenizer; loaded once per run.
    static func tokenizer(_ file: String, pre: String? = nil) throws -> Tokenizer {
        try cache.get(file + "|" + (pre ?? "")) { try load(file, pre: pre) }
    }

    static func load(_ file: String, pre: String? = nil) throws -> Tokenizer {
        let p = path(file)
        try #require(FileManager.default.fileExists(atPath: p),
                     "model \(p) is missing: pull it (see models.txt) or set LOZA_MODELS")
        let gguf = try GGUFFile(path: p)
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
