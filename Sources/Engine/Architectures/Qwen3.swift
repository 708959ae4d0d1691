import GGUF

/// `qwen3` (Qwen3 dense models): the qwen2 block without Q/K/V biases, with an RMSNorm over each head
/// of Q and of K (`attn_q_norm` / `attn_k_norm`, [head_dim], the model's epsilon) after the projections
/// and before RoPE; RoPE on the two halves of each head (NEOX style); the head size is
/// `qwen3.attention.key_length`, which need not be embedding / heads (Qwen3-0.6B: 1024 / 16 heads of 128).
enum Qwen3Architecture {
    static let name = "qwen3"

    static func config(gguf: GGUFFile, path: String) throws(EngineError) -> ModelConfig {
        try ModelConfig.llamaFamily(gguf: gguf, path: path, arch: name, ropeStyle: .halfSplit, qkvBias: false, qkNorm: true)
    }
}
