import AgentCore
import ArgumentParser
import ChatTemplate
import Engine
import Foundation
import Logging
import Tokenizer

/// `loza generate --model M (--prompt T | --prompt-file F) [--max-tokens N] [--temperature X] [--top-k K]
/// [--top-p P] [--seed S] [--threads N] [--chat] [--json]`
struct GenerateCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a local model, streaming the text.",
        discussion: """
            The prompt is used as-is (special tokens recognized) unless --chat wraps it as a user message. \
            --json prints {"tokens":[...],"text":..,"prompt_tokens":N,"stop":"eos"|"length"|"stop",\
            "timings":{"load_s":..,"prefill_tokens_per_s":..,"decode_tokens_per_s":..}}.
            """)

    @Option(help: "A .gguf file or a model alias (under $LOZA_MODELS, default ~/.cache/loza/models).") var model: String
    @Option(help: "The prompt.") var prompt: String?
    @Option(help: "Read the prompt from this file.") var promptFile: String?
    @Option(help: "Most tokens to generate.") var maxTokens = 256
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.8
    @Option(help: "Keep the K most likely tokens (0 = all).") var topK = 40
    @Option(help: "Nucleus sampling threshold (1 = off).") var topP: Float = 0.95
    @Option(help: "Drop tokens below this fraction of the best one's probability (0 = off).") var minP: Float = 0.05
    @Option(help: "Repetition penalty over the last 64 tokens (1 = off).") var repeatPenalty: Float = 1
    @Option(help: "Seed of the sampler's random generator.") var seed: UInt64 = 0
    @Option(help: "Threads (default: the number of cores).") var threads: Int?
    @Option(name: .customLong("stop"), help: "Stop when this text appears (repeatable).") var stopStrings: [String] = []
    @OptionGroup var attention: AttentionOptions
    @Option(help: "Guess tokens from the context and verify them in one pass (lookup), or not (off); the tokens are the same.")
    var speculation: Speculation = .lookup
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
    @Flag(help: "Print one JSON object instead of streaming text.") var json = false
    @OptionGroup var logging: LogOptions

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must be >= 0") }
        if !(temperature >= 0) { throw ValidationError("--temperature must be >= 0") }
        if topK < 0 { throw ValidationError("--top-k must be >= 0") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if !(minP >= 0 && minP < 1) { throw ValidationError("--min-p must be in [0, 1)") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be in 1...256") }
    }

    func run() async throws {
        let code = await runCLI {
            let text = try EngineCLI.readInput(prompt, promptFile, names: ("--prompt", "--prompt-file"))
            let progress = ProgressLine(json: json)
            let path = try EngineCLI.modelPath(model)
            progress.show("loading \(path)")
            let loadStart = Date()
            let m: Model
            do { m = try Model(path: path) } catch { throw CLIError.input("\(error)") }
            let tokenizer: Tokenizer
            do { tokenizer = try Tokenizer(gguf: m.file) } catch { throw CLIError.input("\(path): \(error)") }
            let choice = try attention.resolve(m)
            let session = Session(model: m, threads: threads ?? ThreadPool.defaultThreadCount, plan: choice.plan)
            let loadSeconds = Date().timeIntervalSince(loadStart)
            progress.clear()

            var rendered = text
            if chat {
                // The model's own template (checked against jinja2 in the ChatTemplate tests).
                let template = ChatTemplate(template: m.file.string("tokenizer.chat_template"))
                if let warning = template.warning { Logger(label: "loza.model").warning("\(warning)") }
                rendered = template.render(messages: [.user(text)], tools: [], addGenerationPrompt: true)
            }
            let ids = tokenizer.encode(rendered, addSpecial: true, parseSpecial: true)
            guard !ids.isEmpty else { throw CLIError.input("the prompt is empty") }
            guard ids.count < session.maxLength else {
                throw CLIError.input("the prompt has \(ids.count) tokens; the model's context holds \(session.maxLength)")
            }
            let params = SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                            repetitionPenalty: repeatPenalty, seed: seed)
            let generator = Generator(session: session, tokenizer: tokenizer)
            let result: GenerationResult
            do {
                result = try generator.generate(
                    prompt: ids, parameters: params, maxTokens: maxTokens,
                    stopStrings: stopStrings, speculation: speculation,
                    progress: { done, total in
                        if total > 1 && done < total { progress.show("prompt \(done)/\(total) tokens") } else { progress.clear() }
                    },
                    onText: { piece in if !json { Console.out(piece) } })
            } catch { throw CLIError.failed("\(error)") }
            if json {
                let t = result.timings
                Console.out(JSONValue.object([
                    JSONMember("tokens", .array(result.tokens.map { .int(Int64($0)) })),
                    JSONMember("text", .string(result.text)),
                    JSONMember("prompt_tokens", .int(Int64(result.promptTokens))),
                    JSONMember("stop", .string(result.stop.rawValue)),
                    JSONMember("timings", .object([
                        JSONMember("load_s", .double(EngineCLI.round3(loadSeconds))),
                        JSONMember("prefill_tokens_per_s", .double(EngineCLI.round3(t.prefillTokensPerSecond))),
                        JSONMember("decode_tokens_per_s", .double(EngineCLI.round3(t.decodeTokensPerSecond))),
                        JSONMember("decode_tokens", .int(Int64(t.decodeTokens))),
                        JSONMember("decode_s", .double(EngineCLI.round3(t.decodeSeconds))),
                    ])),
                    JSONMember("speculation", .object([
                        JSONMember("mode", .string(speculation.rawValue)),
                        JSONMember("steps", .int(Int64(t.guessSteps))),
                        JSONMember("guessed", .int(Int64(t.guessedTokens))),
                        JSONMember("accepted", .int(Int64(t.acceptedGuesses))),
                    ])),
                ]).serialized(.compact) + "\n")
            } else {
                Console.out("\n")
            }
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
