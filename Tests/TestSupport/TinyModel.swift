import CKernels
import Engine
import Foundation
import GGUF

/// A tiny random model of a supported architecture, written as a GGUF file by the tests, plus a naive
/// f32 reference forward pass (plain loops, full attention) to check the engine against.
public struct TinyModel {
    public let arch: String
    public let nEmbd: Int, nLayer: Int, nHead: Int, nHeadKV: Int, nFF: Int, vocab: Int
    /// Head size: embedding / heads unless given (qwen3 files state it as `attention.key_length`).
    public let headDim: Int
    /// Llama 3 style RoPE frequency factors (`rope_freqs.weight`, [head_dim / 2]) when written.
    public let ropeFreqs: [Float]?
    public let ropeBase: Float = 10000
    public let eps: Float = 1e-5
    public let path: String
    /// Every tensor as the f32 values the file really holds (dequantized back), by name.
    public var tensors: [String: [Float]] = [:]

    /// Write the file. `matrixType` is used for the 2-D weights, `embeddingType` for token_embd. `qwen3`
    /// files get Q/K norm weights (far from 1) and `attention.key_length`; `ropeFreqs` adds Llama 3's
    /// `rope_freqs.weight` (random factors in 1 ... 8).
    public init(arch: String, nEmbd: Int = 64, nLayer: Int = 2, nHead: Int = 4, nHeadKV: Int = 2, nFF: Int = 96,
         vocab: Int = 80, headDim: Int? = nil, ropeFreqs: Bool = false, matrixType: GGMLType,
         embeddingType: GGMLType = .f16, tiedOutput: Bool, seed: UInt64) throws {
        self.arch = arch
        self.nEmbd = nEmbd; self.nLayer = nLayer; self.nHead = nHead; self.nHeadKV = nHeadKV
        self.nFF = nFF; self.vocab = vocab
        let headDim = headDim ?? nEmbd / nHead
        self.headDim = headDim
        path = NSTemporaryDirectory() + "loza-tiny-\(arch)-\(matrixType.name)-\(seed)-\(getpid()).gguf"
        var rng = Xoshiro256(seed: seed)
        func randoms(_ n: Int, scale: Float) -> [Float] {
            (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
        }
        var w = GGUFWriter()
        w.set("general.architecture", arch)
        w.set("\(arch).block_count", .uint32(UInt32(nLayer)))
        w.set("\(arch).context_length", .uint32(256))
        w.set("\(arch).embedding_length", .uint32(UInt32(nEmbd)))
        w.set("\(arch).feed_forward_length", .uint32(UInt32(nFF)))
        w.set("\(arch).attention.head_count", .uint32(UInt32(nHead)))
        w.set("\(arch).attention.head_count_kv", .uint32(UInt32(nHeadKV)))
        w.set("\(arch).rope.freq_base", .float32(ropeBase))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(eps))
        if arch == "qwen3" {
            w.set("\(arch).attention.key_length", .uint32(UInt32(headDim)))
            w.set("\(arch).attention.value_length", .uint32(UInt32(headDim)))
        }
        let kvDim = nHeadKV * headDim, qDim = nHead * headDim
        var specs: [(String, [Int], GGMLType, Float)] = [
            ("token_embd.weight", [nEmbd, vocab], embeddingType, 1),
            ("output_norm.weight", [nEmbd], .f32, 0),
        ]
        if !tiedOutput { specs.append(("output.weight", [nEmbd, vocab], matrixType, 0.3)) }
        for l in 0..<nLayer {
            let p = "blk.\(l)."
            specs += [
                (p + "attn_norm.weight", [nEmbd], .f32, 0),
                (p + "attn_q.weight", [nEmbd, qDim], matrixType, 0.3),
                (p + "attn_k.weight", [nEmbd, kvDim], matrixType, 0.3),
                (p + "attn_v.weight", [nEmbd, kvDim], matrixType, 0.3),
                (p + "attn_output.weight", [qDim, nEmbd], matrixType, 0.3),
                (p + "ffn_norm.weight", [nEmbd], .f32, 0),
                (p + "ffn_gate.weight", [nEmbd, nFF], matrixType, 0.3),
                (p + "ffn_up.weight", [nEmbd, nFF], matrixType, 0.3),
                (p + "ffn_down.weight", [nFF, nEmbd], matrixType, 0.3),
            ]
            if arch == "qwen2" {
                specs += [(p + "attn_q.bias", [nEmbd], .f32, 0.5), (p + "attn_k.bias", [kvDim], .f32, 0.5),
                          (p + "attn_v.bias", [kvDim], .f32, 0.5)]
            }
            if arch == "qwen3" {
                specs += [(p + "attn_q_norm.weight", [headDim], .f32, -1), (p + "attn_k_norm.weight", [headDim], .f32, -1)]
            }
        }
        if ropeFreqs { specs.append(("rope_freqs.weight", [headDim / 2], .f32, -2)) }
        for (name, dims, type, scale) in specs {
            let n = dims.reduce(1, *)
            // Norm weights (scale 0) around 1; Q/K norms (-1) in 0.25 ... 2.75; RoPE factors (-2) in 1 ... 8.
            let values = switch scale {
            case 0: randoms(n, scale: 0.2).map { 1 + $0 }
            case -1: randoms(n, scale: 1.25).map { 1.5 + $0 }
            case -2: randoms(n, scale: 3.5).map { 4.5 + $0 }
            default: randoms(n, scale: scale)
            }
            try w.addTensor(name: name, dims: dims, type: type, floats: values)
        }
        try w.write(to: path)
        var freqs: [Float]? = nil
        // Read back what the file holds.
        let file = try GGUFFile(path: path)
        for t in file.tensors {
            var out = [Float](repeating: 0, count: t.elementCount)
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<t.rowCount {
                    loza_dequantize_row_ref(t.type.kernelType, file.row(t, r), dst.baseAddress! + r * t.dims[0], Int64(t.dims[0]))
                }
            }
            tensors[t.name] = out
            if t.name == "rope_freqs.weight" { freqs = out }
        }
        self.ropeFreqs = freqs
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    // MARK: naive reference

    /// y = W x for W stored [rows][cols].
    private func mv(_ name: String, _ x: [Float], rows: Int) -> [Float] {
        let w = tensors[name]!
        let cols = x.count
        return (0..<rows).map { r in
            var s: Float = 0
            for c in 0..<cols { s += w[r * cols + c] * x[c] }
            return s
        }
    }

    private func norm(_ x: [Float], _ name: String) -> [Float] {
        let w = tensors[name]!
        let ms = x.reduce(0) { $0 + $1 * $1 } / Float(x.count)
        let s = 1 / (ms + eps).squareRoot()
        return x.enumerated().map { $0.element * s * w[$0.offset] }
    }

    /// RMSNorm of each head of `x` with the one [head_dim] weight `name`.
    private func headNorm(_ x: [Float], _ name: String) -> [Float] {
        stride(from: 0, to: x.count, by: headDim).flatMap { norm(Array(x[$0..<$0 + headDim]), name) }
    }

    private func rope(_ v: inout [Float], heads: Int, pos: Int) {
        let hd = headDim
        for h in 0..<heads {
            for i in 0..<hd / 2 {
                let theta = Float(pos) * powf(ropeBase, -2 * Float(i) / Float(hd)) / (ropeFreqs?[i] ?? 1)
                let (a, b) = arch != "llama" ? (h * hd + i, h * hd + i + hd / 2) : (h * hd + 2 * i, h * hd + 2 * i + 1)
                let x0 = v[a], x1 = v[b]
                v[a] = x0 * cosf(theta) - x1 * sinf(theta)
                v[b] = x0 * sinf(theta) + x1 * cosf(theta)
            }
        }
    }

    /// Logits after every position of `tokens`. `attention`, when given, sees every softmax row:
    /// (layer, query position, head, probabilities of keys 0...position). `visible`, when given, masks
    /// keys: (layer, KV head, key position, query position) -> whether the query sees the key (a key
    /// it hides gets probability 0).
    public func referenceLogits(_ tokens: [Int32], attention: ((Int, Int, Int, [Float]) -> Void)? = nil,
                                visible: ((Int, Int, Int, Int) -> Bool)? = nil) -> [[Float]] {
        let hd = headDim, kvDim = nHeadKV * hd, qDim = nHead * hd
        var keys = [[[Float]]](repeating: [], count: nLayer), values = keys
        var out: [[Float]] = []
        let emb = tensors["token_embd.weight"]!
        for (pos, tok) in tokens.enumerated() {
            var x = Array(emb[Int(tok) * nEmbd..<(Int(tok) + 1) * nEmbd])
            for l in 0..<nLayer {
                let p = "blk.\(l)."
                let xn = norm(x, p + "attn_norm.weight")
                var q = mv(p + "attn_q.weight", xn, rows: qDim)
                var k = mv(p + "attn_k.weight", xn, rows: kvDim)
                var v = mv(p + "attn_v.weight", xn, rows: kvDim)
                if arch == "qwen2" {
                    for i in 0..<nEmbd { q[i] += tensors[p + "attn_q.bias"]![i] }
                    for i in 0..<kvDim { k[i] += tensors[p + "attn_k.bias"]![i]; v[i] += tensors[p + "attn_v.bias"]![i] }
                }
                if arch == "qwen3" {
                    q = headNorm(q, p + "attn_q_norm.weight")
                    k = headNorm(k, p + "attn_k_norm.weight")
                }
                rope(&q, heads: nHead, pos: pos)
                rope(&k, heads: nHeadKV, pos: pos)
                keys[l].append(k)
                values[l].append(v)
                var att = [Float](repeating: 0, count: qDim)
                for h in 0..<nHead {
                    let kh = h / (nHead / nHeadKV)
                    var scores = (0...pos).map { s -> Float in
                        var d: Float = 0
                        for i in 0..<hd { d += q[h * hd + i] * keys[l][s][kh * hd + i] }
                        return d / Float(hd).squareRoot()
                    }
                    if let visible {
                        for s in 0...pos where !visible(l, kh, s, pos) { scores[s] = -.infinity }
                    }
                    let m = scores.max()!
                    scores = scores.map { expf($0 - m) }
                    let sum = scores.reduce(0, +)
                    attention?(l, pos, h, scores.map { $0 / sum })
                    for s in 0...pos {
                        for i in 0..<hd { att[h * hd + i] += scores[s] / sum * values[l][s][kh * hd + i] }
                    }
                }
                let o = mv(p + "attn_output.weight", att, rows: nEmbd)
                for i in 0..<nEmbd { x[i] += o[i] }
                let xf = norm(x, p + "ffn_norm.weight")
                let g = mv(p + "ffn_gate.weight", xf, rows: nFF)
                let u = mv(p + "ffn_up.weight", xf, rows: nFF)
                let hmid = (0..<nFF).map { g[$0] / (1 + expf(-g[$0])) * u[$0] }
                let dn = mv(p + "ffn_down.weight", hmid, rows: nEmbd)
                for i in 0..<nEmbd { x[i] += dn[i] }
            }
            let xn = norm(x, "output_norm.weight")
            out.append(mv(tensors["output.weight"] != nil ? "output.weight" : "token_embd.weight", xn, rows: vocab))
        }
        return out
    }
}

/// Largest |a - b| relative to the largest |b|.
public func relativeError(_ a: UnsafeBufferPointer<Float>, _ b: [Float]) -> Float {
    var worst: Float = 0, scale: Float = 1e-6
    for i in 0..<b.count {
        worst = max(worst, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return worst / scale
}
