import CKernels
import Foundation
import GGUF
import TestSupport
import Testing

/// Compares loza's reference kernels with the python `gguf` package (an independent implementation);
/// the fixture is written by scripts/gguf_dequant_fixture.py.
@Suite struct FixtureTests {
    struct Row: Decodable {
        let model, tensor, type: String
        let dims: [Int]
        let offset, row: Int
        let bits: [UInt32]
    }
    struct QCase: Decodable { let type: String; let n, rows: Int; let hex: String }
    struct QFixture: Decodable { let input_bits: [UInt32]; let cases: [QCase] }
    struct Fixture: Decodable { let rows: [Row]; let quantize: QFixture }

    static func load() throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "dequant", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Every fixture row dequantizes to the same float bits (same formula, same float order).
    @Test(.requiresModel(RealModels.qwen, RealModels.smol)) func realTensorRowsMatchPythonGGUF() throws {
        let fixture = try Self.load()
        var files: [String: GGUFFile] = [:]
        var types = Set<String>()
        for r in fixture.rows {
            let f = try files[r.model] ?? RealModelTests.open(String(r.model.dropLast(".gguf".count)))
            files[r.model] = f
            let t = try #require(f.tensor(r.tensor))
            #expect(t.type.name == r.type)
            #expect(t.dims == r.dims)
            #expect(t.offset == r.offset, "\(r.tensor) absolute data offset")
            let got = f.dequantizeRow(t, r.row).map(\.bitPattern)
            let mismatches = zip(got, r.bits).filter { $0 != $1 }.count
            #expect(got.count == r.bits.count)
            #expect(mismatches == 0, "\(r.tensor) row \(r.row) (\(r.type)): \(mismatches) values differ")
            types.insert(r.type)
        }
        #expect(types == ["F32", "Q4_1", "Q4_K", "Q5_0", "Q6_K", "Q8_0"])
    }

    /// ggml-style round-to-nearest quantizers produce the same bytes as gguf-py's.
    @Test func quantizersMatchPythonGGUF() throws {
        let q = try Self.load().quantize
        let x = q.input_bits.map { Float(bitPattern: $0) }
        for c in q.cases {
            let t = try #require(GGMLType.allCases.first { $0.name == c.type })
            let rb = loza_row_bytes(t.kernelType, Int64(c.n))
            var out = [UInt8](repeating: 0, count: rb * c.rows)
            for r in 0..<c.rows {
                x.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBytes { op in
                        loza_quantize_row_ref(t.kernelType, xp.baseAddress! + r * c.n, op.baseAddress! + r * rb, Int64(c.n))
                    }
                }
            }
            let hex = out.map { String(format: "%02x", $0) }.joined()
            #expect(hex == c.hex, "\(c.type) quantization differs from gguf-py")
        }
    }
}

extension FixtureTests {
    struct RandomBlocks: Decodable { let type: String; let n: Int; let hex: String; let bits: [UInt32] }
    struct RandomFixture: Decodable { let random_blocks: [RandomBlocks] }

    /// Random bytes in every supported block layout dequantize to gguf-py's exact bits.
    @Test func randomBlocksOfEveryTypeMatchPythonGGUF() throws {
        let url = try #require(Bundle.module.url(forResource: "dequant", withExtension: "json", subdirectory: "Fixtures"))
        let cases = try JSONDecoder().decode(RandomFixture.self, from: Data(contentsOf: url)).random_blocks
        #expect(Set(cases.map(\.type)) == Set(GGMLType.supported.filter { $0 != .f32 }.map(\.name)))
        for c in cases {
            let t = try #require(GGMLType.allCases.first { $0.name == c.type })
            let bytes = try #require(hexBytes(c.hex))
            #expect(bytes.count == t.rowBytes(c.n))
            var out = [Float](repeating: .nan, count: c.n)
            loza_dequantize_row_ref(t.kernelType, bytes, &out, Int64(c.n))
            let mismatches = zip(out.map(\.bitPattern), c.bits).filter { $0 != $1 }.count
            #expect(mismatches == 0, "\(c.type): \(mismatches) of \(c.n) values differ")
        }
    }

    func hexBytes(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count / 2)
        var it = s.utf8.makeIterator()
        while let hi = it.next() {
            guard let lo = it.next(), let h = UInt8(String(UnicodeScalar(hi)), radix: 16),
                  let l = UInt8(String(UnicodeScalar(lo)), radix: 16) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }
}
