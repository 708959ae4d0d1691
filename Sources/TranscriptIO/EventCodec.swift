import AgentCore

/// The JSON payload of each transcript event type, and back.
public enum EventCodec {
    public static func payload(_ event: TranscriptEvent) -> JSONValue {
        switch event {
        case .header(let h):
            return [
                "runtime": .string(h.runtimeVersion), "started_at": .string(h.startedAt),
                "model": [
                    "name": .string(h.model.name), "sha256": .optional(h.model.fileSHA256),
                    "template_sha256": .optional(h.model.templateSHA256), "attention": .optional(h.model.attention),
                    "endpoint": .optional(h.model.endpoint),
                ],
                "sampling": SpecJSON.sampling(h.sampling),
                "threads": h.threads.map { .int(Int64($0)) } ?? .null,
                "sandboxed": .bool(h.sandboxed),
                "tools": .array(h.tools.map(\.openAIFunction)),
                "spec": h.spec,
            ]
        case .message(let m):
            return ["role": .string(m.role.rawValue), "content": .string(m.content)]
        case .modelTurn(let step, let t):
            let value: JSONValue = [
                "step": .int(Int64(step)), "text": .string(t.text), "tokens": .array(t.tokens.map { .int(Int64($0)) }),
                "stop": .string(t.stop.rawValue), "prompt_tokens": .int(Int64(t.promptTokens)),
                "reused_tokens": .int(Int64(t.reusedTokens)), "prefill_s": .number(t.prefillSeconds),
                "decode_s": .number(t.decodeSeconds),
                "tool_calls": .array(t.toolCalls.map(call)),
                "malformed": .array(t.malformedCalls.map(malformed)),
                "content": .optional(t.content),
            ]
            guard case .object(var members) = value else { return value }
            // Written only for turns that reasoned, so other turns keep their shape.
            if let r = t.reasoning {
                members.append(JSONMember("reasoning", .string(r)))
                members.append(JSONMember("reasoning_tokens", .int(Int64(t.reasoningTokens))))
                if t.reasoningLooped { members.append(JSONMember("reasoning_looped", .bool(true))) }
            }
            // Written only when the loop restricted the turn, so other turns keep their shape.
            if t.toolChoice != .auto { members.append(JSONMember("tool_choice", .string(t.toolChoice.rawValue))) }
            // Written only for turns that measured it (local replies to the user under `auto`), and
            // whether the call threshold made the reply a call, only when it did.
            if let p = t.callProbability {
                members.append(JSONMember("call_probability", .number((p * 1e6).rounded() / 1e6)))
                if t.callChosen { members.append(JSONMember("call_chosen", .bool(true))) }
            }
            // Written only for replies decoded again because they repeated an excluded (failed) call.
            if let r = t.excludedRepeat {
                members.append(JSONMember("excluded_repeat", ["name": .string(r.name), "arguments": r.arguments]))
            }
            // Written only for replies whose untagged call opening was dropped (`tag_calls`).
            if let o = t.untaggedOpening { members.append(JSONMember("untagged_opening", .string(o))) }
            // [position, tokens, ms] per span of decode steps; only local turns that decoded have them.
            if !t.decodeSpans.isEmpty {
                members.append(JSONMember("decode_spans", .array(t.decodeSpans.map {
                    .array([.int(Int64($0.position)), .int(Int64($0.tokens)), .number(($0.seconds * 1e6).rounded() / 1e3)])
                })))
            }
            // [passes with guesses, tokens guessed, guesses right]; only turns that guessed have it.
            if t.guessSteps > 0 {
                members.append(JSONMember("speculation", .array([.int(Int64(t.guessSteps)), .int(Int64(t.guessedTokens)),
                                                                 .int(Int64(t.acceptedGuesses))])))
            }
            return .object(members)
        case .toolCall(let step, let c):
            return .object([JSONMember("step", .int(Int64(step)))] + (call(c).objectValue ?? []))
        case .malformedCall(let step, let m):
            return .object([JSONMember("step", .int(Int64(step)))] + (malformed(m).objectValue ?? []))
        case .toolResult(let step, let r, let dispatched):
            return [
                "step": .int(Int64(step)), "call_id": .string(r.callID), "name": .string(r.name), "ok": .bool(r.ok),
                "dispatched": .bool(dispatched), "output": .string(r.output), "error": .optional(r.error),
                "exit_code": r.exitCode.map { .int(Int64($0)) } ?? .null, "duration_s": .number(r.durationSeconds),
                "output_sha256": .optional(r.fullOutputSHA256),
                "output_bytes": r.fullOutputBytes.map { .int(Int64($0)) } ?? .null,
                "metadata": .sortedObject(r.metadata),
            ]
        case .error(let step, let message):
            return ["step": step.map { .int(Int64($0)) } ?? .null, "message": .string(message)]
        case .final(let o):
            var members: [JSONMember] = [
                JSONMember("status", .string(o.status.rawValue)), JSONMember("reason", .string(o.reason)),
                JSONMember("answer", .optional(o.answer)), JSONMember("steps", .int(Int64(o.steps))),
                JSONMember("tokens", .int(Int64(o.tokens))), JSONMember("wall_s", .number(o.wallSeconds)),
            ]
            // Only runs that stopped for declared calls carry them, so other transcripts keep their shape.
            if !o.calls.isEmpty { members.append(JSONMember("calls", .array(o.calls.map(call)))) }
            return .object(members)
        }
    }

    static func call(_ c: ToolCall) -> JSONValue {
        var members: [JSONMember] = [JSONMember("call_id", .string(c.id)), JSONMember("name", .string(c.name)),
                                     JSONMember("arguments", c.arguments), JSONMember("recovered", .bool(c.recovered))]
        // Written only for calls that lost arguments to `ground_optional_arguments`, so others keep their shape.
        if let dropped = c.ungrounded { members.append(JSONMember("ungrounded", dropped)) }
        return .object(members)
    }

    static func malformed(_ m: MalformedToolCall) -> JSONValue {
        ["call_id": .string(m.id), "name": .optional(m.name), "raw": .string(m.raw), "malformed": .string(m.reason)]
    }

    /// Decode one event from its `type` and `payload`. Throws `FieldError` with a one-line message.
    static func event(type: String, payload: JSONValue) throws -> TranscriptEvent {
        let f = try JSONFields(payload, type)
        switch type {
        case "header":
            let m = try f.object("model")
            let model = ModelDescription(name: try m.string("name"), fileSHA256: try m.optionalString("sha256"),
                                         templateSHA256: try m.optionalString("template_sha256"),
                                         attention: try m.optionalString("attention"), endpoint: try m.optionalString("endpoint"))
            let tools = try f.array("tools").map { value -> ToolDeclaration in
                let fn = try JSONFields(value, "header.tools[]").object("function")
                return ToolDeclaration(name: try fn.string("name"), description: try fn.string("description"),
                                       parameters: try fn.raw("parameters"))
            }
            return .header(TranscriptHeader(
                runtimeVersion: try f.string("runtime"), spec: try f.raw("spec"), model: model,
                sampling: try SpecJSON.decodeSampling(try f.object("sampling")), threads: try f.optionalInt("threads"),
                tools: tools, sandboxed: try f.bool("sandboxed"), startedAt: try f.string("started_at")))
        case "message":
            let roleText = try f.string("role")
            guard let role = Message.Role(rawValue: roleText) else { throw f.fail("role", "system, user, assistant or tool") }
            return .message(Message(role: role, content: try f.string("content")))
        case "model_turn":
            let tokens = try f.array("tokens").map { v -> Int32 in
                guard case .int(let i) = v, let t = Int32(exactly: i) else { throw f.fail("tokens", "a list of token ids") }
                return t
            }
            guard let stop = StopReason(rawValue: try f.string("stop")) else { throw f.fail("stop", "eos, length, stop or tool_call") }
            let calls = try f.array("tool_calls").map { try decodeCall(try JSONFields($0, "model_turn.tool_calls[]")) }
            let bad = try f.array("malformed").map { try decodeMalformed(try JSONFields($0, "model_turn.malformed[]")) }
            var turn = ModelTurn(text: try f.string("text"), tokens: tokens, toolCalls: calls, malformedCalls: bad,
                                 content: try f.optionalString("content"), stop: stop,
                                 promptTokens: try f.int("prompt_tokens"), reusedTokens: try f.int("reused_tokens"),
                                 prefillSeconds: try f.double("prefill_s"), decodeSeconds: try f.double("decode_s"))
            if f.has("tool_choice") {
                guard let choice = ToolChoice(rawValue: try f.string("tool_choice")) else { throw f.fail("tool_choice", "auto, required or none") }
                turn.toolChoice = choice
            }
            if f.has("call_probability") {
                turn.callProbability = try f.double("call_probability")
                turn.callChosen = f.has("call_chosen") ? try f.bool("call_chosen") : false
            }
            if f.has("excluded_repeat") {
                let r = try f.object("excluded_repeat")
                turn.excludedRepeat = ToolCall(id: "", name: try r.string("name"), arguments: try r.raw("arguments"))
            }
            turn.untaggedOpening = try f.optionalString("untagged_opening")
            turn.reasoning = try f.optionalString("reasoning")
            turn.reasoningTokens = try f.optionalInt("reasoning_tokens") ?? 0
            turn.reasoningLooped = try f.optionalBool("reasoning_looped") ?? false
            if f.has("decode_spans") {
                turn.decodeSpans = try f.array("decode_spans").map { v -> DecodeSpan in
                    guard case .array(let a) = v, a.count == 3, case .int(let position) = a[0], case .int(let tokens) = a[1],
                          let ms = a[2].doubleValue, position >= 0, tokens > 0, ms >= 0 else {
                        throw f.fail("decode_spans", "a list of [position, tokens, milliseconds]")
                    }
                    return DecodeSpan(position: Int(position), tokens: Int(tokens), seconds: ms / 1000)
                }
            }
            if f.has("speculation") {
                guard case .array(let a) = try f.raw("speculation"), a.count == 3, case .int(let steps) = a[0],
                      case .int(let guessed) = a[1], case .int(let accepted) = a[2],
                      steps >= 0, guessed >= 0, accepted >= 0, accepted <= guessed else {
                    throw f.fail("speculation", "[passes, tokens guessed, guesses right]")
                }
                turn.guessSteps = Int(steps)
                turn.guessedTokens = Int(guessed)
                turn.acceptedGuesses = Int(accepted)
            }
            return .modelTurn(step: try f.int("step"), turn: turn)
        case "tool_call":
            if f.has("malformed") { return .malformedCall(step: try f.int("step"), call: try decodeMalformed(f)) }
            return .toolCall(step: try f.int("step"), call: try decodeCall(f))
        case "tool_result":
            var exit: Int32?
            if let code = try f.optionalInt("exit_code") {
                guard let c = Int32(exactly: code) else { throw f.fail("exit_code", "a 32-bit integer") }
                exit = c
            }
            let result = ToolResult(callID: try f.string("call_id"), name: try f.string("name"), ok: try f.bool("ok"),
                                    output: try f.string("output"), error: try f.optionalString("error"), exitCode: exit,
                                    durationSeconds: try f.double("duration_s"),
                                    fullOutputSHA256: try f.optionalString("output_sha256"),
                                    fullOutputBytes: try f.optionalInt("output_bytes"),
                                    metadata: f.has("metadata") ? try f.stringMap("metadata") : [:])
            return .toolResult(step: try f.int("step"), result: result, dispatched: try f.bool("dispatched"))
        case "error":
            return .error(step: try f.optionalInt("step"), message: try f.string("message"))
        case "final":
            guard let status = RunOutcome.Status(rawValue: try f.string("status")) else {
                throw f.fail("status", "final, failed, budget or calls")
            }
            let calls = f.has("calls") ? try f.array("calls").map { try decodeCall(JSONFields($0, "final.calls")) } : []
            return .final(RunOutcome(status: status, reason: try f.string("reason"), answer: try f.optionalString("answer"),
                                     steps: try f.int("steps"), tokens: try f.int("tokens"), wallSeconds: try f.double("wall_s"),
                                     calls: calls))
        default:
            throw FieldError(description: "unknown event type '\(type)'")
        }
    }

    static func decodeCall(_ f: JSONFields) throws -> ToolCall {
        var call = ToolCall(id: try f.string("call_id"), name: try f.string("name"), arguments: try f.raw("arguments"),
                            recovered: try f.bool("recovered"))
        if f.has("ungrounded") { call.ungrounded = try f.raw("ungrounded") }
        return call
    }

    static func decodeMalformed(_ f: JSONFields) throws -> MalformedToolCall {
        MalformedToolCall(id: try f.string("call_id"), raw: try f.string("raw"), name: try f.optionalString("name"),
                          reason: try f.string("malformed"))
    }
}
