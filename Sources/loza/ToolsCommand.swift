import AgentCore
import ArgumentParser
import Foundation
import SpecParser

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List a spec's tools, or call one without a model.",
        subcommands: [List.self, Call.self])

    /// The spec's tools (no model, no transcript), or a bad-input error.
    static func open(_ path: String, params: [String]) async throws -> RunContext {
        let task: TaskSpec
        do { task = try SpecParser.parse(file: path, overrides: params) } catch { throw CLIError.input("\(error)") }
        return try await RunContext.open(task, origin: path)
    }

    struct List: AsyncParsableCommand, LoggingCommand {
        static let configuration = CommandConfiguration(abstract: "List the tools of a spec as the model sees them.")

        @Argument(help: "The task spec (YAML).") var spec: String
        @Option(name: .customLong("param"), help: ArgumentHelp("Override a spec parameter.", valueName: "key=value"))
        var params: [String] = []
        @Flag(help: "Print the declarations as JSON (OpenAI function shape).") var json = false
        @OptionGroup var logging: LogOptions

        func run() async throws {
            let code = await runCLI {
                let context = try await ToolsCommand.open(spec, params: params)
                await context.close()
                let declarations = context.tools.map(\.declaration)
                if json {
                    Console.out(JSONValue.array(declarations.map(\.openAIFunction)).serialized(.pretty) + "\n")
                } else {
                    let style = Style.forStdout()
                    for d in declarations {
                        Console.out(style.bold(d.name) + "  " + d.description + "\n")
                        Console.out(style.dim("  parameters: " + d.parameters.serialized(.python)) + "\n")
                    }
                }
                return 0
            }
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Call: AsyncParsableCommand, LoggingCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one tool of a spec on JSON arguments and print the result as JSON.",
            discussion: "Prints {\"ok\":..,\"output\":..,\"error\":..,\"exit_code\":..,\"duration_s\":..}. Exit status 0 whenever the call was made (even if the tool failed), 2 for bad input.")

        @Argument(help: "The task spec (YAML).") var spec: String
        @Argument(help: "The tool's name.") var name: String
        @Argument(help: "The arguments, a JSON object.") var arguments: String = "{}"
        @Option(name: .customLong("param"), help: ArgumentHelp("Override a spec parameter.", valueName: "key=value"))
        var params: [String] = []
        @OptionGroup var logging: LogOptions

        func run() async throws {
            let code = await runCLI {
                let args: JSONValue
                do { args = try JSONValue.parse(arguments) } catch { throw CLIError.input("arguments: \(error)") }
                let context = try await ToolsCommand.open(spec, params: params)
                let result: ToolResult
                do { result = try await call(context.tools, args) } catch {
                    await context.close()
                    throw error
                }
                await context.close()
                var object: [JSONMember] = [
                    JSONMember("ok", .bool(result.ok)), JSONMember("output", .string(result.output)),
                    JSONMember("error", result.error.map { .string($0) } ?? .null),
                    JSONMember("exit_code", result.exitCode.map { .int(Int64($0)) } ?? .null),
                    JSONMember("duration_s", .double((result.durationSeconds * 1000).rounded() / 1000)),
                ]
                if let sha = result.fullOutputSHA256 {
                    object.append(JSONMember("output_sha256", .string(sha)))
                    object.append(JSONMember("output_bytes", result.fullOutputBytes.map { .int(Int64($0)) } ?? .null))
                }
                Console.out(JSONValue.object(object).serialized(.compact) + "\n")
                return 0
            }
            if code != 0 { throw ExitCode(code) }
        }

        /// The named tool's result on `args`, or a bad-input error (no such tool, arguments that do not fit).
        func call(_ tools: [any Tool], _ args: JSONValue) async throws -> ToolResult {
            guard let tool = tools.first(where: { $0.declaration.name == name }) else {
                let names = tools.map(\.declaration.name).joined(separator: ", ")
                throw CLIError.input("unknown tool '\(name)' in \(spec) (tools: \(names.isEmpty ? "none" : names))")
            }
            if let problem = JSONSchema(tool.declaration.parameters).firstError(args) {
                throw CLIError.input("invalid arguments for \(name): \(problem)")
            }
            return await tool.call(id: "cli_0", arguments: args)
        }
    }
}
