import Engine
import Foundation
import TestSupport
import Testing

/// The bytes-per-token figure of `loza bench`, checked against the GGUF file's own tensor table and the
/// attention rule, and the bandwidth probe against a sanity range.
@Suite struct DecodeTrafficTests {
    @Test(.requiresModel(RealModels.smol)) func weightBytesMatchTheTensorTable() throws {
        let m = try TestModels.model("smollm2-135m-instruct")
        let s = Session(model: m, threads: 1, maxLength: 64, initialCapacity: 64)
        // Every tensor of the file is read once per token, except the token embedding (one row) when the
        // output head is separate; SmolLM2 ties them, so the embedding is the output head, read whole.
        let tensors = m.file.tensors
        let tied = !tensors.contains { $0.name == "output.weight" }
        #expect(tied)
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        let c = m.config
        let perKey = 2 * 2 * c.kvHeadCount * c.headDim
        // Position 0 sees one key per layer.
        let expected = total + c.layerCount * perKey
        #expect(s.decodeBytesRead(atPosition: 0) == expected)
        #expect(s.decodeBytesRead(atPosition: 9) == expected + 9 * c.layerCount * perKey)
    }

    @Test(.requiresModel(RealModels.smol)) func sparseLayersStopGrowing() throws {
        let m = try TestModels.model("smollm2-135m-instruct")
        let n = m.config.layerCount
        let plan = AttentionPlan(layers: (0..<n).map { $0 % 2 == 0 ? .full : .sparseDefault })
        let s = Session(model: m, threads: 1, plan: plan, maxLength: 4096, initialCapacity: 64)
        let perKey = 2 * 2 * m.config.kvHeadCount * m.config.headDim
        let fullLayers = (n + 1) / 2
        // Past (S + L) * B = 1024 keys, only the full layers' reads grow (one key each per position);
        // a sparse layer sees the same number of keys at the same offset within a block.
        let a = s.decodeBytesRead(atPosition: 2000), b = s.decodeBytesRead(atPosition: 2000 + 8 * 128)
        #expect(b - a == 8 * 128 * fullLayers * perKey)
        // Below it, every layer grows.
        #expect(s.decodeBytesRead(atPosition: 101) - s.decodeBytesRead(atPosition: 100) == n * perKey)
    }

    @Test func bandwidthProbeIsPlausible() {
        // 64 MiB is still past most L2s; the figure only has to be a real, positive rate.
        let bw = MemoryBandwidth.measure(threads: 1, bytes: 64 << 20, passes: 2)
        #expect(bw > 1e8 && bw < 1e12)
    }
}
