import CKernels
import GGUF

/// A weight matrix of `rows` x `cols` stored row-major in a GGUF quant type (rows are contiguous blocks
/// of `rowBytes`). In ggml order the tensor's dims are [cols, rows]: dims[0] is the contiguous one.
public struct WeightMatrix: @unchecked Sendable {
    public let name: String
    public let type: Int32          // ggml type number (loza_type)
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    public let data: UnsafeRawPointer

    /// Row `r` of the matrix.
    @inline(__always) func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}

/// Weights of one transformer block. Shapes are [rows, cols] of the math (y = W x has rows outputs).
struct LayerWeights: @unchecked Sendable {
    let attnNorm: UnsafePointer<Float>   // [n_embd]
    let wq: WeightMatrix                 // [n_head * head_dim, n_embd]
    let wk: WeightMatrix                 // [n_head_kv * head_dim, n_embd]
    let wv: WeightMatrix                 // [n_head_kv * head_dim, n_embd]
    let bq: UnsafePointer<Float>?        // [n_head * head_dim] (qwen2)
    let bk: UnsafePointer<Float>?        // [n_head_kv * head_dim] (qwen2)
    let bv: UnsafePointer<Float>?        // [n_head_kv * head_dim] (qwen2)
    let qNorm: UnsafePointer<Float>?     // [head_dim], applied to each Q head (qwen3)
    let kNorm: UnsafePointer<Float>?     // [head_dim], applied to each K head (qwen3)
    let wo: WeightMatrix                 // [n_embd, n_head * head_dim]
    let ffnNorm: UnsafePointer<Float>    // [n_embd]
    let wGate: WeightMatrix              // [n_ff, n_embd]
    let wUp: WeightMatrix                // [n_ff, n_embd]
    let wDown: WeightMatrix              // [n_embd, n_ff]
}

/// All weights of a model: quantized matrices point into the memory-mapped GGUF file; the small f32
/// vectors (norms, biases, RoPE frequency factors) are converted once into `vectors`, owned here.
final class ModelWeights: @unchecked Sendable {
    let tokenEmbedding: WeightMatrix     // [vocab, n_embd] (rows are looked up, not multiplied)
    let layers: [LayerWeights]
    let outputNorm: UnsafePointer<Float> // [n_embd]
    let output: WeightMatrix             // [vocab, n_embd] (token_embd when tied)
    let ropeFreqFactors: UnsafePointer<Float>?  // [n_rot / 2] (llama 3 style), nil when absent
    private let vectors: UnsafeMutablePointer<Float>
    private let vectorCount: Int

    static let supportedTypes: Set<Int32> = [0, 1, 30, 2, 3, 6, 7, 8, 12, 13, 14]

    init(gguf: GGUFFile, config c: ModelConfig, path: String) throws(EngineError) {
        // Collect the f32 vectors first so one allocation holds them all.
        var vectorSpecs: [(name: String, count: Int)] = []
        for l in 0..<c.layerCount {
            vectorSpecs.append(("blk.\(l).attn_norm.weight", c.embeddingLength))
            vectorSpecs.append(("blk.\(l).ffn_norm.weight", c.embeddingLength))
            if c.qkvBias {
                vectorSpecs.append(("blk.\(l).attn_q.bias", c.qDim))
                vectorSpecs.append(("blk.\(l).attn_k.bias", c.kvDim))
                vectorSpecs.append(("blk.\(l).attn_v.bias", c.kvDim))
            }
            if c.qkNorm {
                vectorSpecs.append(("blk.\(l).attn_q_norm.weight", c.headDim))
                vectorSpecs.append(("blk.\(l).attn_k_norm.weight", c.headDim))
            }
        }
        vectorSpecs.append(("output_norm.weight", c.embeddingLength))
        let hasFreqs = gguf.tensor("rope_freqs.weight") != nil
        if hasFreqs { vectorSpecs.append(("rope_freqs.weight", c.ropeDimensions / 2)) }

        let total = vectorSpecs.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
        var offsets: [String: Int] = [:]
        var cursor = 0
        do {
            for spec in vectorSpecs {
                guard let t = gguf.tensor(spec.name) else { throw EngineError.missingTensor(path: path, name: spec.name) }
                let dims = t.dims.map { Int($0) }
                guard dims.count == 1, dims[0] == spec.count else {
                    throw EngineError.badTensorShape(path: path, name: spec.name, expected: [spec.count], found: dims)
                }
                let type = Int32(t.type.rawValue)
                guard type == 0 || type == 1 || type == 30 else {
                    throw EngineError.unsupportedTensorType(path: path, name: spec.name, type: Int(type))
                }
                loza_dequantize_row(type, gguf.data(t), storage + cursor, Int64(spec.count))
                offsets[spec.name] = cursor
                cursor += spec.count
            }
        } catch let e as EngineError {
            storage.deallocate()
            throw e
        } catch {
            storage.deallocate()
            throw EngineError.load(path: path, message: "\(error)")
        }
        vectors = storage
        vectorCount = total
        func vec(_ name: String) -> UnsafePointer<Float> { UnsafePointer(storage + offsets[name]!) }

        func matrix(_ name: String, rows: Int, cols: Int) throws(EngineError) -> WeightMatrix {
            guard let t = gguf.tensor(name) else { throw .missingTensor(path: path, name: name) }
            let dims = t.dims.map { Int($0) }
            guard dims.count == 2, dims[0] == cols, dims[1] == rows else {
                throw .badTensorShape(path: path, name: name, expected: [cols, rows], found: dims)
            }
            let type = Int32(t.type.rawValue)
            guard Self.supportedTypes.contains(type), cols % Int(loza_block_elems(type)) == 0 else {
                throw .unsupportedTensorType(path: path, name: name, type: Int(type))
            }
            let rowBytes = Int(loza_row_bytes(type, Int64(cols)))
            return WeightMatrix(name: name, type: type, rows: rows, cols: cols, rowBytes: rowBytes, data: gguf.data(t))
        }

        do {
            tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabSize, cols: c.embeddingLength)
            output = c.tiedOutput ? tokenEmbedding
                : try matrix("output.weight", rows: c.vocabSize, cols: c.embeddingLength)
            var layers: [LayerWeights] = []
            for l in 0..<c.layerCount {
                let p = "blk.\(l)."
                layers.append(LayerWeights(
                    attnNorm: vec(p + "attn_norm.weight"),
                    wq: try matrix(p + "attn_q.weight", rows: c.qDim, cols: c.embeddingLength),
                    wk: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: c.embeddingLength),
                    wv: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: c.embeddingLength),
                    bq: c.qkvBias ? vec(p + "attn_q.bias") : nil,
                    bk: c.qkvBias ? vec(p + "attn_k.bias") : nil,
                    bv: c.qkvBias ? vec(p + "attn_v.bias") : nil,
                    qNorm: c.qkNorm ? vec(p + "attn_q_norm.weight") : nil,
                    kNorm: c.qkNorm ? vec(p + "attn_k_norm.weight") : nil,
                    wo: try matrix(p + "attn_output.weight", rows: c.embeddingLength, cols: c.qDim),
                    ffnNorm: vec(p + "ffn_norm.weight"),
                    wGate: try matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: c.embeddingLength),
                    wUp: try matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: c.embeddingLength),
                    wDown: try matrix(p + "ffn_down.weight", rows: c.embeddingLength, cols: c.feedForwardLength)))
            }
            self.layers = layers
        } catch {
            storage.deallocate()
            throw error
        }
        outputNorm = vec("output_norm.weight")
        ropeFreqFactors = hasFreqs ? vec("rope_freqs.weight") : nil
    }

    deinit { vectors.deallocate() }

    /// Every matrix, for sizing scratch buffers.
    var allMatrices: [WeightMatrix] {
        var all = [tokenEmbedding, output]
        for l in layers { all += [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] }
        return all
    }
}
