import Foundation
import AgentCore

/// Reads a chat-completions response body as it arrives, either an SSE stream (`data: {...}` lines ending
/// with `data: [DONE]`) or, when the server ignored `stream`, one JSON object; collects content, reasoning
/// and tool-call deltas (by index) and turns them into a `ModelTurn`.
struct ResponseAccumulator {
    private(set) var content = ""
    private(set) var reasoning = ""
    private(set) var finishReason: String?
    private(set) var done = false
    private(set) var promptTokens = 0
    private(set) var completionTokens = 0
    /// Stream events that carried output: about one token each on vLLM, SGLang and llama.cpp's server,
    /// the count used when the server reports no usage.
    private(set) var outputEvents = 0
    /// Something (text or a tool-call fragment) has been received: the request must not be retried any more.
    private(set) var receivedOutput = false

    private struct PartialCall {
        var id = ""
        var name = ""
        var arguments = ""
        var argumentsObject: JSONValue?
    }
    private var calls: [Int: PartialCall] = [:]
    private var callOrder: [Int] = []
    private var pending: [UInt8] = []
    private var mode: Mode = .undecided
    private enum Mode { case undecided, sse, json }

    /// Feed received bytes; `emit` gets the text to stream.
    mutating func feed(_ bytes: [UInt8], emit: (String) -> Void) throws(RemoteModelError) {
        pending.append(contentsOf: bytes)
        if mode == .undecided {
            guard let first = pending.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return }
            mode = first == UInt8(ascii: "{") ? .json : .sse
        }
        guard mode == .sse else { return }
        while let nl = pending.firstIndex(of: 0x0A) {
            var line = Array(pending[..<nl])
            pending.removeSubrange(...nl)
            if line.last == 0x0D { line.removeLast() }
            try handleLine(String(decoding: line, as: UTF8.self), emit: emit)
        }
    }

    /// The body is complete. Returns the turn, or throws when the body was not a complete response.
    mutating func finish(emit: (String) -> Void) throws(RemoteModelError) -> ModelTurn {
        switch mode {
        case .undecided:
            throw RemoteModelError("the server sent an empty response", retryable: true)
        case .json:
            let text = String(decoding: pending, as: UTF8.self)
            let value: JSONValue
            do { value = try JSONValue.parse(text) } catch {
                throw RemoteModelError("the server's response is not JSON (\(error)): \(Self.snippet(text))")
            }
            try handleComplete(value, emit: emit)
        case .sse:
            if !pending.isEmpty {
                let line = String(decoding: pending, as: UTF8.self)
                pending.removeAll()
                try handleLine(line, emit: emit)
            }
            if !done && finishReason == nil {
                throw RemoteModelError("the server's event stream ended before the response was complete",
                                       retryable: !receivedOutput)
            }
        }
        return makeTurn()
    }

    private mutating func handleLine(_ line: String, emit: (String) -> Void) throws(RemoteModelError) {
        guard line.hasPrefix("data:") else {
            // Blank separators, `: comments`, `event:`/`id:`/`retry:` fields carry nothing we use.
            return
        }
        var payload = Substring(line.dropFirst(5))
        if payload.first == " " { payload = payload.dropFirst() }
        if payload == "[DONE]" {
            done = true
            return
        }
        if done { return }
        let value: JSONValue
        do { value = try JSONValue.parse(String(payload)) } catch {
            throw RemoteModelError("the server sent an event that is not JSON (\(error)): \(Self.snippet(String(payload)))")
        }
        if let err = value["error"] {
            throw RemoteModelError("the server reported an error in the stream: \(Self.errorText(err))")
        }
        readUsage(value)
        guard let choice = value["choices"]?.arrayValue?.first else { return }
        if let delta = choice["delta"] {
            if Self.carriesOutput(delta) { outputEvents += 1 }
            if let r = delta["reasoning_content"]?.stringValue ?? delta["reasoning"]?.stringValue, !r.isEmpty {
                if reasoning.isEmpty && content.isEmpty { emit("<think>\n") }
                reasoning += r
                receivedOutput = true
                emit(r)
            }
            if let c = delta["content"]?.stringValue, !c.isEmpty {
                if !reasoning.isEmpty && content.isEmpty { emit("\n</think>\n") }
                content += c
                receivedOutput = true
                emit(c)
            }
            if let deltas = delta["tool_calls"]?.arrayValue {
                for (position, d) in deltas.enumerated() {
                    let index = d["index"]?.intValue.map { Int($0) } ?? position
                    var call = calls[index] ?? { callOrder.append(index); return PartialCall() }()
                    if let id = d["id"]?.stringValue, !id.isEmpty { call.id = id }
                    if let f = d["function"] {
                        // OpenAI sends the name once; llama-cpp-python repeats it in every fragment.
                        if let n = f["name"]?.stringValue, n != call.name { call.name += n }
                        switch f["arguments"] {
                        case .string(let a)?: call.arguments += a
                        case .object(let o)?: call.argumentsObject = .object(o)
                        default: break
                        }
                    }
                    calls[index] = call
                    receivedOutput = true
                }
            }
        }
        if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
    }

    private static func carriesOutput(_ delta: JSONValue) -> Bool {
        if let c = delta["content"]?.stringValue, !c.isEmpty { return true }
        if let r = delta["reasoning_content"]?.stringValue ?? delta["reasoning"]?.stringValue, !r.isEmpty { return true }
        return !(delta["tool_calls"]?.arrayValue?.isEmpty ?? true)
    }

    /// A non-streaming `chat.completion` object.
    private mutating func handleComplete(_ value: JSONValue, emit: (String) -> Void) throws(RemoteModelError) {
        if let err = value["error"] {
            throw RemoteModelError("the server reported an error: \(Self.errorText(err))")
        }
        readUsage(value)
        guard let choice = value["choices"]?.arrayValue?.first, let message = choice["message"] else {
            throw RemoteModelError("the server's response has no choices[0].message: \(Self.snippet(value.serialized(.compact)))")
        }
        if let r = message["reasoning_content"]?.stringValue ?? message["reasoning"]?.stringValue, !r.isEmpty {
            reasoning = r
            emit("<think>\n" + r + "\n</think>\n")
        }
        if let c = message["content"]?.stringValue, !c.isEmpty {
            content = c
            emit(c)
        }
        for (i, c) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            var call = PartialCall()
            call.id = c["id"]?.stringValue ?? ""
            call.name = c["function"]?["name"]?.stringValue ?? ""
            switch c["function"]?["arguments"] {
            case .string(let a)?: call.arguments = a
            case .object(let o)?: call.argumentsObject = .object(o)
            default: break
            }
            calls[i] = call
            callOrder.append(i)
        }
        receivedOutput = true
        finishReason = choice["finish_reason"]?.stringValue
        done = true
    }

    private mutating func readUsage(_ value: JSONValue) {
        guard let usage = value["usage"] else { return }
        if let p = usage["prompt_tokens"]?.intValue { promptTokens = Int(p) }
        if let c = usage["completion_tokens"]?.intValue { completionTokens = Int(c) }
    }

    func makeTurn() -> ModelTurn {
        var good: [ToolCall] = []
        var bad: [MalformedToolCall] = []
        var usedIDs = Set<String>()
        for (n, index) in callOrder.enumerated() {
            let call = calls[index]!
            var id = call.id
            if id.isEmpty || usedIDs.contains(id) { id = "call_\(n)" }
            usedIDs.insert(id)
            let raw = JSONValue.object([
                JSONMember("name", .string(call.name)),
                JSONMember("arguments", call.argumentsObject ?? .string(call.arguments)),
            ]).serialized(.compact)
            guard !call.name.isEmpty else {
                bad.append(MalformedToolCall(id: id, raw: raw, reason: "the tool call has no function name"))
                continue
            }
            if let object = call.argumentsObject {
                good.append(ToolCall(id: id, name: call.name, arguments: object))
                continue
            }
            let text = call.arguments.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty {
                good.append(ToolCall(id: id, name: call.name, arguments: .object([])))
                continue
            }
            do {
                let parsed = try JSONValue.parse(text)
                if case .object = parsed {
                    good.append(ToolCall(id: id, name: call.name, arguments: parsed))
                } else {
                    bad.append(MalformedToolCall(id: id, raw: raw, name: call.name,
                                                 reason: "arguments are a JSON \(parsed.typeName), not an object"))
                }
            } catch {
                bad.append(MalformedToolCall(id: id, raw: raw, name: call.name, reason: "arguments are not valid JSON: \(error)"))
            }
        }
        let stop: StopReason
        switch finishReason {
        case "length": stop = .length
        case "tool_calls", "function_call": stop = .toolCall
        case "stop", "eos", nil: stop = (good.isEmpty && bad.isEmpty) ? .eos : .toolCall
        default: stop = (good.isEmpty && bad.isEmpty) ? .eos : .toolCall
        }
        let text = reasoning.isEmpty ? content : "<think>\n" + reasoning + "\n</think>\n" + content
        let counted = completionTokens > 0 ? completionTokens : (outputEvents > 0 ? outputEvents : nil)
        // Reasoning comes apart (`reasoning_content`) from servers that parse thinking, or as a block at
        // the start of the content from the others.
        var thought: String? = reasoning.isEmpty ? nil : reasoning
        var answer = content
        if thought == nil, let (r, rest) = Reasoning.split(content) {
            thought = r
            answer = rest
        }
        var turn = ModelTurn(text: text, toolCalls: good, malformedCalls: bad, content: answer, stop: stop,
                             promptTokens: promptTokens, reportedTokenCount: counted)
        turn.reasoning = thought
        return turn
    }

    static func errorText(_ err: JSONValue) -> String {
        if let s = err.stringValue { return oneLine(s) }
        if let m = err["message"]?.stringValue { return oneLine(m) }
        return oneLine(err.serialized(.compact))
    }

    static func snippet(_ s: String) -> String {
        let line = oneLine(s)
        return line.count > 200 ? String(line.prefix(200)) + "..." : line
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
