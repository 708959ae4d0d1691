import AgentCore
import ArgumentParser
import Engine
import Foundation

/// `loza bench --model M [--threads N] [--prompt-tokens N] [--gen-tokens N] [--repeats N] [--json]`
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prompt processing and decode speed (tokens per second, median over repeats).")

    @Option(help: "A .gguf file or a model alias.") var model: String
    @Option(help: "Threads (default: the number of cores).") var threads: Int?
    @Option(help: "Prompt tokens processed from an empty cache.") var promptTokens = 512
    @Option(help: "Tokens decoded one at a time after the prompt.") var genTokens = 128
    @Option(help: "Timed runs.") var repeats = 3
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if promptTokens < 0 || genTokens < 0 { throw ValidationError("token counts must be >= 0") }
        if repeats < 1 { throw ValidationError("--repeats must be >= 1") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be in 1...256") }
    }

    func run() async throws {
        let code = await runCLI {
            let progress = ProgressLine(json: json)
            let path = try EngineCLI.modelPath(model)
            progress.show("loading \(path)")
            let m: Model
            do { m = try Model(path: path) } catch { throw CLIError.failed("\(error)") }
            let n = threads ?? ThreadPool.defaultThreadCount
            let session = Session(model: m, threads: n, maxLength: promptTokens + genTokens + 16)
            let r: BenchmarkResult
            do {
                r = try Benchmark.run(session: session, promptTokens: promptTokens, genTokens: genTokens,
                                      repeats: repeats, onRun: { i in progress.show("run \(i + 1)/\(repeats)") })
            } catch { throw CLIError.failed("\(error)") }
            progress.clear()
            let pp = BenchmarkResult.median(r.prefillTokensPerSecond)
            let tg = BenchmarkResult.median(r.decodeTokensPerSecond)
            if json {
                Console.out(JSONValue.object([
                    JSONMember("model", .string(path)),
                    JSONMember("threads", .int(Int64(n))),
                    JSONMember("prompt_tokens", .int(Int64(promptTokens))),
                    JSONMember("gen_tokens", .int(Int64(genTokens))),
                    JSONMember("prefill_tokens_per_s", .double(EngineCLI.round3(pp))),
                    JSONMember("decode_tokens_per_s", .double(EngineCLI.round3(tg))),
                    JSONMember("prefill_runs", .array(r.prefillTokensPerSecond.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("decode_runs", .array(r.decodeTokensPerSecond.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("prefill_cpu_s", .array(r.prefillCPUSeconds.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("decode_cpu_s", .array(r.decodeCPUSeconds.map { .double(EngineCLI.round3($0)) })),
                ]).serialized(.compact) + "\n")
            } else {
                let name = (path as NSString).lastPathComponent
                Console.out("\(name)  threads \(n)\n")
                Console.out(String(format: "  prompt %d tokens: %.1f tok/s (runs: %@)\n", promptTokens, pp,
                                   r.prefillTokensPerSecond.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
                Console.out(String(format: "  decode %d tokens: %.1f tok/s (runs: %@)\n", genTokens, tg,
                                   r.decodeTokensPerSecond.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
            }
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
