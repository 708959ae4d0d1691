import AgentCore
import ArgumentParser
import Engine
import Foundation
import LoZACalibration

/// `loza bench --model M [--threads N] [--prompt-tokens N] [--gen-tokens N] [--repeats N] [--json]`
/// `loza bench --model M --depths 1024,4096,... [--attention full|loza] [--plan P] [--json]`
struct BenchCommand: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prompt processing and decode speed (tokens per second, median over repeats).")

    @Option(help: "A .gguf file or a model alias.") var model: String
    @Option(help: "Threads (default: the number of cores).") var threads: Int?
    @Option(help: "Prompt tokens processed from an empty cache.") var promptTokens = 512
    @Option(help: "Tokens decoded one at a time after the prompt.") var genTokens = 128
    @Option(help: "Timed runs.") var repeats = 3
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var logging: LogOptions
    @OptionGroup var attention: AttentionOptions
    @Option(help: "Context depths (comma-separated): prefill time, decode ms/token after a prompt of each depth, KV bytes.")
    var depths: String?
    @Flag(help: "With --depths and LoZA attention: also measure full attention in the same process, decode runs alternating between the two (rows for both, and the LoZA / full ratio).")
    var compareFull = false
    @Option(help: "Decode with lookup guesses verified in multi-row passes (lookup) or one token per pass (off, the default: the engine's raw decode speed, as llama-bench measures it). The greedy tokens are the same.")
    var speculation: Speculation = .off

    func parsedDepths() throws -> [Int]? {
        guard let depths else { return nil }
        let ds = depths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ds.isEmpty, ds.allSatisfy({ ($0 ?? 0) >= 2 }) else {
            throw CLIError.input("--depths: comma-separated token counts >= 2, got '\(depths)'")
        }
        return ds.map { $0! }
    }

    func validate() throws {
        if promptTokens < 0 || genTokens < 0 { throw ValidationError("token counts must be >= 0") }
        if repeats < 1 { throw ValidationError("--repeats must be >= 1") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be in 1...256") }
        if compareFull && depths == nil { throw ValidationError("--compare-full needs --depths") }
        if speculation == .lookup && depths != nil { throw ValidationError("--speculation lookup measures the plain decode loop; it does not apply to --depths") }
    }

    func run() async throws {
        let code = await runCLI {
            let progress = ProgressLine(json: json)
            let path = try EngineCLI.modelPath(model)
            progress.show("loading \(path)")
            let m: Model
            do { m = try Model(path: path) } catch { throw CLIError.failed("\(error)") }
            let n = threads ?? ThreadPool.defaultThreadCount
            let choice = try attention.resolve(m)
            if let ds = try parsedDepths() {
                return try runDepths(m, path: path, threads: n, choice: choice, depths: ds, progress: progress)
            }
            let session = Session(model: m, threads: n, plan: choice.plan, maxLength: promptTokens + genTokens + 16)
            let r: BenchmarkResult
            do {
                r = try Benchmark.run(session: session, promptTokens: promptTokens, genTokens: genTokens,
                                      repeats: repeats, speculation: speculation, onRun: { i in progress.show("run \(i + 1)/\(repeats)") })
            } catch { throw CLIError.failed("\(error)") }
            progress.show("measuring memory read bandwidth")
            let bandwidth = MemoryBandwidth.measure(pool: session.pool)
            progress.clear()
            let pp = BenchmarkResult.median(r.prefillTokensPerSecond)
            let tg = BenchmarkResult.median(r.decodeTokensPerSecond)
            let bytesPerToken = session.meanDecodeBytesRead(from: max(promptTokens, 1), count: genTokens)
            let fraction = tg * bytesPerToken / bandwidth
            if json {
                Console.out(JSONValue.object([
                    JSONMember("model", .string(path)),
                    JSONMember("threads", .int(Int64(n))), JSONMember("blas_core", .string(BLASCoreType.current)),
                    JSONMember("prompt_tokens", .int(Int64(promptTokens))),
                    JSONMember("gen_tokens", .int(Int64(genTokens))),
                    JSONMember("prefill_tokens_per_s", .double(EngineCLI.round3(pp))),
                    JSONMember("decode_tokens_per_s", .double(EngineCLI.round3(tg))),
                    JSONMember("decode_bytes_per_token", .int(Int64(bytesPerToken.rounded()))),
                    JSONMember("memory_bandwidth_bytes_per_s", .int(Int64(bandwidth.rounded()))),
                    JSONMember("decode_bandwidth_fraction", .double(EngineCLI.round3(fraction))),
                    JSONMember("prefill_runs", .array(r.prefillTokensPerSecond.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("decode_runs", .array(r.decodeTokensPerSecond.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("prefill_cpu_s", .array(r.prefillCPUSeconds.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("decode_cpu_s", .array(r.decodeCPUSeconds.map { .double(EngineCLI.round3($0)) })),
                    JSONMember("speculation", .object([
                        JSONMember("mode", .string(speculation.rawValue)),
                        JSONMember("guessed", .int(Int64(r.guessedTokens))),
                        JSONMember("accepted", .int(Int64(r.acceptedGuesses))),
                    ])),
                ]).serialized(.compact) + "\n")
            } else {
                let name = (path as NSString).lastPathComponent
                Console.out("\(name)  threads \(n)  blas \(BLASCoreType.current)\n")
                Console.out(String(format: "  prompt %d tokens: %.1f tok/s (runs: %@)\n", promptTokens, pp,
                                   r.prefillTokensPerSecond.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
                Console.out(String(format: "  decode %d tokens: %.1f tok/s (runs: %@)\n", genTokens, tg,
                                   r.decodeTokensPerSecond.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
                if speculation == .lookup {
                    Console.out(String(format: "  lookup speculation: %d tokens guessed, %d right\n", r.guessedTokens, r.acceptedGuesses))
                }
                Console.out(String(format: "  decode reads %.1f MB/token; memory read bandwidth %.1f GB/s (%d threads): %.0f%% of it used\n",
                                   bytesPerToken / 1e6, bandwidth / 1e9, n, fraction * 100))
            }
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// The depth table (DepthBenchmark): one row per depth for the attention chosen; with
    /// `--compare-full`, rows for LoZA and for full attention measured side by side.
    func runDepths(_ m: Model, path: String, threads n: Int, choice: AttentionChoice, depths ds: [Int],
                   progress: ProgressLine) throws -> Int32 {
        if compareFull && choice.plan.sparseCount == 0 {
            throw CLIError.input("--compare-full compares LoZA with full attention, but the attention in use is full (\(choice.source))")
        }
        let deepest = ds.max()!
        let length = deepest + genTokens + 16
        let session = Session(model: m, threads: n, plan: choice.plan, maxLength: length, initialCapacity: length)
        var sessions = [session]
        var modes = [choice.mode]
        if compareFull {
            sessions.append(Session(model: m, plan: .full(layerCount: m.config.layerCount), maxLength: length,
                                    initialCapacity: length, pool: session.pool))
            modes.append("full")
        }
        let rows: [[DepthResult]]
        do {
            rows = try DepthBenchmark.run(sessions: sessions, depths: ds, genTokens: genTokens, repeats: repeats,
                                          onProgress: { progress.show($0) })
        } catch { throw CLIError.failed("\(error)") }
        progress.show("measuring memory read bandwidth")
        let bandwidth = MemoryBandwidth.measure(pool: session.pool)
        progress.clear()
        let bytes = zip(sessions, rows).map { s, rs in rs.map { s.meanDecodeBytesRead(from: $0.depth, count: genTokens) } }
        if json {
            var all: [JSONValue] = []
            for k in sessions.indices {
                for (r, b) in zip(rows[k], bytes[k]) {
                    all.append(.object([
                        JSONMember("depth", .int(Int64(r.depth))),
                        JSONMember("attention", .string(modes[k])),
                        JSONMember("plan", .string(sessions[k].plan.planString)),
                        JSONMember("prefill_s", .double(EngineCLI.round3(r.prefillSeconds))),
                        JSONMember("decode_ms_per_token", .double(EngineCLI.round3(r.decodeMsPerToken))),
                        JSONMember("decode_ms_runs", .array(r.decodeRuns.map { .double(EngineCLI.round3($0)) })),
                        JSONMember("kv_bytes", .int(Int64(r.kvBytes))),
                        JSONMember("decode_bytes_per_token", .int(Int64(b.rounded()))),
                        JSONMember("decode_bandwidth_fraction", .double(EngineCLI.round3(b / (r.decodeMsPerToken / 1000) / bandwidth))),
                        JSONMember("prefill_cpu_s", .double(EngineCLI.round3(r.prefillCPUSeconds))),
                        JSONMember("decode_cpu_ms_per_token", .double(EngineCLI.round3(r.decodeCPUMsPerToken))),
                    ]))
                }
            }
            var members = [
                JSONMember("model", .string(path)),
                JSONMember("threads", .int(Int64(n))), JSONMember("blas_core", .string(BLASCoreType.current)),
                JSONMember("gen_tokens", .int(Int64(genTokens))),
                JSONMember("memory_bandwidth_bytes_per_s", .int(Int64(bandwidth.rounded()))),
                JSONMember("attention", .string(choice.mode)),
                JSONMember("plan", .string(choice.plan.planString)),
                JSONMember("plan_source", .string(choice.source)),
                JSONMember("depths", .array(all)),
            ]
            if compareFull {
                members.append(JSONMember("loza_over_full_decode_ms", .array(zip(rows[0], rows[1]).map { l, f in
                    .object([JSONMember("depth", .int(Int64(l.depth))),
                             JSONMember("ratio", .double(EngineCLI.round3(l.decodeMsPerToken / f.decodeMsPerToken)))])
                })))
            }
            Console.out(JSONValue.object(members).serialized(.compact) + "\n")
        } else {
            Console.out("\((path as NSString).lastPathComponent)  threads \(n)  blas \(BLASCoreType.current)  attention \(choice.mode) \(choice.plan.planString)\n")
            for k in sessions.indices {
                if compareFull { Console.out("  \(modes[k]) (\(sessions[k].plan.planString)):\n") }
                for (r, b) in zip(rows[k], bytes[k]) {
                    Console.out(String(format: "  depth %6d: prefill %8.2f s  decode %7.2f ms/token (%.1f tok/s)  KV %.1f MiB  reads %.0f MB/token (%.0f%% of bandwidth)\n",
                                       r.depth, r.prefillSeconds, r.decodeMsPerToken, 1000 / r.decodeMsPerToken,
                                       Double(r.kvBytes) / 1_048_576, b / 1e6, b / (r.decodeMsPerToken / 1000) / bandwidth * 100))
                }
            }
            if compareFull {
                for (l, f) in zip(rows[0], rows[1]) {
                    Console.out(String(format: "  depth %6d: LoZA / full decode ms %.3f (decode runs alternated in one process)\n",
                                       l.depth, l.decodeMsPerToken / f.decodeMsPerToken))
                }
            }
            Console.out(String(format: "  memory read bandwidth %.1f GB/s (%d threads)\n", bandwidth / 1e9, n))
        }
        return 0
    }
}
