import Foundation
import GGUF
import TestSupport
import Testing

/// A tiny valid file whose last byte is tensor data (no trailing padding), and the positions of its
/// fields, so tests can cut or corrupt it precisely.
struct TinyFile {
    var bytes: [UInt8]
    let tensorEntry: Int   // start of the tensor table entry of "w"
    var typeField: Int { tensorEntry + 8 + 1 + 4 + 8 }
    var offsetField: Int { typeField + 4 }
    let arrayEntry: Int    // start of the "t.arr" key

    init() throws {
        var w = GGUFWriter()
        w.set("general.architecture", "tiny")
        w.set("t.arr", .array(.int32, [.int32(1), .int32(2), .int32(3)]))
        try w.addTensor(name: "w", dims: [8], type: .f32, floats: (0..<8).map(Float.init))
        bytes = w.serialize()
        tensorEntry = 24 + 44 + 41
        arrayEntry = 24 + 44
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
        tensorEntry = 0
        arrayEntry = 0
    }

    mutating func putU32(_ v: UInt32, at i: Int) { for k in 0..<4 { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
    mutating func putU64(_ v: UInt64, at i: Int) { for k in 0..<8 { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
}

@Suite struct BadFileTests {
    @Test func theTinyFileIsValid() throws {
        let t = try TinyFile()
        #expect(t.bytes.count == 192)
        #expect(parseError(t.bytes) == nil)
        #expect(t.bytes[t.tensorEntry] == 1 && t.bytes[t.tensorEntry + 8] == UInt8(ascii: "w"))
    }

    @Test func everyTruncationIsAClearError() throws {
        let t = try TinyFile()
        for n in 0..<t.bytes.count {
            let e = try #require(parseError(Array(t.bytes.prefix(n))), "cut at \(n) parsed")
            #expect([.truncated, .stringTooLong, .absurdCount, .dataPastEnd].contains(e.kind), "cut at \(n): \(e)")
            #expect(!e.message.contains("\n"))
        }
        #expect(parseError([])?.message == "truncated: the file is empty (0 bytes)")
        #expect(parseError(Array(t.bytes.prefix(3)))?.message == "truncated: magic at byte 0 needs 4 bytes, but the file ends at byte 3")
        #expect(parseError(Array(t.bytes.prefix(20)))?.message == "truncated: metadata count at byte 16 needs 8 bytes, but the file ends at byte 20")
        #expect(parseError(Array(t.bytes.prefix(95)))?.message == "truncated: array length of key 't.arr' at byte 89 needs 8 bytes, but the file ends at byte 95")
        #expect(parseError(Array(t.bytes.prefix(100)))?.message == "truncated: array length 3 of i32 for key 't.arr' at byte 85 needs at least 12 more bytes, but the file ends at byte 100")
        #expect(parseError(Array(t.bytes.prefix(170)))?.message == "tensor 'w' data [160, 192) runs past the end of the file (170 bytes)")
    }

    @Test func wrongMagic() throws {
        var t = try TinyFile()
        t.bytes[0] = UInt8(ascii: "g")
        t.bytes[1] = UInt8(ascii: "g")
        t.bytes[2] = UInt8(ascii: "j")
        t.bytes[3] = UInt8(ascii: "t")
        #expect(parseError(t.bytes)?.message == "not a GGUF file: bad magic 0x67676a74 (\"ggjt\") at byte 0, expected \"GGUF\"")
        #expect(parseError(Array("{\"json\": true}".utf8))?.kind == .badMagic)
    }

    @Test func versions() throws {
        var t = try TinyFile()
        t.putU32(1, at: 4)
        #expect(parseError(t.bytes)?.message == "GGUF version 1 is not supported (only 2 and 3); re-convert the model with a current llama.cpp")
        t.putU32(4, at: 4)
        #expect(parseError(t.bytes)?.message == "unsupported GGUF version 4 (only 2 and 3)")
        t.putU32(0x0300_0000, at: 4)
        #expect(parseError(t.bytes)?.message == "big-endian GGUF files are not supported")
        t.putU32(2, at: 4)
        #expect(parseError(t.bytes) == nil)
    }

    @Test func tensorOffsets() throws {
        var t = try TinyFile()
        t.putU64(64, at: t.offsetField)
        #expect(parseError(t.bytes)?.message == "tensor 'w' data [224, 256) runs past the end of the file (192 bytes)")
        t.putU64(1 << 62, at: t.offsetField)
        #expect(parseError(t.bytes)?.message == "tensor 'w' data at offset 4611686018427387904 past the data start (byte 160) is beyond the end of the file (192 bytes)")
        t.putU64(4, at: t.offsetField)
        #expect(parseError(t.bytes)?.message == "tensor 'w' data offset 4 is not a multiple of the alignment 32")
    }

    @Test func unknownAndUnsupportedTypes() throws {
        var t = try TinyFile()
        t.putU32(77, at: t.typeField)
        #expect(parseError(t.bytes)?.message == "tensor 'w' (entry at byte 109) has unknown type number 77")
        // A known type loza does not run, named in the error; tools may still list it.
        var w = GGUFWriter()
        try w.addTensor(name: "blk.0.ffn_up.weight", dims: [256], type: .iq2_xxs, data: [UInt8](repeating: 0, count: 66))
        let e = parseError(w.serialize())
        #expect(e?.kind == .unsupportedType)
        #expect(e?.message == "tensor 'blk.0.ffn_up.weight' has type IQ2_XXS, which loza does not support (supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16)")
        #expect(parseError(w.serialize(), allowUnsupported: true) == nil)
        // Unknown metadata value type.
        t = try TinyFile()
        t.putU32(99, at: t.arrayEntry + 8 + 5)
        #expect(parseError(t.bytes)?.message == "metadata key 't.arr' at byte 68 has unknown value type 99")
    }

    @Test func absurdCounts() throws {
        var t = try TinyFile()
        t.putU64(1 << 40, at: 8)
        #expect(parseError(t.bytes)?.message == "absurd tensor count 1099511627776 at byte 8: the 168 bytes left can hold at most 5 tensor table entries")
        t = try TinyFile()
        t.putU64(UInt64.max, at: 16)
        #expect(parseError(t.bytes)?.message == "absurd metadata count 18446744073709551615 at byte 16: the 168 bytes left can hold at most 12 metadata entries")
        t = try TinyFile()
        t.putU64(1 << 33, at: t.arrayEntry + 8 + 5 + 4 + 4)
        #expect(parseError(t.bytes)?.message == "absurd array length 8589934592 of i32 for key 't.arr' at byte 85: the 95 bytes left can hold at most 23 elements")
        t = try TinyFile()
        t.putU64(1 << 50, at: t.arrayEntry)
        #expect(parseError(t.bytes)?.message == "key of metadata entry #1 at byte 68 claims 1125899906842624 bytes, longer than the 116 bytes left in the file")
        // Dimensions whose product overflows, and one dimension of zero.
        var w = GGUFWriter()
        try w.addTensor(name: "big", dims: [32, 1], type: .f32, floats: [Float](repeating: 0, count: 32))
        var b = TinyFile(bytes: w.serialize())
        b.putU64(1 << 40, at: 39)
        #expect(parseError(b.bytes)?.message == "tensor 'big' data [96, 4398046511200) runs past the end of the file (224 bytes)")
        b.putU64(1 << 40, at: 47)
        #expect(parseError(b.bytes)?.message == "tensor 'big' (entry at byte 24): dimensions overflow a 64-bit element count")
        b.putU64(0, at: 47)
        #expect(parseError(b.bytes)?.message == "tensor 'big' (entry at byte 24) has dimension 1 = 0")
        b.putU32(5, at: 35)
        #expect(parseError(b.bytes)?.message == "tensor 'big' (entry at byte 24) has 5 dimensions; 1 to 4 allowed")
    }

    @Test func duplicates() throws {
        var w = GGUFWriter()
        try w.addTensor(name: "a", dims: [1], type: .f32, floats: [1])
        try w.addTensor(name: "b", dims: [1], type: .f32, floats: [2])
        var b = w.serialize()
        let second = 24 + (8 + 1 + 4 + 8 + 4 + 8)
        b[second + 8] = UInt8(ascii: "a")
        #expect(parseError(b)?.message == "duplicate tensor name 'a' (entry at byte 57)")
        var m = GGUFWriter()
        m.set("k1", .uint8(1))
        m.set("k2", .uint8(2))
        var mb = m.serialize()
        mb[24 + 8 + 2 + 4 + 1 + 8 + 1] = UInt8(ascii: "1")
        #expect(parseError(mb)?.message == "duplicate metadata key 'k1' at byte 39")
    }

    @Test func badAlignmentAndBool() throws {
        var w = GGUFWriter()
        w.set("general.alignment", .uint32(24))
        #expect(parseError(w.serialize())?.message == "general.alignment is 24, not a power of two")
        var b = GGUFWriter()
        b.set("flag", .bool(true))
        var bytes = b.serialize()
        bytes[40] = 7
        #expect(parseError(bytes)?.message == "metadata key 'flag' at byte 40: bool value 7 is neither 0 nor 1")
    }

    @Test func deeplyNestedArraysAreRefused() {
        var v = GGUFValue.array(.uint8, [])
        for _ in 0..<20 { v = .array(.array, [v]) }
        var w = GGUFWriter()
        w.set("deep", v)
        #expect(parseError(w.serialize())?.message.hasSuffix("arrays nested deeper than 8") == true)
    }

    /// Random corruption never crashes or reads out of bounds: each mutant parses or fails cleanly,
    /// and when it parses, every tensor row can be dequantized.
    @Test func randomByteFlipsNeverCrash() throws {
        var w = GGUFWriter()
        w.set("general.architecture", "fuzz")
        w.set("tokens", strings: ["a", "bb", "ccc", "<|im_end|>"])
        w.set("scores", .array(.float32, [.float32(1), .float32(2)]))
        try w.addTensor(name: "q", dims: [256, 2], type: .q4_K, floats: (0..<512).map { Float($0 % 17) - 8 })
        try w.addTensor(name: "e", dims: [32], type: .q8_0, floats: (0..<32).map(Float.init))
        let good = w.serialize()
        var rng = SplitMix64(seed: 42)
        var parsed = 0
        // LOZA_FUZZ_ITERATIONS raises the count for a longer local run (e.g. under --sanitize=address).
        let iterations = ProcessInfo.processInfo.environment["LOZA_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 1500
        for _ in 0..<iterations {
            var b = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<b.count, using: &rng)
                b[i] = Int.random(in: 0..<3, using: &rng) == 0 ? 0xFF : UInt8.random(in: 0...255, using: &rng)
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng))) }
            guard let f = try? GGUFFile(bytes: b) else { continue }
            parsed += 1
            for t in f.tensors {
                for r in 0..<t.rowCount { _ = f.dequantizeRow(t, r) }
            }
        }
        #expect(parsed > iterations / 15)  // flips in tensor data leave valid files
    }
}
