import GGUF

/// How RoPE pairs the dimensions of a head.
public enum RopeStyle: Sendable, Equatable {
    /// ggml "NORM": rotates adjacent pairs (x[2i], x[2i+1]). GGUF llama files use it: the converter
    /// permutes the rows of Q and K so that adjacent pairs match the original half-split rotation.
    case adjacentPairs
    /// ggml "NEOX": rotates (x[i], x[i + n_rot/2]). Used by qwen2 (no permutation at conversion).
    case halfSplit
}

/// Hyper-parameters of a decoder-only transformer, read from GGUF metadata (`<arch>.*` keys).
public struct ModelConfig: Sendable, Equatable {
    public static let supportedArchitectures = ["llama", "qwen2", "qwen3"]

    public var architecture: String
    public var embeddingLength: Int      // n_embd
    public var layerCount: Int           // n_layer
    public var headCount: Int            // n_head
    public var kvHeadCount: Int          // n_head_kv (GQA: n_head / n_head_kv query heads share a KV head)
    public var headDim: Int              // head_dim
    public var feedForwardLength: Int    // n_ff
    public var ropeDimensions: Int       // n_rot (<= head_dim; the rest of each head is not rotated)
    public var ropeBase: Float           // rope.freq_base
    public var ropeFreqScale: Float      // 1 / rope.scaling.factor for linear scaling, else 1
    public var ropeStyle: RopeStyle
    public var rmsEpsilon: Float
    public var contextLength: Int
    public var vocabSize: Int
    public var tiedOutput: Bool          // no output.weight: the head reuses token_embd
    public var qkvBias: Bool             // attn_q/k/v.bias present (qwen2)
    public var qkNorm: Bool              // attn_q_norm / attn_k_norm: RMSNorm of each Q and K head before RoPE (qwen3)

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

    public init(architecture: String, embeddingLength: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
                headDim: Int, feedForwardLength: Int, ropeDimensions: Int, ropeBase: Float,
                ropeFreqScale: Float = 1, ropeStyle: RopeStyle, rmsEpsilon: Float, contextLength: Int,
                vocabSize: Int, tiedOutput: Bool, qkvBias: Bool, qkNorm: Bool = false) {
        self.architecture = architecture
        self.embeddingLength = embeddingLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.feedForwardLength = feedForwardLength
        self.ropeDimensions = ropeDimensions
        self.ropeBase = ropeBase
        self.ropeFreqScale = ropeFreqScale
        self.ropeStyle = ropeStyle
        self.rmsEpsilon = rmsEpsilon
        self.contextLength = contextLength
        self.vocabSize = vocabSize
        self.tiedOutput = tiedOutput
        self.qkvBias = qkvBias
        self.qkNorm = qkNorm
    }

    /// Read the configuration of a supported architecture; refuse anything else.
    public init(gguf: GGUFFile, path: String) throws(EngineError) {
        guard let arch = gguf.string("general.architecture") else {
            throw .missingMetadata(path: path, key: "general.architecture")
        }
        switch arch {
        case LlamaArchitecture.name: self = try LlamaArchitecture.config(gguf: gguf, path: path)
        case Qwen2Architecture.name: self = try Qwen2Architecture.config(gguf: gguf, path: path)
        case Qwen3Architecture.name: self = try Qwen3Architecture.config(gguf: gguf, path: path)
        default: throw .unsupportedArchitecture(path: path, architecture: arch)
        }
    }

    /// The keys shared by the llama family (`<arch>.block_count` ...), with per-architecture RoPE style,
    /// bias and Q/K norm; the head size is `attention.key_length` when present (qwen3: not embedding /
    /// heads), else embedding / heads. Checks the values for sanity so a corrupt file fails here, not in
    /// the forward pass.
    static func llamaFamily(gguf: GGUFFile, path: String, arch: String, ropeStyle: RopeStyle,
                            qkvBias: Bool, qkNorm: Bool = false) throws(EngineError) -> ModelConfig {
        func int(_ key: String) throws(EngineError) -> Int {
            guard let v = gguf.int(arch + "." + key) else { throw .missingMetadata(path: path, key: arch + "." + key) }
            guard v > 0, v < 1 << 24 else {
                throw .badMetadata(path: path, key: arch + "." + key, message: "value \(v) out of range")
            }
            return v
        }
        let nEmbd = try int("embedding_length")
        let nHead = try int("attention.head_count")
        let nLayer = try int("block_count")
        let nFF = try int("feed_forward_length")
        let nHeadKV = gguf.int(arch + ".attention.head_count_kv") ?? nHead
        let headDim = gguf.int(arch + ".attention.key_length") ?? (nEmbd / nHead)
        guard nHeadKV > 0, nHead % nHeadKV == 0 else {
            throw .badMetadata(path: path, key: arch + ".attention.head_count_kv",
                               message: "\(nHeadKV) does not divide head_count \(nHead)")
        }
        guard headDim > 0, headDim % 2 == 0 else {
            throw .badMetadata(path: path, key: arch + ".attention.key_length", message: "head dim \(headDim) must be even")
        }
        if let valueDim = gguf.int(arch + ".attention.value_length"), valueDim != headDim {
            throw .badMetadata(path: path, key: arch + ".attention.value_length",
                               message: "\(valueDim) differs from key_length \(headDim) (not supported)")
        }
        let nRot = gguf.int(arch + ".rope.dimension_count") ?? headDim
        guard nRot > 0, nRot <= headDim, nRot % 2 == 0 else {
            throw .badMetadata(path: path, key: arch + ".rope.dimension_count", message: "\(nRot) for head dim \(headDim)")
        }
        let eps = gguf.float(arch + ".attention.layer_norm_rms_epsilon") ?? 1e-5
        let base = gguf.float(arch + ".rope.freq_base") ?? 10000
        var freqScale: Float = 1
        if let kind = gguf.string(arch + ".rope.scaling.type"), kind != "none" {
            guard kind == "linear" else {
                throw .badMetadata(path: path, key: arch + ".rope.scaling.type", message: "'\(kind)' is not supported")
            }
            if let factor = gguf.float(arch + ".rope.scaling.factor"), factor > 0 { freqScale = 1 / factor }
        }
        let ctx = gguf.int(arch + ".context_length") ?? 2048
        guard let embd = gguf.tensor("token_embd.weight") else { throw .missingTensor(path: path, name: "token_embd.weight") }
        guard embd.dims.count == 2, embd.dims[0] == nEmbd else {
            throw .badTensorShape(path: path, name: "token_embd.weight", expected: [nEmbd, -1], found: embd.dims.map { Int($0) })
        }
        let vocab = Int(embd.dims[1])
        return ModelConfig(architecture: arch, embeddingLength: nEmbd, layerCount: nLayer, headCount: nHead,
                           kvHeadCount: nHeadKV, headDim: headDim, feedForwardLength: nFF, ropeDimensions: nRot,
                           ropeBase: Float(base), ropeFreqScale: freqScale, ropeStyle: ropeStyle,
                           rmsEpsilon: Float(eps), contextLength: ctx, vocabSize: vocab,
                           tiedOutput: gguf.tensor("output.weight") == nil,
                           qkvBias: qkvBias, qkNorm: qkNorm)
    }
}
