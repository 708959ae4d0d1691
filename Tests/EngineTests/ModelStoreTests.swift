import Engine
import Foundation
import Testing

struct ModelStoreTests {
    @Test func resolvesAliasesAndPaths() throws {
        let dir = NSTemporaryDirectory() + "loza-store-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/tiny.gguf", contents: Data())
        let store = ModelStore(directory: dir)
        #expect(try store.resolve("tiny") == dir + "/tiny.gguf")
        #expect(try store.resolve(dir + "/tiny.gguf") == dir + "/tiny.gguf")
        #expect(store.installed() == ["tiny"])
        #expect(throws: EngineError.modelNotFound(alias: "smollm2-135m-instruct", directory: dir)) {
            try store.resolve("smollm2-135m-instruct")
        }
        #expect(EngineError.modelNotFound(alias: "x", directory: "/d").description
                == "model 'x' not found in /d; run: loza models pull x")
        #expect(throws: EngineError.fileNotFound(path: dir + "/nope.gguf")) { try store.resolve(dir + "/nope.gguf") }
    }

    @Test func directoryFromEnvironment() {
        #expect(ModelStore(environment: ["LOZA_MODELS": "/m"]).directory == "/m")
        #expect(ModelStore(environment: ["HOME": "/h"]).directory == "/h/.cache/loza/models")
    }
}
