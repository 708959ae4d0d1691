import ArgumentParser
import Foundation
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-level`: how much of loza's own diagnostics reach stderr.
struct LogOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Diagnostics on stderr: trace, debug, info, notice, warning, error or critical (default: $\(Log.environmentVariable), else notice).",
        valueName: "level"))
    var logLevel: Logger.Level?
}

/// A command that takes `--log-level` (main applies it before the command runs).
protocol LoggingCommand {
    var logging: LogOptions { get }
}

/// The process's logging: every `Logger` writes through `StderrLogHandler` at one level.
enum Log {
    static let environmentVariable = "LOZA_LOG_LEVEL"
    static let defaultLevel = Logger.Level.notice

    /// `option`, else the environment variable, else notice; `problem` when the variable holds no level.
    static func level(option: Logger.Level?, environment: [String: String]) -> (level: Logger.Level, problem: String?) {
        if let option { return (option, nil) }
        guard let text = environment[environmentVariable], !text.isEmpty else { return (defaultLevel, nil) }
        if let level = Logger.Level(rawValue: text.lowercased()) { return (level, nil) }
        let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        return (defaultLevel, "\(environmentVariable)=\(text) is not a level (\(known)); using \(defaultLevel)")
    }

    /// Installs the stderr handler at the chosen level. Once per process, before the command runs.
    static func bootstrap(option: Logger.Level?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let (level, problem) = level(option: option, environment: environment)
        LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: level) }
        if let problem { Logger(label: "loza").warning("\(problem)") }
    }
}
