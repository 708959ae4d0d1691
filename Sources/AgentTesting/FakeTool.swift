import AgentCore
import Foundation

/// A tool for tests: a declared schema and a closure computing the result; records every call it ran.
public final class FakeTool: Tool, @unchecked Sendable {
    public let declaration: ToolDeclaration
    private let handler: @Sendable (JSONValue) async -> (ok: Bool, output: String, error: String?)
    private let lock = NSLock()
    private var received: [(id: String, arguments: JSONValue)] = []

    public init(name: String, description: String = "", parameters: JSONValue = ["type": "object"],
                handler: @escaping @Sendable (JSONValue) async -> (ok: Bool, output: String, error: String?)) {
        self.declaration = ToolDeclaration(name: name, description: description, parameters: parameters)
        self.handler = handler
    }

    public var calls: [(id: String, arguments: JSONValue)] { lock.withLock { received } }

    public func call(id: String, arguments: JSONValue) async -> ToolResult {
        lock.withLock { received.append((id, arguments)) }
        let r = await handler(arguments)
        return ToolResult(callID: id, name: declaration.name, ok: r.ok, output: r.output, error: r.error,
                          exitCode: r.ok ? 0 : 1)
    }

    /// `echo {"text": string}` -> the text.
    public static func echo() -> FakeTool {
        FakeTool(name: "echo", description: "Echo the text back.",
                 parameters: ["type": "object", "properties": ["text": ["type": "string"]], "required": ["text"],
                              "additionalProperties": false]) { args in
            (true, args["text"]?.stringValue ?? "", nil)
        }
    }

    /// `add {"a": integer, "b": integer}` -> the sum.
    public static func add() -> FakeTool {
        FakeTool(name: "add", description: "Add two integers.",
                 parameters: ["type": "object", "properties": ["a": ["type": "integer"], "b": ["type": "integer"]],
                              "required": ["a", "b"]]) { args in
            (true, String((args["a"]?.intValue ?? 0) + (args["b"]?.intValue ?? 0)), nil)
        }
    }

    /// A tool that always fails with `error`.
    public static func failing(_ name: String = "broken", error: String = "exit status 1") -> FakeTool {
        FakeTool(name: name, description: "Always fails.") { _ in (false, "partial output", error) }
    }
}

/// A transcript sink that keeps events in memory.
public final class MemorySink: TranscriptSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [TranscriptEvent] = []
    /// Throw on the event with this index (0-based), to test transcript failures.
    public var failAt: Int?

    public init(failAt: Int? = nil) { self.failAt = failAt }

    public var events: [TranscriptEvent] { lock.withLock { stored } }

    public func record(_ event: TranscriptEvent) throws {
        try lock.withLock {
            if let failAt, stored.count == failAt { throw MemorySinkError() }
            stored.append(event)
        }
    }

    public struct MemorySinkError: Error, CustomStringConvertible {
        public var description: String { "disk full (simulated)" }
    }
}
