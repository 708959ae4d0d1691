import GGUF

/// `qwen2` (Qwen2, Qwen2.5, Qwen2.5-Coder): the llama block plus biases on Q, K and V, RoPE on the
/// two halves of each head (NEOX style), usually a separate output head.
enum Qwen2Architecture {
    static let name = "qwen2"

    static func config(gguf: GGUFFile, path: String) throws(EngineError) -> ModelConfig {
        try ModelConfig.llamaFamily(gguf: gguf, path: path, arch: name, ropeStyle: .halfSplit, qkvBias: true)
    }
}
