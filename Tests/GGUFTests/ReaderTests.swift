import GGUF
import Testing

@Suite struct ReaderTests {
    static let everyValue: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)),
        ("t.u64", .uint64(18_000_000_000_000_000_000)), ("t.i64", .int64(-9_000_000_000_000_000_000)),
        ("t.f32", .float32(1.5e6)), ("t.f64", .float64(-2.25e-300)), ("t.true", .bool(true)), ("t.false", .bool(false)),
        ("t.str", .string("héllo 🙂\nworld")), ("t.empty", .string("")),
        ("t.strs", .array(.string, [.string("a"), .string(""), .string("Ġthe")])),
        ("t.i32s", .array(.int32, [.int32(1), .int32(-2), .int32(3)])),
        ("t.f32s", .array(.float32, [.float32(0.5), .float32(-1)])),
        ("t.u8s", .array(.uint8, [.uint8(1), .uint8(255)])),
        ("t.bools", .array(.bool, [.bool(true), .bool(false)])),
        ("t.none", .array(.uint64, [])),
        ("t.nested", .array(.array, [.array(.int16, [.int16(1), .int16(2)]), .array(.string, [.string("x")])])),
    ]

    @Test(arguments: [UInt32(2), 3], [32, 64])
    func metadataOfEveryTypeRoundTrips(version: UInt32, alignment: Int) throws {
        var w = GGUFWriter(alignment: alignment)
        w.version = version
        for (k, v) in Self.everyValue { w.set(k, v) }
        try w.addTensor(name: "a", dims: [5], type: .f32, floats: [1, 2, 3, 4, 5])
        try w.addTensor(name: "b", dims: [32, 2], type: .q8_0, floats: (0..<64).map { Float($0) })
        let path = tempPath("meta.gguf")
        defer { removeFile(path) }
        try w.write(to: path)
        let f = try GGUFFile(path: path)
        #expect(f.version == version)
        #expect(f.alignment == alignment)
        let expectedKeys = (alignment == 32 ? [] : ["general.alignment"]) + Self.everyValue.map(\.0)
        #expect(f.metadataKeys == expectedKeys)
        for (k, v) in Self.everyValue { #expect(f.metadata[k] == v, "\(k)") }
        #expect(f.architecture == "llama")
        #expect(f.int("t.u64") == nil)  // does not fit in Int
        #expect(f.int("t.i64") == -9_000_000_000_000_000_000)
        #expect(f.int("t.u8") == 200)
        #expect(f.int("t.str") == nil)
        #expect(f.float("t.f32") == 1.5e6)
        #expect(f.float("t.i32") == -2e9)
        #expect(f.bool("t.true") == true)
        #expect(f.bool("t.u8") == nil)
        #expect(f.string("t.str") == "héllo 🙂\nworld")
        #expect(f.string("missing") == nil)
        #expect(f.stringArray("t.strs") == ["a", "", "Ġthe"])
        #expect(f.stringArray("t.i32s") == nil)
        #expect(f.intArray("t.i32s") == [1, -2, 3])
        #expect(f.floatArray("t.f32s") == [0.5, -1])
        #expect(f.intArray("t.none") == [])
        #expect(f.tensors.map(\.name) == ["a", "b"])
        let b = try #require(f.tensor("b"))
        #expect(b.offset % alignment == 0 && b.offset >= f.dataOffset)
        #expect(b.byteCount == 68 && b.rowBytes == 34 && b.rowCount == 2 && b.elementCount == 64)
        #expect(f.dequantizeRow(f.tensor("a")!, 0) == [1, 2, 3, 4, 5])
        #expect(f.tensor("nope") == nil)
    }

    @Test func inMemoryImageParsesLikeTheFile() throws {
        var w = GGUFWriter()
        w.set("general.architecture", "mem")
        try w.addTensor(name: "x", dims: [32, 2], type: .q4_0, floats: (0..<64).map { Float($0) / 8 })
        let f = try GGUFFile(bytes: w.serialize(), name: "tiny")
        #expect(f.architecture == "mem" && f.path == "tiny")
        #expect(f.dequantizeRow(f.tensor("x")!, 1).count == 32)
        #expect { try GGUFFile(bytes: Array(w.serialize().prefix(30)), name: "tiny") } throws: { e in
            (e as? GGUFError)?.description == "tiny: truncated: metadata count 1 at byte 16 needs at least 13 more bytes, but the file ends at byte 30"
        }
    }

    @Test func sha256OfAFile() throws {
        let path = tempPath("hash.bin")
        defer { removeFile(path) }
        try GGUFWriter.writeBytes(Array("abc".utf8), to: path)
        #expect(try GGUFFile.sha256(path: path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        try GGUFWriter.writeBytes([], to: path)
        #expect(try GGUFFile.sha256(path: path) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Larger than one 4 MiB chunk.
        let big = [UInt8](repeating: 0x61, count: 5 << 20)
        try GGUFWriter.writeBytes(big, to: path)
        #expect(try GGUFFile.sha256(path: path) == "a29968fad2e782aa9f2040a35f05adb97ed8979eb1f572c8c8ea78637e275f3c")  // python hashlib
        #expect(throws: GGUFError.self) { try GGUFFile.sha256(path: "/nonexistent/x.gguf") }
    }

    @Test func missingFileAndDirectory() {
        #expect { try GGUFFile(path: "/nonexistent/model.gguf") } throws: { e in
            (e as? GGUFError)?.description == "/nonexistent/model.gguf: cannot open: No such file or directory"
        }
        #expect { try GGUFFile(path: "/tmp") } throws: { e in (e as? GGUFError)?.kind == .io }
    }
}
