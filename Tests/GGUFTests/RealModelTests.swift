import CKernels
import Foundation
import GGUF
import TestSupport
import Testing

/// The two real models (run in release: `swift test -c release -Xswiftc -enable-testing --filter GGUFTests`).
/// Skipped without the models, except under CI (which pulls them first), where a missing one fails.
@Suite(.serialized) struct RealModelTests {
    static let qwen = RealModels.qwen
    static let smollm = RealModels.smol

    static func open(_ alias: String) throws -> GGUFFile {
        try GGUFFile(path: RealModels.require(alias))
    }

    @Test(.requiresModel(RealModels.qwen)) func qwenLoads() throws {
        let start = Date()
        let f = try Self.open(Self.qwen)
        let tokens = try #require(f.stringArray("tokenizer.ggml.tokens"))
        let merges = try #require(f.stringArray("tokenizer.ggml.merges"))
        let elapsed = Date().timeIntervalSince(start)
        print("qwen: open + tokens + merges in \(String(format: "%.3f", elapsed)) s")
        #expect(f.version == 3)
        #expect(f.architecture == "qwen2")
        #expect(f.int("qwen2.block_count") == 24)
        #expect(f.int("qwen2.embedding_length") == 896)
        #expect(f.int("qwen2.attention.head_count") == 14)
        #expect(f.int("qwen2.attention.head_count_kv") == 2)
        #expect(f.float("qwen2.rope.freq_base") == 1_000_000)
        #expect(f.string("tokenizer.ggml.pre") == "qwen2")
        #expect(tokens.count == 151936)
        #expect(merges.count == 151387)
        #expect(f.intArray("tokenizer.ggml.token_type")?.count == 151936)
        #expect(f.string("tokenizer.chat_template")?.contains("<tool_call>") == true)
        #expect(f.metadataKeys.count == 26 && f.metadataKeys.first == "general.architecture")
        #expect(f.tensors.count == 291)
        var counts: [GGMLType: Int] = [:]
        for t in f.tensors { counts[t.type, default: 0] += 1 }
        #expect(counts == [.q5_0: 133, .f32: 121, .q8_0: 13, .q6_K: 12, .q4_K: 12])
        let out = try #require(f.tensor("output.weight"))
        #expect(out.type == .q8_0 && out.dims == [896, 151936] && out.rowCount == 151936 && out.rowBytes == 952)
        #expect(f.tensor("blk.0.ffn_down.weight")?.type == .q6_K)
        #expect(f.tensor("blk.0.ffn_down.weight")?.dims == [4864, 896])
        #expect(f.tensor("blk.23.attn_v.bias")?.dims == [128])
        try Self.everyTypeDequantizesFinite(f)
    }

    @Test(.requiresModel(RealModels.smol)) func smollmLoads() throws {
        let f = try Self.open(Self.smollm)
        #expect(f.architecture == "llama")
        #expect(f.int("llama.block_count") == 30)
        #expect(f.int("llama.attention.head_count") == 9)
        #expect(f.int("llama.attention.head_count_kv") == 3)
        #expect(f.string("tokenizer.ggml.pre") == "smollm")
        #expect(f.stringArray("tokenizer.ggml.tokens")?.count == 49152)
        #expect(f.tensors.count == 272)
        var counts: [GGMLType: Int] = [:]
        for t in f.tensors { counts[t.type, default: 0] += 1 }
        #expect(counts == [.q4_1: 210, .f32: 61, .q8_0: 1])
        #expect(f.tensor("token_embd.weight")?.dims == [576, 49152])
        #expect(f.tensor("output.weight") == nil)  // tied embeddings
        #expect(f.tensor("blk.0.ffn_gate.weight")?.dims == [576, 1536])
        try Self.everyTypeDequantizesFinite(f)
    }

    /// One row (first, middle, last) of every tensor: finite, not all zero; and the integer dot
    /// of a weight row with a test vector agrees with the f32 reference.
    static func everyTypeDequantizesFinite(_ f: GGUFFile) throws {
        var rng = SplitMix64(seed: 3)
        for t in f.tensors {
            for r in Set([0, t.rowCount / 2, t.rowCount - 1]) {
                let row = f.dequantizeRow(t, r)
                #expect(row.allSatisfy { $0.isFinite }, "\(t.name) row \(r)")
                #expect(row.contains { $0 != 0 }, "\(t.name) row \(r) all zero")
                guard t.dims.count == 2 else { continue }
                let n = t.dims[0]
                let x = (0..<n).map { _ in rng.gaussian() }
                var act = [UInt8](repeating: 0, count: loza_row_bytes(loza_vec_dot_type(t.type.kernelType), Int64(n)))
                loza_quantize_act_ref(t.type.kernelType, x, &act, Int64(n))
                let dot = loza_vec_dot_ref(t.type.kernelType, f.row(t, r), act, Int64(n))
                let ref = loza_vec_dot_f32_ref(t.type.kernelType, f.row(t, r), x, Int64(n))
                let norm = (row.reduce(0.0) { $0 + Double($1 * $1) } * x.reduce(0.0) { $0 + Double($1 * $1) }).squareRoot()
                #expect(abs(Double(dot - ref)) <= 0.01 * norm, "\(t.name) row \(r): \(dot) vs \(ref)")
            }
        }
    }
}
