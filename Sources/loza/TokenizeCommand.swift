import AgentCore
import ArgumentParser
import Engine
import GGUF
import Tokenizer

/// `loza tokenize --model M (--text T | --text-file F) [--json]`
struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text (special tokens written in the text are recognized; BOS only if the model asks for it).")

    @Option(help: "A .gguf file or a model alias (under $LOZA_MODELS, default ~/.cache/loza/models).") var model: String
    @Option(help: "The text to tokenize.") var text: String?
    @Option(help: "Read the text from this file.") var textFile: String?
    @Flag(help: "Print {\"tokens\":[...]}.") var json = false

    func run() async throws {
        let code = await runCLI {
            let input = try EngineCLI.readInput(text, textFile, names: ("--text", "--text-file"))
            let path = try EngineCLI.modelPath(model)
            let gguf: GGUFFile
            do { gguf = try GGUFFile(path: path) } catch { throw CLIError.input("\(error)") }
            let tokenizer: Tokenizer
            do { tokenizer = try Tokenizer(gguf: gguf) } catch { throw CLIError.input("\(path): \(error)") }
            let ids = tokenizer.encode(input, addSpecial: true, parseSpecial: true)
            if json {
                Console.out(JSONValue.object([JSONMember("tokens", .array(ids.map { .int(Int64($0)) }))]).serialized(.compact) + "\n")
            } else {
                Console.out(ids.map(String.init).joined(separator: " ") + "\n")
            }
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
