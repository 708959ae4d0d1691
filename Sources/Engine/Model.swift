import GGUF

/// A loaded model: configuration + weights, backed by the memory-mapped GGUF file (kept alive here).
/// Immutable and shareable; per-timeline state lives in `Session`.
public final class Model: @unchecked Sendable {
    public let path: String
    public let config: ModelConfig
    public let file: GGUFFile
    let weights: ModelWeights

    public convenience init(path: String) throws(EngineError) {
        let file: GGUFFile
        do {
            file = try GGUFFile(path: path)
        } catch {
            throw .load(path: path, message: error.message)
        }
        try self.init(file: file, path: path)
    }

    public init(file: GGUFFile, path: String) throws(EngineError) {
        self.path = path
        self.file = file
        config = try ModelConfig(gguf: file, path: path)
        weights = try ModelWeights(gguf: file, config: config, path: path)
    }
}
