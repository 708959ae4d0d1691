import AgentCore
import Foundation

/// Tests/RemoteModelTests/Resources/openai_server.py on 127.0.0.1, one per test, stopped when the test ends.
final class ScriptedServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let key = UUID().uuidString.lowercased()
    let logDir: String

    init() throws {
        guard let script = Bundle.module.path(forResource: "openai_server", ofType: "py", inDirectory: "Resources") else {
            throw TestFailure("openai_server.py is missing from the test bundle")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        logDir = NSTemporaryDirectory() + "loza-remote-\(key)"
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        p.arguments = ["python3", script, logDir]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var line = [UInt8]()
        let handle = out.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let b = byte.first else { break }
            if b == 0x0A { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            p.terminate()
            throw TestFailure("openai_server.py did not print its port")
        }
        process = p
        self.port = port
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: logDir)
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Base URL (`.../v1`) of a scenario, unique to this server's key.
    func url(_ scenario: String) -> String { "http://127.0.0.1:\(port)/\(scenario)/\(key)/v1" }

    /// The requests the server received for this key.
    func log() throws -> [JSONValue] {
        guard let text = try? String(contentsOfFile: logDir + "/\(key).jsonl", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Collects streamed text from `onText` (called on the responding task).
final class TextSink: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func add(_ s: String) { lock.withLock { parts.append(s) } }
    var text: String { lock.withLock { parts.joined() } }
    var count: Int { lock.withLock { parts.count } }
}
