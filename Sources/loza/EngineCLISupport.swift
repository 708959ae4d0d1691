import Engine
import Foundation

/// A status line on stderr for model loading and long prompt processing: only on a terminal and
/// never with --json.
struct ProgressLine {
    let enabled: Bool

    init(json: Bool) { enabled = !json && Console.stderrIsTTY }

    func show(_ text: String) { if enabled { Console.err("\r\u{1B}[K" + text) } }
    func clear() { if enabled { Console.err("\r\u{1B}[K") } }
}

enum EngineCLI {
    /// Resolve a model argument (path or alias) to a file, as a bad-input error when missing.
    static func modelPath(_ spec: String) throws -> String {
        do { return try ModelStore().resolve(spec) } catch { throw CLIError.input("\(error)") }
    }

    /// `--x` / `--x-file`: exactly one of the two.
    static func readInput(_ text: String?, _ file: String?, names: (String, String)) throws -> String {
        switch (text, file) {
        case let (t?, nil): return t
        case let (nil, f?):
            guard let data = FileManager.default.contents(atPath: f) else { throw CLIError.input("\(f): cannot read file") }
            guard let s = String(data: data, encoding: .utf8) else { throw CLIError.input("\(f): not valid UTF-8") }
            return s
        case (nil, nil): throw CLIError.input("give one of \(names.0) or \(names.1)")
        default: throw CLIError.input("give only one of \(names.0) and \(names.1)")
        }
    }

    static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
