import AgentCore
import Testing
@testable import loza

/// The calls a batch result lists: those that ran or were collected, never one the agent did not make happen.
@Suite struct BatchCallLogTests {
    static func call(_ id: String, _ city: String) -> ToolCall {
        ToolCall(id: id, name: "get_weather", arguments: ["city": .string(city)])
    }

    @Test func callsThatDidNotRunOrWereNotCollectedAreLeftOut() {
        let log = BatchCallLog()
        var notCollected = ToolResult(callID: "c3", name: "get_weather", ok: true, output: "OK")
        notCollected.metadata[DeclaredCallsMode.metadataKey] = "not collected: a variant of a collected call"
        var collected = ToolResult(callID: "c1", name: "get_weather", ok: true, output: "OK")
        collected.metadata[DeclaredCallsMode.metadataKey] = DeclaredCallsMode.collectedNote
        let events: [TranscriptEvent] = [
            .toolCall(step: 1, call: Self.call("c1", "Paris")),
            .toolResult(step: 1, result: collected, dispatched: false),
            .toolCall(step: 2, call: Self.call("c2", "Rome")),
            .toolResult(step: 2, result: ToolResult(callID: "c2", name: "get_weather", ok: true, output: "sunny"), dispatched: true),
            .toolCall(step: 2, call: Self.call("c3", "Paris")),
            .toolResult(step: 2, result: notCollected, dispatched: false),
            // Rejected (invalid arguments) or refused as a repeat: answered with an error, nothing ran.
            .toolCall(step: 3, call: Self.call("c4", "Oslo")),
            .toolResult(step: 3, result: .failure(callID: "c4", name: "get_weather", error: "invalid arguments"), dispatched: false),
            // Ran and failed: the tool ran, so the call is listed.
            .toolCall(step: 3, call: Self.call("c5", "Bern")),
            .toolResult(step: 3, result: .failure(callID: "c5", name: "get_weather", error: "no such city"), dispatched: true),
        ]
        for event in events { log.note(event) }
        #expect(log.all.map { $0["arguments"]?["city"]?.stringValue ?? "" } == ["Paris", "Rome", "Bern"])
    }
}
