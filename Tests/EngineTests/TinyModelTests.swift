import Engine
import Foundation
import GGUF
import TestSupport
import Testing

/// The forward pass of every architecture on tiny GGUF files written here, against a naive f32
/// reference (TinyModel.referenceLogits): decode path (quantized activations) and prefill path (quantized
/// GEMM, or SGEMM for float weights), over several weight types.
struct TinyModelTests {
    struct Setup: Sendable, CustomTestStringConvertible {
        let arch: String
        let type: GGMLType
        let tied: Bool
        var headDim: Int? = nil
        var ropeFreqs = false
        var testDescription: String {
            "\(arch) \(type.name)\(tied ? " tied" : "")\(headDim.map { " head \($0)" } ?? "")\(ropeFreqs ? " rope_freqs" : "")"
        }
    }

    static let setups: [Setup] = [
        Setup(arch: "llama", type: .q4_1, tied: true),
        Setup(arch: "llama", type: .q8_0, tied: false),
        Setup(arch: "llama", type: .f32, tied: false),
        Setup(arch: "qwen2", type: .q5_0, tied: false),
        Setup(arch: "qwen2", type: .f16, tied: true),
        Setup(arch: "qwen2", type: .q4_0, tied: false),
        // qwen3: Q/K norms, head size (24) not embedding / heads (16), no biases.
        Setup(arch: "qwen3", type: .f32, tied: false, headDim: 24),
        Setup(arch: "qwen3", type: .q8_0, tied: true, headDim: 24),
        // Llama 3 RoPE frequency factors.
        Setup(arch: "llama", type: .f16, tied: false, ropeFreqs: true),
        Setup(arch: "llama", type: .q8_0, tied: true, ropeFreqs: true),
    ]

    /// Tolerance on logits relative to the largest one: activations are quantized to 8 bits for the
    /// decode products (measured up to 0.045 on these random models) and K/V are kept in f16.
    static let tolerance: Float = 0.06
    /// Prefill of F32/F16 weights multiplies in f32 (only K/V are rounded to f16); quantized weights go
    /// through the quantized GEMM with 8-bit activations like decode (measured up to 0.03 here), so
    /// they get the decode tolerance.
    static let prefillTolerance: Float = 0.01

    @Test(arguments: setups)
    func forwardMatchesReference(setup: Setup) throws {
        let tiny = try TinyModel(arch: setup.arch, headDim: setup.headDim, ropeFreqs: setup.ropeFreqs,
                                 matrixType: setup.type, tiedOutput: setup.tied, seed: 7)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        #expect(model.config.architecture == setup.arch)
        #expect(model.config.tiedOutput == setup.tied)
        let tokens: [Int32] = [3, 17, 42, 5, 77, 0, 63, 21, 9, 50, 11, 2]
        let ref = tiny.referenceLogits(tokens)

        // Decode path, one token at a time.
        let session = Session(model: model, threads: 2)
        for (i, t) in tokens.enumerated() {
            try session.append([t])
            let err = relativeError(UnsafeBufferPointer(session.logits), ref[i])
            #expect(err < Self.tolerance, "decode position \(i): relative error \(err)")
        }
        // Prefill path: batches of 5 (so attention crosses batch boundaries), logits of the last token.
        let batched = Session(model: model, threads: 2, batchSize: 5)
        try batched.append(tokens)
        let err = relativeError(UnsafeBufferPointer(batched.logits), ref.last!)
        let quantized = setup.type != .f32 && setup.type != .f16
        #expect(err < (quantized ? Self.tolerance : Self.prefillTolerance), "prefill: relative error \(err)")
    }

    @Test func kQuantsRunThrough() throws {
        // K-quants need rows of 256.
        for type: GGMLType in [.q4_K, .q5_K, .q6_K] {
            let tiny = try TinyModel(arch: "qwen2", nEmbd: 256, nLayer: 1, nHead: 4, nHeadKV: 2, nFF: 256,
                                     vocab: 40, matrixType: type, tiedOutput: false, seed: 3)
            defer { tiny.remove() }
            let model = try Model(path: tiny.path)
            let tokens: [Int32] = [1, 2, 3, 4, 5, 6]
            let ref = tiny.referenceLogits(tokens)
            let session = Session(model: model, threads: 2)
            try session.append(tokens)
            let err = relativeError(UnsafeBufferPointer(session.logits), ref.last!)
            #expect(err < Self.tolerance, "\(type.name): relative error \(err)")
        }
    }

    @Test func refusesUnsupportedArchitecture() throws {
        var w = GGUFWriter()
        w.set("general.architecture", "mamba")
        let path = NSTemporaryDirectory() + "loza-mamba-\(getpid()).gguf"
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: EngineError.unsupportedArchitecture(path: path, architecture: "mamba")) {
            _ = try Model(path: path)
        }
        let message = EngineError.unsupportedArchitecture(path: path, architecture: "mamba").description
        #expect(message == "\(path): unsupported architecture 'mamba' (supported: llama, qwen2, qwen3)")
    }

    @Test func refusesMissingTensor() throws {
        let tiny = try TinyModel(arch: "llama", matrixType: .q8_0, tiedOutput: true, seed: 1)
        defer { tiny.remove() }
        // Rewrite without blk.1.ffn_up.weight.
        let file = try GGUFFile(path: tiny.path)
        var w = GGUFWriter()
        for k in file.metadataKeys { w.set(k, file.metadata[k]!) }
        for t in file.tensors where t.name != "blk.1.ffn_up.weight" {
            let bytes = Array(UnsafeRawBufferPointer(start: file.data(t), count: t.byteCount))
            try w.addTensor(name: t.name, dims: t.dims, type: t.type, data: bytes)
        }
        let path = tiny.path + ".cut.gguf"
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: EngineError.missingTensor(path: path, name: "blk.1.ffn_up.weight")) {
            _ = try Model(path: path)
        }
    }

    @Test func bitIdenticalRunToRun() throws {
        let tiny = try TinyModel(arch: "qwen2", matrixType: .q5_0, tiedOutput: false, seed: 11)
        defer { tiny.remove() }
        let model = try Model(path: tiny.path)
        let tokens: [Int32] = [4, 8, 15, 16, 23, 42, 1, 2, 3]
        for threads in [1, 2, 3] {
            var runs: [[Float]] = []
            for _ in 0..<2 {
                let s = Session(model: model, threads: threads, batchSize: 4)
                try s.append(Array(tokens[..<6]))
                for t in tokens[6...] { try s.decode(t) }
                runs.append(Array(s.logits))
            }
            #expect(runs[0] == runs[1], "\(threads) threads: two runs differ")
        }
    }
}
