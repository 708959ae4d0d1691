import AgentCore
import AgentTesting
import Testing
@testable import Agent
@testable import SpecParser
@testable import TranscriptIO

/// `ground_optional_arguments`: optional arguments the model did not take from the conversation are dropped
/// before the call runs (and recorded as `ungrounded`); required ones, grounded ones and defaults stay.
@Suite struct ArgumentGroundingTests {
    static let area = ToolDeclaration(
        name: "triangle_area", description: "Area of a triangle.",
        parameters: ["type": "object", "properties": [
            "base": ["type": "number"], "height": ["type": "number"],
            "unit": ["type": "string"], "precision": ["type": "integer", "default": 2],
            "exact": ["type": "boolean"], "tags": ["type": "array", "items": ["type": "string"]],
        ], "required": ["base", "height"]])

    static func grounding(_ texts: [Message]) -> ArgumentGrounding { ArgumentGrounding(conversation: texts) }

    @Test func ungroundedOptionalValuesAreDroppedAndRequiredOnesKept() {
        let g = Self.grounding([.system("Units: Fahrenheit, inches, 17."), .user("Area of a triangle with base 10 and height 5?")])
        let call = ToolCall(id: "c", name: "triangle_area",
                            arguments: ["base": 10, "height": 7, "unit": "inches", "precision": 17, "exact": true, "tags": ["x"]])
        let out = g.ground(call, parameters: Self.area.parameters)
        // height 7 is wrong but required: kept. unit and precision come from nowhere the user or a tool wrote
        // (the system prompt is not evidence): dropped. Booleans and arrays are kept.
        #expect(out.arguments == ["base": 10, "height": 7, "exact": true, "tags": ["x"]])
        #expect(out.ungrounded == ["unit": "inches", "precision": 17])
    }

    @Test func valuesFromTheUserOrAToolResultOrTheDefaultStay() {
        let result = ToolResult(callID: "c0", name: "lookup", ok: true, output: "stored in CENTIMETERS, precision 1,250.5")
        let g = Self.grounding([.user("Base 10 and height 5.5, in centimeters please."), .tool(result)])
        let call = ToolCall(id: "c", name: "triangle_area", arguments: ["base": 10, "height": 5.5, "unit": " Centimeters ", "precision": 2])
        #expect(g.ground(call, parameters: Self.area.parameters) == call)
        // 1,250.5 reads as 1250.5 (and its pieces); a sign does not matter; an empty string is no invention.
        for value: JSONValue in [1250.5, 250.5, 1, -5.5, ""] {
            let key = value.stringValue == nil ? "precision" : "unit"
            let c = ToolCall(id: "c", name: "triangle_area", arguments: .object([JSONMember("base", 10), JSONMember("height", 5),
                                                                                 JSONMember(key, value)]))
            #expect(g.ground(c, parameters: Self.area.parameters).ungrounded == nil, "\(value)")
        }
        let other = ToolCall(id: "c", name: "triangle_area", arguments: ["base": 10, "height": 5, "precision": 3])
        #expect(g.ground(other, parameters: Self.area.parameters).ungrounded == ["precision": 3])
    }

    /// A relative path written from the current directory names what the user named without `./`; `.`
    /// is the current directory. Other prefixes are other paths.
    @Test func aPathFromTheCurrentDirectoryIsTheSamePath() {
        let g = Self.grounding([.user("Look in the data folder.")])
        for value: JSONValue in ["./data", "././data", "data", ".", "./"] {
            #expect(g.isGrounded(value, default: nil), "\(value)")
        }
        for value: JSONValue in ["/data", "../data", "./src", "~/data"] {
            #expect(!g.isGrounded(value, default: nil), "\(value)")
        }
    }

    /// Counts written as words are the user's numbers ("next three days", "two tickets", "top ten").
    @Test func numbersWrittenInWordsAreGrounded() {
        let words = NumberWords.values(in: "Next three days; twenty-five rows, two hundred and five pages, a dozen eggs, "
            + "50 million shares, 1.5 billion, two thousand people, one hundred thousand.")
        for value: Double in [3, 25, 20, 5, 205, 12, 50_000_000, 1_500_000_000, 2_000, 100_000] {
            #expect(words.contains(value), "\(value)")
        }
        // Ordinals are prose ("the first charge"); "and" joins only after a scale word; no word, no number.
        #expect(NumberWords.values(in: "the first charge, wait a second, the fifth floor") == [])
        #expect(!NumberWords.values(in: "between one and two").contains(3))
        #expect(NumberWords.values(in: "someone often bones") == [])
        // Punctuation ends a run; digits before a scale word multiply and start no run of words.
        #expect(NumberWords.values(in: "1.5 billion, two thousand") == [1_500_000_000, 1_000_000_000, 2, 1_000, 2_000])
        let g = Self.grounding([.user("Triangle with base ten and height five, to three places.")])
        let call = ToolCall(id: "c", name: "triangle_area", arguments: ["base": 10, "height": 5, "precision": 3])
        #expect(g.ground(call, parameters: Self.area.parameters) == call)
        let invented = ToolCall(id: "c", name: "triangle_area", arguments: ["base": 10, "height": 5, "precision": 4])
        #expect(g.ground(invented, parameters: Self.area.parameters).ungrounded == ["precision": 4])
    }

    /// Dates as people write them ground the ISO date a tool wants; without a year nothing is grounded.
    @Test func writtenDatesGroundTheirISOForm() {
        let dates = WrittenDates.isoDates(in: "Forecast for April 11th, 2023 and the 2nd of march 2023; also 4 Mar 2023, "
            + "2023-05-06, 7/8/2024 and 31.12.2022. Not May 5 nor 2023.")
        #expect(dates == ["2023-04-11", "2023-03-02", "2023-03-04", "2023-05-06", "2024-07-08", "2024-08-07", "2022-12-31"])
        let g = Self.grounding([.user("Weather in Pacifica on April 11th, 2023, at 20% humidity?")])
        #expect(g.isGrounded("2023-04-11", default: nil))
        #expect(!g.isGrounded("2023-04-12", default: nil))
        #expect(g.isGrounded(0.2, default: nil) && g.isGrounded(20, default: nil))
        #expect(!g.isGrounded(0.02, default: nil))
        #expect(ArgumentGrounding.percentages(in: "a 7.5 percent rate, (15%), 3 % off") == [0.075, 0.15])
    }

    @Test func argumentsTheSchemaDoesNotDescribeOrThatWouldBreakItStay() {
        let g = Self.grounding([.user("hello")])
        let free = ToolCall(id: "c", name: "t", arguments: ["mode": "fast"])
        #expect(g.ground(free, parameters: ["type": "object"]) == free)
        let atLeastOne: JSONValue = ["type": "object", "properties": ["a": ["type": "string"]], "minProperties": 1]
        let one = ToolCall(id: "c", name: "t", arguments: ["a": "invented"])
        #expect(g.ground(one, parameters: atLeastOne) == one)
    }

    func run(ground: Bool) async -> (RunOutcome, [TranscriptEvent], FakeTool) {
        let tool = FakeTool(name: Self.area.name, parameters: Self.area.parameters) { _ in (true, "25", nil) }
        let model = ScriptedModel([
            ScriptedModel.call("triangle_area", ["base": 10, "height": 5, "unit": "furlongs"], id: "c1"),
            ScriptedModel.answer("25"),
        ])
        let sink = MemorySink()
        var spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "Triangle, base 10, height 5: its area?")
        spec.groundOptionalArguments = ground
        let header = TranscriptHeader(runtimeVersion: "test", spec: SpecJSON.encode(spec), model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: [Self.area])
        let outcome = await AgentLoop(model: model, tools: [tool], sink: sink).run(spec, header: header)
        return (outcome, sink.events, tool)
    }

    @Test func theLoopRunsTheGroundedCallAndRecordsWhatItDropped() async throws {
        let (outcome, events, tool) = await run(ground: true)
        #expect(outcome.status == .final && tool.calls.count == 1)
        #expect(tool.calls.first?.arguments == ["base": 10, "height": 5])
        let recorded = try #require(events.compactMap { e -> ToolCall? in if case .toolCall(_, let c) = e { c } else { nil } }.first)
        #expect(recorded.arguments == ["base": 10, "height": 5] && recorded.ungrounded == ["unit": "furlongs"])
        // The event reads back with what was dropped; the model's turn keeps the call as written.
        let payload = EventCodec.payload(.toolCall(step: 1, call: recorded))
        guard case .toolCall(_, let back) = try EventCodec.event(type: "tool_call", payload: payload) else { Issue.record("not a call"); return }
        #expect(back == recorded)
        let turn = try #require(events.compactMap { e -> ModelTurn? in if case .modelTurn(_, let t) = e { t } else { nil } }.first)
        #expect(turn.toolCalls.first?.arguments == ["base": 10, "height": 5, "unit": "furlongs"])

        let (_, plainEvents, plainTool) = await run(ground: false)
        #expect(plainTool.calls.first?.arguments == ["base": 10, "height": 5, "unit": "furlongs"])
        #expect(!plainEvents.contains { if case .toolCall(_, let c) = $0 { c.ungrounded != nil } else { false } })
    }

    /// The same call written again is a repeat even when grounding now keeps more of it: the first result
    /// put "furlongs" in the conversation, so the second writing keeps `unit`, but the model wrote the
    /// identical call (a read of `start_line: 1` after a result that shows line 1 ran twice this way).
    @Test func theSameCallWrittenAgainIsARepeatThoughGroundingNowKeepsMore() async {
        let tool = FakeTool(name: Self.area.name, parameters: Self.area.parameters) { _ in (true, "25 square furlongs", nil) }
        let again = ["base": 10, "height": 5, "unit": "furlongs"] as JSONValue
        let model = ScriptedModel([
            ScriptedModel.call("triangle_area", again, id: "c1"),
            ScriptedModel.call("triangle_area", again, id: "c2"),
            ScriptedModel.answer("25"),
        ])
        let sink = MemorySink()
        let spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "Triangle, base 10, height 5: its area?")
        let header = TranscriptHeader(runtimeVersion: "test", spec: SpecJSON.encode(spec), model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: [Self.area])
        let outcome = await AgentLoop(model: model, tools: [tool], sink: sink).run(spec, header: header)
        #expect(outcome.status == .final && outcome.answer == "25")
        #expect(tool.calls.count == 1 && tool.calls.first?.arguments == ["base": 10, "height": 5])
        let results = sink.events.compactMap { e -> ToolResult? in if case .toolResult(_, let r, _) = e { r } else { nil } }
        #expect(results.count == 2 && results.last?.metadata["repeated_call"] != nil)
        // Two different writings that ground to the call that ran are a repeat too (the same thing would run).
        let tool2 = FakeTool(name: Self.area.name, parameters: Self.area.parameters) { _ in (true, "25", nil) }
        let model2 = ScriptedModel([
            ScriptedModel.call("triangle_area", ["base": 10, "height": 5, "unit": "furlongs"], id: "c1"),
            ScriptedModel.call("triangle_area", ["base": 10, "height": 5], id: "c2"),
            ScriptedModel.answer("25"),
        ])
        _ = await AgentLoop(model: model2, tools: [tool2], sink: MemorySink()).run(spec, header: header)
        #expect(tool2.calls.count == 1)
    }

    @Test func theSpecKeyIsOnByDefaultAndOffForOldTranscripts() throws {
        let on = try SpecParser.parse(yaml: "name: t\nprompt: hi\nground_optional_arguments: true\n", file: "t.yaml", baseDirectory: "/")
        #expect(on.groundOptionalArguments)
        #expect(try SpecJSON.decode(SpecJSON.encode(on)).groundOptionalArguments)
        let plain = try SpecParser.parse(yaml: "name: t\nprompt: hi\n", file: "t.yaml", baseDirectory: "/")
        #expect(plain.groundOptionalArguments, "on by default")
        #expect(try SpecJSON.decode(SpecJSON.encode(plain)).groundOptionalArguments)
        let off = try SpecParser.parse(yaml: "name: t\nprompt: hi\nground_optional_arguments: false\n", file: "t.yaml", baseDirectory: "/")
        let offBack = try SpecJSON.decode(SpecJSON.encode(off))
        #expect(!off.groundOptionalArguments && !offBack.groundOptionalArguments)
        var old = SpecJSON.encode(plain).objectValue ?? []
        old.removeAll { $0.key == "ground_optional_arguments" }
        #expect(try SpecJSON.decode(.object(old)).groundOptionalArguments == false)
        #expect(throws: SpecError.self) { try SpecParser.parse(yaml: "name: t\nprompt: hi\nground_optional_arguments: maybe\n", file: "t.yaml", baseDirectory: "/") }
    }
}
