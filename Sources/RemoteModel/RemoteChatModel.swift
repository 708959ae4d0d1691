import AgentCore
import ChatTemplate
import Foundation

/// A `LanguageModel` served by an OpenAI-compatible chat-completions endpoint (vLLM, SGLang, llama.cpp's
/// server...): `POST {url}/chat/completions` with `stream: true`, read as server-sent events.
///
/// Connection failures, HTTP 5xx and 429 are retried with exponential backoff (0.5 s, 1 s, 2 s, ...) up to
/// `settings.retries` times, but only while no output has been streamed. `timeoutSeconds` bounds the wait
/// for the connection and for each next byte of the response (not the whole generation).
public final class RemoteChatModel: LanguageModel {
    public let settings: RemoteModelSettings
    public let description: ModelDescription
    /// First backoff delay; doubled after each failed attempt.
    let initialBackoff: Double

    public convenience init(settings: RemoteModelSettings) {
        self.init(settings: settings, initialBackoff: 0.5)
    }

    init(settings: RemoteModelSettings, initialBackoff: Double) {
        self.settings = settings
        self.initialBackoff = initialBackoff
        description = ModelDescription(name: settings.name, endpoint: settings.url)
    }

    var endpoint: String {
        var base = settings.url
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        var headers = ["Content-Type: application/json", "Accept: text/event-stream"]
        if let variable = settings.apiKeyEnv, !variable.isEmpty {
            guard let key = ProcessInfo.processInfo.environment[variable], !key.isEmpty else {
                throw RemoteModelError("remote model \(settings.url): api_key_env names \(variable), which is not set")
            }
            headers.append("Authorization: Bearer \(key)")
        }
        let body = ChatRequestBody.make(model: settings.name, messages: messages, tools: tools, toolChoice: toolChoice,
                                        sampling: sampling, stream: true)
        let request = StreamingPost(url: endpoint, headers: headers, body: Array(body.serialized(.compact).utf8),
                                    timeoutSeconds: settings.timeoutSeconds)
        var delay = initialBackoff
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                var turn = try await exchange(request, onText: onText)
                turn.toolChoice = toolChoice
                if toolChoice != .none && turn.toolCalls.isEmpty && turn.malformedCalls.isEmpty && !tools.isEmpty {
                    Self.readCallsInText(&turn, tools: tools, turn: messages.filter { $0.role == .assistant }.count)
                }
                return turn
            } catch let error as RemoteModelError where error.retryable && attempt < settings.retries {
                attempt += 1
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay *= 2
            } catch let error as RemoteModelError {
                let tries = attempt > 0 ? " (after \(attempt + 1) attempts)" : ""
                throw RemoteModelError("remote model \(endpoint): \(error.message)\(tries)")
            }
        }
    }

    /// A server without a tool-call parser for the model (llama.cpp's server on Qwen2.5-Coder's fenced or
    /// bare JSON) reports its calls as text: they are read from the text as the local engine reads them
    /// (`ToolCallParser`: tagged, a bare reply, or calls of declared tools after an explanation) and
    /// marked recovered.
    static func readCallsInText(_ turn: inout ModelTurn, tools: [ToolDeclaration], turn index: Int) {
        var parser = ToolCallParser(tools: tools, turn: index)
        _ = parser.push(turn.answerText)
        let parsed = parser.finish()
        guard !parsed.calls.isEmpty || !parsed.malformed.isEmpty else { return }
        turn.toolCalls = parsed.calls.map { call in
            var call = call
            call.recovered = true
            return call
        }
        turn.malformedCalls = parsed.malformed
        turn.content = parsed.content
        turn.stop = .toolCall
    }

    /// One attempt. Throws a retryable error only when nothing was streamed to `onText`.
    private func exchange(_ request: StreamingPost, onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        let events = request.start()
        var status = 0
        var errorBody: [UInt8] = []
        var accumulator = ResponseAccumulator()
        let started = DispatchTime.now().uptimeNanoseconds
        var firstOutput: UInt64?
        for await event in events {
            switch event {
            case .status(let s):
                status = s
            case .data(let bytes):
                if status >= 200 && status < 300 {
                    try accumulator.feed(bytes) { text in
                        if firstOutput == nil { firstOutput = DispatchTime.now().uptimeNanoseconds }
                        onText(text)
                    }
                } else if errorBody.count < 65536 {
                    errorBody.append(contentsOf: bytes)
                }
            case .end(let end):
                switch end {
                case .ok:
                    break
                case .cancelled:
                    throw CancellationError()
                case .timedOut(let seconds):
                    throw RemoteModelError("no response for \(Self.seconds(seconds)) (timeout_seconds)")
                case .failed(let why, let retryable):
                    throw RemoteModelError("request failed: \(why)", retryable: retryable && !accumulator.receivedOutput)
                }
            }
        }
        // The stream also ends early when the waiting task is cancelled.
        try Task.checkCancellation()
        guard status >= 200 && status < 300 else {
            throw RemoteModelError("HTTP \(status): \(Self.serverMessage(errorBody))",
                                   retryable: status >= 500 || status == 429)
        }
        var turn = try accumulator.finish { text in
            if firstOutput == nil { firstOutput = DispatchTime.now().uptimeNanoseconds }
            onText(text)
        }
        let ended = DispatchTime.now().uptimeNanoseconds
        let firstAt = firstOutput ?? ended
        turn.prefillSeconds = Double(firstAt - started) / 1e9
        turn.decodeSeconds = Double(ended - firstAt) / 1e9
        return turn
    }

    /// The message of an error body: OpenAI's `{"error": {"message": ...}}`, FastAPI's `{"detail": ...}`,
    /// or the first line of the text.
    static func serverMessage(_ body: [UInt8]) -> String {
        let text = String(decoding: body, as: UTF8.self)
        if let value = try? JSONValue.parse(text) {
            if let e = value["error"] { return ResponseAccumulator.errorText(e) }
            if let d = value["detail"] { return ResponseAccumulator.errorText(d) }
            if let m = value["message"]?.stringValue { return ResponseAccumulator.oneLine(m) }
        }
        let snippet = ResponseAccumulator.snippet(text)
        return snippet.isEmpty ? "(empty body)" : snippet
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}
