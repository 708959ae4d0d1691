import ArgumentParser
import Foundation

/// The `loza` command. Each subcommand lives in its own file.
struct Loza: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loza",
        abstract: "A tool-integrated agent runtime with an in-process LoZA-sparse language model.",
        version: Runtime.version,
        subcommands: [
            RunCommand.self,
            BatchCommand.self,
            ReplayCommand.self,
            ToolsCommand.self,
            ModelsCommand.self,
            GenerateCommand.self,
            TokenizeCommand.self,
            BenchCommand.self,
            CalibrateCommand.self,
            EvalCommand.self,
        ])
}

// `await Loza.main()` picks the synchronous overload in top-level code; dispatch explicitly.
func runAsync<C: AsyncParsableCommand>(_ command: C) async throws {
    var command = command
    try await command.run()
}

BLASCoreType.reexecIfUnrecognized()

do {
    var command = try Loza.parseAsRoot()
    Log.bootstrap(option: (command as? any LoggingCommand)?.logging.logLevel)
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(asyncCommand)
    } else {
        try command.run()
    }
} catch {
    // Usage errors are bad input: exit 2, like every other bad input (ArgumentParser's default is 64).
    if Loza.exitCode(for: error).rawValue == 64 {
        FileHandle.standardError.write(Data((Loza.fullMessage(for: error) + "\n").utf8))
        exit(2)
    }
    Loza.exit(withError: error)
}
