import AgentCore
import Foundation
import GGUF
import TestSupport
import Testing

/// `loza models add` links a local GGUF of a supported architecture into the model directory (then its
/// alias works with any command and `models list` shows it); anything it cannot run is refused with one line.
@Suite(.serialized) struct ModelsCommandTests {
    @Test(.requiresModel(RealModels.smol)) func addedFileIsListedAndRunsByAlias() throws {
        let source = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        let env: [String: String?] = ["LOZA_MODELS": dir + "/models"]
        let add = try CLI.run(["models", "add", source, "--alias", "my-smol"], in: dir, environment: env)
        #expect(add.code == 0, "\(add.err)")
        #expect(add.out.hasPrefix("my-smol: llama, 30 layers, chat template chatml, 98 MB -> \(dir)/models/my-smol.gguf"), "\(add.out)")
        let list = try CLI.run(["models", "list", "--json"], in: dir, environment: env)
        let models = try #require(try JSONValue.parse(list.out)["models"]?.arrayValue)
        let mine = try #require(models.first { $0["alias"] == "my-smol" })
        #expect(mine["present"] == true && mine["local"] == true)
        #expect(models.filter { $0["local"] == false }.count == 2)
        let again = try CLI.run(["models", "add", source, "--alias", "my-smol"], in: dir, environment: env)
        #expect(again.code == 2 && again.err == "error: \(dir)/models/my-smol.gguf already exists; choose another --alias\n")
        let gen = try CLI.run(["generate", "--model", "my-smol", "--prompt", "Hi", "--max-tokens", "2", "--temperature", "0",
                               "--threads", "2", "--json"], in: dir, environment: env)
        #expect(gen.code == 0, "\(gen.err)")
        #expect(try JSONValue.parse(gen.out)["tokens"]?.arrayValue?.count == 2)
    }

    @Test func refusesWhatItCannotRun() throws {
        let dir = try CLI.tempDirectory()
        let env: [String: String?] = ["LOZA_MODELS": dir + "/models"]
        func add(_ args: [String]) throws -> (Int32, String) {
            let r = try CLI.run(["models", "add"] + args, in: dir, environment: env)
            return (r.code, r.err)
        }
        var mamba = GGUFWriter()
        mamba.set("general.architecture", "mamba")
        try mamba.write(to: dir + "/mamba.gguf")
        #expect(try add([dir + "/mamba.gguf"]) == (2, "error: \(dir)/mamba.gguf: unsupported architecture 'mamba' (supported: llama, qwen2, qwen3)\n"))
        // A qwen3 file the engine loads, but without a tokenizer.
        let tiny = try TinyModel(arch: "qwen3", headDim: 24, matrixType: .f32, tiedOutput: true, seed: 1)
        defer { tiny.remove() }
        let (code, err) = try add([tiny.path, "--alias", "tiny"])
        #expect(code == 2 && err.hasPrefix("error: \(tiny.path): no usable tokenizer: "), "\(err)")
        #expect(try add([dir + "/none.gguf"]) == (2, "error: \(dir)/none.gguf: no such file\n"))
        #expect(try add([dir + "/mamba.gguf", "--alias", "smollm2-135m-instruct"]).1.contains("is the alias of a catalog model"))
        #expect(try add([dir + "/mamba.gguf", "--alias", "x.gguf"]).1.contains("must be letters, digits"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/models/tiny.gguf"))
    }
}
