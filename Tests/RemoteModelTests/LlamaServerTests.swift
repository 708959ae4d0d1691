import AgentCore
import Foundation
import TestSupport
import Testing
@testable import RemoteModel

/// End to end against llama-cpp-python's OpenAI-compatible server serving SmolLM2 on 127.0.0.1.
/// Needs LOZA_LLAMA_SERVER_PYTHON (a python with `llama_cpp.server`); skipped with a note when unset,
/// since building llama-cpp-python is too slow for CI.
@Suite struct LlamaServerTests {
    static let python = ProcessInfo.processInfo.environment["LOZA_LLAMA_SERVER_PYTHON"] ?? ""

    @Test(.enabled(if: !python.isEmpty, "set LOZA_LLAMA_SERVER_PYTHON to a python with llama_cpp.server to run it"),
          .requiresModel(RealModels.smol))
    func chatWithAndWithoutToolsThroughLlamaCppServer() async throws {
        let python = Self.python
        let modelPath = try RealModels.require(RealModels.smol)
        let port = Int.random(in: 20000..<60000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-m", "llama_cpp.server", "--model", modelPath, "--host", "127.0.0.1", "--port", "\(port)",
                       "--n_threads", "1", "--n_ctx", "2048"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        // Retries with backoff cover the server's start-up (connection refused until it listens).
        let model = RemoteChatModel(settings: RemoteModelSettings(url: "http://127.0.0.1:\(port)/v1", name: "smollm2",
                                                                  timeoutSeconds: 60, retries: 8),
                                    initialBackoff: 0.25)
        let sampling = SamplingOptions(temperature: 0, seed: 1, maxTokens: 24)
        var streamed = ""
        let sink = TextSink()
        let plain = try await model.respond(to: [.system("You are brief."), .user("Say hello.")], tools: [], toolChoice: .auto,
                                            sampling: sampling) { sink.add($0) }
        streamed = sink.text
        print("llama-server plain turn: stop=\(plain.stop) text=\(plain.text.debugDescription)")
        #expect(!plain.text.isEmpty)
        #expect(streamed == plain.text)
        #expect(plain.stop == .eos || plain.stop == .length)

        let tool = ToolDeclaration(name: "get_time", description: "Current time in a time zone.",
                                   parameters: ["type": "object", "properties": ["zone": ["type": "string"]],
                                                "required": ["zone"]])
        let sink2 = TextSink()
        let withTools = try await model.respond(to: [.user("What time is it in UTC? Use the get_time tool.")],
                                                tools: [tool], toolChoice: .auto, sampling: sampling) { sink2.add($0) }
        print("llama-server tools turn: stop=\(withTools.stop) text=\(withTools.text.debugDescription) calls=\(withTools.toolCalls) malformed=\(withTools.malformedCalls)")
        #expect(!(withTools.text.isEmpty && withTools.toolCalls.isEmpty && withTools.malformedCalls.isEmpty))
        #expect(sink2.text == withTools.text)

        // A second turn that carries a tool call and its result: the server must accept the OpenAI shape.
        let call = ToolCall(id: "call_1", name: "get_time", arguments: ["zone": "UTC"])
        let followUp = try await model.respond(
            to: [.user("What time is it in UTC?"), .assistant("", toolCalls: [call]),
                 .tool(ToolResult(callID: "call_1", name: "get_time", ok: true, output: "12:00 UTC"))],
            tools: [tool], toolChoice: .auto, sampling: sampling) { _ in }
        print("llama-server follow-up turn: stop=\(followUp.stop) text=\(followUp.text.debugDescription)")
        #expect(!followUp.text.isEmpty || !followUp.toolCalls.isEmpty)

        // Same seed, temperature 0: the server is deterministic, and so is what we make of it.
        let again = try await model.respond(to: [.system("You are brief."), .user("Say hello.")], tools: [], toolChoice: .auto,
                                            sampling: sampling) { _ in }
        #expect(again.text == plain.text)
    }
}
