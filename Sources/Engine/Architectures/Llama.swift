import GGUF

/// `llama` (Llama 1/2/3, SmolLM, Mistral-style dense models): RMSNorm, RoPE on adjacent pairs (the GGUF
/// converter permutes Q/K rows for it), GQA, SwiGLU, no biases, optional tied output.
enum LlamaArchitecture {
    static let name = "llama"

    static func config(gguf: GGUFFile, path: String) throws(EngineError) -> ModelConfig {
        try ModelConfig.llamaFamily(gguf: gguf, path: path, arch: name, ropeStyle: .adjacentPairs, qkvBias: false)
    }
}
