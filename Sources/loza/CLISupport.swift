import AgentCore
import Foundation

/// A command-line failure: the message goes to stderr, the process exits with `code`
/// (2 = bad input: spec, arguments, transcript; 1 = the run or the check failed).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var code: Int32

    static func input(_ message: String) -> CLIError { CLIError(description: message, code: 2) }
    static func failed(_ message: String) -> CLIError { CLIError(description: message, code: 1) }
}

enum Runtime {
    static let version = "loza 0.1.0"
}

/// Thread-safe writes to stdout/stderr (unbuffered: streamed text appears as it comes).
enum Console {
    private static let lock = NSLock()

    static func out(_ text: String) { write(1, text) }
    static func err(_ text: String) { write(2, text) }

    static func write(_ fd: Int32, _ text: String) {
        lock.lock()
        defer { lock.unlock() }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }

    static var stdoutIsTTY: Bool { isatty(1) == 1 }
    static var stderrIsTTY: Bool { isatty(2) == 1 }
}

/// ANSI styles, applied only when `enabled` (a terminal without NO_COLOR).
struct Style: Sendable {
    var enabled: Bool

    static func forStdout() -> Style { Style(enabled: Console.stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil) }

    func wrap(_ code: String, _ s: String) -> String { enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    func bold(_ s: String) -> String { wrap("1", s) }
    func dim(_ s: String) -> String { wrap("2", s) }
    func cyan(_ s: String) -> String { wrap("36", s) }
    func green(_ s: String) -> String { wrap("32", s) }
    func red(_ s: String) -> String { wrap("31", s) }
    func yellow(_ s: String) -> String { wrap("33", s) }
    func magenta(_ s: String) -> String { wrap("35", s) }
}

/// Runs `body`, turning `CLIError` into its message and exit code.
func runCLI(_ body: () async throws -> Int32) async -> Int32 {
    do {
        return try await body()
    } catch let e as CLIError {
        Console.err("\(e.description)\n")
        return e.code
    } catch {
        Console.err("error: \(error)\n")
        return 1
    }
}

/// First `maxLines` lines of `text`, with a note of what was left out.
func preview(_ text: String, maxLines: Int = 12, maxChars: Int = 2000) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.last == "" { lines.removeLast() }
    var shown = lines.prefix(maxLines).joined(separator: "\n")
    if shown.count > maxChars { shown = String(shown.prefix(maxChars)) + "…" }
    if lines.count > maxLines { shown += "\n… (\(lines.count - maxLines) more lines)" }
    return shown
}

/// A sink that keeps nothing (verification runs, whose events are compared, not saved).
struct DiscardingSink: TranscriptSink {
    func record(_ event: TranscriptEvent) throws {}
}
