import AgentCore
import ArgumentParser
import Foundation
import SpecParser
import Tools

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List a spec's tools, or call one without a model.",
        subcommands: [List.self, Call.self])

    /// The spec and its tools, or a bad-input error.
    static func load(_ path: String, params: [String]) async throws -> (TaskSpec, [any Tool], SandboxPolicy) {
        let task: TaskSpec
        do { task = try SpecParser.parse(file: path, overrides: params) } catch { throw CLIError.input("\(error)") }
        do {
            let (tools, policy) = try await ToolFactory.makeToolSet(entries: task.tools, sandbox: task.sandbox,
                                                                    baseDirectory: task.baseDirectory)
            return (task, tools, policy)
        } catch {
            throw CLIError.input("\(path): \(error)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tools of a spec as the model sees them.")

        @Argument(help: "The task spec (YAML).") var spec: String
        @Option(name: .customLong("param"), help: ArgumentHelp("Override a spec parameter.", valueName: "key=value"))
        var params: [String] = []
        @Flag(help: "Print the declarations as JSON (OpenAI function shape).") var json = false

        func run() async throws {
            let code = await runCLI {
                let (_, tools, policy) = try await ToolsCommand.load(spec, params: params)
                if json {
                    Console.out(JSONValue.array(tools.map(\.declaration.openAIFunction)).serialized(.pretty) + "\n")
                } else {
                    let style = Style.forStdout()
                    for t in tools {
                        let d = t.declaration
                        Console.out(style.bold(d.name) + "  " + d.description + "\n")
                        Console.out(style.dim("  parameters: " + d.parameters.serialized(.python)) + "\n")
                    }
                }
                for t in tools { await t.shutdown() }
                policy.removeTemporaryWorkdir()
                return 0
            }
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one tool of a spec on JSON arguments and print the result as JSON.",
            discussion: "Prints {\"ok\":..,\"output\":..,\"error\":..,\"exit_code\":..,\"duration_s\":..}. Exit status 0 whenever the call was made (even if the tool failed), 2 for bad input.")

        @Argument(help: "The task spec (YAML).") var spec: String
        @Argument(help: "The tool's name.") var name: String
        @Argument(help: "The arguments, a JSON object.") var arguments: String = "{}"
        @Option(name: .customLong("param"), help: ArgumentHelp("Override a spec parameter.", valueName: "key=value"))
        var params: [String] = []

        func run() async throws {
            let code = await runCLI {
                let args: JSONValue
                do { args = try JSONValue.parse(arguments) } catch { throw CLIError.input("arguments: \(error)") }
                let (_, tools, policy) = try await ToolsCommand.load(spec, params: params)
                guard let tool = tools.first(where: { $0.declaration.name == name }) else {
                    for t in tools { await t.shutdown() }
                policy.removeTemporaryWorkdir()
                    let names = tools.map(\.declaration.name).joined(separator: ", ")
                    throw CLIError.input("unknown tool '\(name)' in \(spec) (tools: \(names.isEmpty ? "none" : names))")
                }
                if let problem = JSONSchema(tool.declaration.parameters).firstError(args) {
                    for t in tools { await t.shutdown() }
                policy.removeTemporaryWorkdir()
                    throw CLIError.input("invalid arguments for \(name): \(problem)")
                }
                let result = await tool.call(id: "cli_0", arguments: args)
                for t in tools { await t.shutdown() }
                policy.removeTemporaryWorkdir()
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
    }
}
