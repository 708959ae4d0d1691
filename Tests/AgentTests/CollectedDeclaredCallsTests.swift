@testable import Agent
import AgentCore
import AgentTesting
import SpecParser
import Testing
@testable import TranscriptIO

/// `declared_calls: collect`: declared calls are acknowledged and collected while the model makes new ones;
/// the run ends with every distinct call at the first turn that adds none.
@Suite struct CollectedDeclaredCallsTests {
    static let weather = ToolDeclaration(
        name: "get_weather", description: "Weather of a city.",
        parameters: ["type": "object", "properties": ["city": ["type": "string"], "units": ["type": "string"]], "required": ["city"]])
    static let time = ToolDeclaration(name: "get_time", description: "The time.",
                                      parameters: ["type": "object", "properties": ["zone": ["type": "string"]]])

    func run(_ script: [ScriptedModel.Step], steps: Int = 20, followUps: [String] = [])
        async -> (RunOutcome, [TranscriptEvent], ScriptedModel)
    {
        let model = ScriptedModel(script)
        let sink = MemorySink()
        var spec = TaskSpec(name: "t", model: .local("scripted"), prompt: "Weather in Paris, London, Rome and Oslo?")
        spec.declaredCalls = .collect
        spec.limits.steps = steps
        spec.followUps = followUps
        let tools: [any Tool] = [DeclaredTool(Self.weather), DeclaredTool(Self.time)]
        let header = TranscriptHeader(runtimeVersion: "test", spec: ["name": "t"], model: ModelDescription(name: "scripted"),
                                      sampling: SamplingOptions(), tools: tools.map(\.declaration))
        let outcome = await AgentLoop(model: model, tools: tools, sink: sink).run(spec, header: header)
        return (outcome, sink.events, model)
    }

    static func city(_ name: String, id: String, units: String? = nil) -> ToolCall {
        var arguments: [JSONMember] = [JSONMember("city", .string(name))]
        if let units { arguments.append(JSONMember("units", .string(units))) }
        return ToolCall(id: id, name: "get_weather", arguments: .object(arguments))
    }

    static func turn(_ calls: ToolCall...) -> ScriptedModel.Step {
        .turn(ModelTurn(text: "", tokens: [1], toolCalls: calls, stop: .toolCall))
    }

    @Test func callsAreAcknowledgedAndCollectedUntilATurnAddsNone() async {
        let (outcome, events, model) = await run([
            Self.turn(Self.city("Paris", id: "c1")),
            Self.turn(Self.city("London", id: "c2")),
            Self.turn(Self.city("Paris", id: "c3")),
            ScriptedModel.answer("never reached"),
        ])
        #expect(outcome.status == .calls && outcome.exitCode == 0 && outcome.steps == 3)
        #expect(outcome.calls.map(\.id) == ["c1", "c2"])
        #expect(outcome.reason.hasPrefix("the model made no new declared call"), "\(outcome.reason)")
        // The model saw each call answered "OK", paired by id.
        #expect(model.conversations.count == 3)
        #expect(model.conversations[1].last?.role == .tool && model.conversations[1].last?.content == "OK")
        let results = events.compactMap { event -> ToolResult? in
            // Answered by the loop, not run: not dispatched.
            if case .toolResult(_, let r, false) = event { return r } else { return nil }
        }
        #expect(results.map(\.callID) == ["c1", "c2", "c3"] && results.allSatisfy(\.ok))
        #expect(results.map { $0.metadata["declared_call"] ?? "" }
                == ["collected for the caller", "collected for the caller", CollectedCalls.Refusal.variant.note])
    }

    @Test func aCallDifferingOnlyInOptionalArgumentsIsAVariant() async {
        let (outcome, _, _) = await run([
            Self.turn(Self.city("Paris", id: "c1"), Self.city("London", id: "c2")),
            Self.turn(Self.city("Paris", id: "c3", units: "kelvin"), Self.city("London", id: "c4", units: "kelvin")),
            ScriptedModel.answer("never reached"),
        ])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c1", "c2"] && outcome.steps == 2)
        // A turn that adds one new call among variants goes on.
        let (goesOn, _, _) = await run([
            Self.turn(Self.city("Paris", id: "c1")),
            Self.turn(Self.city("Paris", id: "c2", units: "kelvin"), Self.city("Rome", id: "c3")),
            ScriptedModel.answer("Done."),
        ])
        #expect(goesOn.status == .calls && goesOn.calls.map(\.id) == ["c1", "c3"] && goesOn.answer == "Done.")
        #expect(goesOn.reason.hasPrefix("the model gave a final answer"), "\(goesOn.reason)")
    }

    /// A further call whose required values are all values of one collected call (swapped between arguments,
    /// a list reordered, case and surrounding spaces aside, one of them twice) restates it and is not
    /// collected; a call with a value of its own is a new item, even when it shares the others.
    @Test func aCallWithTheValuesOfACollectedOneInOtherPlacesRestatesIt() {
        let schema: JSONValue = ["type": "object", "properties": [
            "f": ["type": "string"], "g": ["type": "string"], "items": ["type": "array", "items": ["type": "string"]],
            "n": ["type": "number"],
        ], "required": ["f", "g", "items", "n"]]
        func call(_ id: String, _ f: String, _ g: String, _ items: [JSONValue], _ n: JSONValue) -> ToolCall {
            ToolCall(id: id, name: "intersect", arguments: .object([JSONMember("f", .string(f)), JSONMember("g", .string(g)),
                                                                     JSONMember("items", .array(items)), JSONMember("n", n)]))
        }
        var collected = CollectedCalls()
        #expect(collected.add(call("a", "3x+2", "2x+3", ["chicken", "rice"], 5), parameters: schema) == nil)
        #expect(collected.add(call("b", "2x+3", "3x+2", ["rice", "chicken"], 5.0), parameters: schema) == .restated)
        #expect(collected.add(call("c", " 2X+3", "2x+3", ["Chicken"], 5), parameters: schema) == .restated)
        #expect(collected.add(call("d", "2x+3", "3x+2", ["chicken", "rice"], 6), parameters: schema) == nil)
        #expect(collected.add(call("e", "3x+2", "2x+3", ["chicken", "rice", "beans"], 5), parameters: schema) == nil)
        #expect(collected.calls.map(\.id) == ["a", "d", "e"])
        #expect(CollectedCalls.Refusal.restated.note.hasPrefix("not collected: "))
    }

    @Test func aToolWithNoRequiredArgumentIsIdentifiedByAllOfThemInAnyOrder() {
        var collected = CollectedCalls()
        let schema = Self.time.parameters
        let refusals = [
            collected.add(ToolCall(id: "a", name: "get_time", arguments: ["zone": "UTC"]), parameters: schema),
            collected.add(ToolCall(id: "b", name: "get_time", arguments: .object([JSONMember("zone", "CET"), JSONMember("fmt", "iso")])),
                          parameters: schema),
            collected.add(ToolCall(id: "c", name: "get_time", arguments: ["zone": "UTC"]), parameters: schema),
            collected.add(ToolCall(id: "d", name: "get_time", arguments: .object([JSONMember("fmt", "iso"), JSONMember("zone", "CET")])),
                          parameters: schema),
        ]
        #expect(refusals == [nil, nil, .variant, .variant])
        #expect(collected.calls.map(\.id) == ["a", "b"])
    }

    @Test func afterTheFirstCallAnotherToolIsCollectedOnlyWithValuesOfItsOwn() async {
        var collected = CollectedCalls()
        #expect(collected.add(Self.city("Oslo", id: "a"), parameters: Self.weather.parameters) == nil)
        // The value the first call used, again (case and spaces aside): not a further item.
        #expect(collected.add(ToolCall(id: "b", name: "get_time", arguments: ["zone": " oslo"]), parameters: Self.time.parameters)
                == .otherTool)
        // No string or number at all: nothing of its own.
        #expect(collected.add(ToolCall(id: "c", name: "get_time", arguments: [:]), parameters: Self.time.parameters) == .otherTool)
        #expect(collected.add(ToolCall(id: "d", name: "get_time", arguments: ["zone": "CET"]), parameters: Self.time.parameters)
                == nil)
        #expect(collected.calls.map(\.id) == ["a", "d"])
        // In a run: a value of its own must also be in the conversation ("CET" is not; "London" is). The
        // other calls are answered OK but not collected, and a turn with only such calls ends the run.
        let (outcome, events, _) = await run([
            Self.turn(Self.city("Paris", id: "c1")),
            Self.turn(ToolCall(id: "c2", name: "get_time", arguments: ["zone": "CET"]), Self.city("Rome", id: "c3")),
            Self.turn(ToolCall(id: "c4", name: "get_time", arguments: ["zone": "London"])),
            Self.turn(Self.city("Paris", id: "c5")),
            ScriptedModel.answer("never reached"),
        ])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c1", "c3", "c4"] && outcome.steps == 4)
        let notes = events.compactMap { event -> String? in
            if case .toolResult(_, let r, _) = event { return r.metadata["declared_call"] } else { return nil }
        }
        #expect(notes == ["collected for the caller", CollectedCalls.Refusal.otherTool.note, "collected for the caller",
                          "collected for the caller", CollectedCalls.Refusal.variant.note])
    }

    @Test func theStepBudgetEndsTheRunWithTheCallsCollected() async {
        let (outcome, _, _) = await run([
            Self.turn(Self.city("Paris", id: "c1")),
            Self.turn(Self.city("London", id: "c2")),
            Self.turn(Self.city("Rome", id: "c3")),
        ], steps: 2)
        #expect(outcome.status == .calls && outcome.exitCode == 0 && outcome.calls.map(\.id) == ["c1", "c2"])
        #expect(outcome.reason.contains("step") && outcome.reason.contains("2 declared calls collected"), "\(outcome.reason)")
        // Acknowledged steps are not failed steps (three of those in a row end a run).
        let (long, _, _) = await run(["Paris", "London", "Rome", "Oslo"].enumerated().map { Self.turn(Self.city($1, id: "c\($0)")) }
                                     + [ScriptedModel.answer("Done.")])
        #expect(long.status == .calls && long.calls.count == 4 && long.steps == 5, "\(long.reason)")
    }

    @Test func aFurtherCallWhoseRequiredValueIsNotInTheConversationIsNotCollected() async {
        let (outcome, events, _) = await run([
            Self.turn(Self.city("Paris", id: "c1")),
            Self.turn(Self.city("Berlin", id: "c2"), Self.city("Oslo", id: "c3")),
            Self.turn(Self.city("Madrid", id: "c4")),
            ScriptedModel.answer("never reached"),
        ])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c1", "c3"] && outcome.steps == 3)
        let notes = events.compactMap { event -> String? in
            if case .toolResult(_, let r, _) = event { return r.metadata["declared_call"] } else { return nil }
        }
        #expect(notes[1] == CollectedCalls.Refusal.ungrounded.note && notes[3] == CollectedCalls.Refusal.ungrounded.note)
        // The first call is the model's reading of the request and is never held to it; arrays and objects are
        // looked into.
        var collected = CollectedCalls()
        let grounding = ArgumentGrounding(conversation: [.user("Compare 3 and 4.5 for Ada")])
        let schema: JSONValue = ["type": "object", "properties": ["xs": ["type": "array"]], "required": ["xs"]]
        let refusals = [
            collected.add(ToolCall(id: "a", name: "f", arguments: ["xs": [1, 2]]), parameters: schema, grounding: grounding),
            collected.add(ToolCall(id: "b", name: "f", arguments: ["xs": [3, 4.5]]), parameters: schema, grounding: grounding),
            collected.add(ToolCall(id: "c", name: "f", arguments: ["xs": [3, 5]]), parameters: schema, grounding: grounding),
            collected.add(ToolCall(id: "d", name: "f", arguments: ["xs": [["who": "ada"]]]), parameters: schema, grounding: grounding),
            collected.add(ToolCall(id: "e", name: "f", arguments: ["xs": [["who": "bob"]]]), parameters: schema, grounding: grounding),
        ]
        #expect(refusals == [nil, nil, .ungrounded, nil, .ungrounded])
    }

    @Test func laterTurnsMayNotWriteAnAcknowledgedCallAgain() async {
        // The calls as written (before grounding), collected or not, are excluded from every later turn.
        let (outcome, _, model) = await run([
            Self.turn(Self.city("Paris", id: "c1", units: "metric")),
            Self.turn(Self.city("Paris", id: "c2"), Self.city("Oslo", id: "c3")),
            Self.turn(Self.city("Paris", id: "c4", units: "metric")),
            ScriptedModel.answer("never reached"),
        ])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c1", "c3"] && outcome.steps == 3)
        let acknowledged = model.samplingShown.map { $0.acknowledgedCalls.map(\.id) }
        #expect(acknowledged == [[], ["c1"], ["c1", "c2", "c3"]], "\(acknowledged)")
        let noneExcluded = model.samplingShown.allSatisfy { $0.excludedCalls.isEmpty }
        #expect(noneExcluded)
    }

    @Test func aFurtherItemMayQualifyANameFromTheRequestOrShareACollectedSetting() {
        let grounding = ArgumentGrounding(conversation: [.user("Weather for Boston, MA and also San Francisco, on one CPU?")])
        let schema: JSONValue = ["type": "object", "properties": ["city": ["type": "string"], "cpu": ["type": "string"]],
                                 "required": ["city", "cpu"]]
        func call(_ id: String, _ city: String, _ cpu: String) -> ToolCall {
            ToolCall(id: id, name: "f", arguments: ["city": .string(city), "cpu": .string(cpu)])
        }
        var collected = CollectedCalls()
        let refusals = [
            collected.add(call("a", "Boston, MA", "single"), parameters: schema, grounding: grounding),
            // A name from the request with a short qualifier; the CPU the first call gave.
            collected.add(call("b", "San Francisco, CA", "single"), parameters: schema, grounding: grounding),
            // An invented name, qualified or not; a long qualifier; another setting nobody gave.
            collected.add(call("c", "Denver, CO", "single"), parameters: schema, grounding: grounding),
            collected.add(call("d", "San Francisco, the city by the bay", "single"), parameters: schema, grounding: grounding),
            collected.add(call("e", "San Francisco, CA, USA", "single"), parameters: schema, grounding: grounding),
            collected.add(call("f", "San Francisco", "dual"), parameters: schema, grounding: grounding),
            // The same name with another qualifier is the same item.
            collected.add(call("g", "Boston, US", "single"), parameters: schema, grounding: grounding),
        ]
        // ("San Francisco, CA, USA" pads the collected "San Francisco, CA": the same item again.)
        #expect(refusals == [nil, nil, .ungrounded, .ungrounded, .restated, .ungrounded, .restated])
        // A tool that requires nothing is held to the conversation by all its arguments.
        let open: JSONValue = ["type": "object", "properties": ["memory": ["type": "integer"], "cpu": ["type": "string"]]]
        let pricing = ArgumentGrounding(conversation: [.user("Price of 2 and 4 GB machines, one CPU?")])
        var machines = CollectedCalls()
        let machineRefusals = [
            machines.add(ToolCall(id: "a", name: "p", arguments: ["memory": 2, "cpu": "single"]), parameters: open, grounding: pricing),
            machines.add(ToolCall(id: "b", name: "p", arguments: ["memory": 4, "cpu": "single"]), parameters: open, grounding: pricing),
            machines.add(ToolCall(id: "c", name: "p", arguments: ["memory": 4, "cpu": "dual"]), parameters: open, grounding: pricing),
        ]
        #expect(machineRefusals == [nil, nil, .ungrounded])
        // Each tool's item paired with the other tool: values only the other tool's calls had.
        let place: JSONValue = ["type": "object", "properties": ["location": ["type": "string"]], "required": ["location"]]
        let places = ArgumentGrounding(conversation: [.user("News for Paris, France and the weather in Letterkenny, Ireland?")])
        var paired = CollectedCalls()
        let pairedRefusals = [
            paired.add(ToolCall(id: "a", name: "news", arguments: ["location": "Paris, France"]), parameters: place, grounding: places),
            paired.add(ToolCall(id: "b", name: "weather", arguments: ["location": "Letterkenny, Ireland"]), parameters: place, grounding: places),
            paired.add(ToolCall(id: "c", name: "news", arguments: ["location": "Letterkenny, Ireland"]), parameters: place, grounding: places),
            paired.add(ToolCall(id: "d", name: "weather", arguments: ["location": "Paris"]), parameters: place, grounding: places),
        ]
        #expect(pairedRefusals == [nil, nil, .restated, .restated])
        // A value inside a collected one, or around it, is the same item shortened or padded.
        let events = ArgumentGrounding(conversation: [.user("Facts on the Treaty of Paris and the Magna Carta, please.")])
        let event: JSONValue = ["type": "object", "properties": ["event": ["type": "string"]], "required": ["event"]]
        var facts = CollectedCalls()
        let factRefusals = ["Treaty of Paris", "Magna Carta", "The Treaty of Paris", "Paris"].map {
            facts.add(ToolCall(id: $0, name: "fact", arguments: ["event": .string($0)]), parameters: event, grounding: events)
        }
        #expect(factRefusals == [nil, nil, .restated, .restated])
        // The acknowledgement a collected call is answered with is no evidence.
        let acknowledged = ArgumentGrounding(conversation: [.user("Ask for the network name."),
                                                           .tool(ToolResult(callID: "a", name: "ask", ok: true, output: DeclaredCallsMode.acknowledgement))])
        #expect(!acknowledged.isGrounded(.string("OK"), default: nil))
    }

    @Test func aModelErrorStaysAFailureWithTheCallsAttached() async {
        let (outcome, _, _) = await run([Self.turn(Self.city("Paris", id: "c1")), .fail("server went away")])
        #expect(outcome.status == .failed && outcome.exitCode == 1 && outcome.calls.map(\.id) == ["c1"])
        #expect(outcome.reason.hasPrefix("model error"), "\(outcome.reason)")
    }

    @Test func aTextReplyEndsTheRunBeforeAnyFollowUpPrompt() async {
        let (outcome, _, model) = await run([
            Self.turn(Self.city("Paris", id: "c1")),
            ScriptedModel.answer("Asked for Paris."),
        ], followUps: ["And Rome?"])
        #expect(outcome.status == .calls && outcome.calls.map(\.id) == ["c1"] && outcome.answer == "Asked for Paris.")
        #expect(model.conversations.count == 2)
    }

    @Test func theSpecKeyParsesRoundTripsAndNamesABadValue() throws {
        func parse(_ yaml: String) throws -> TaskSpec { try SpecParser.parse(yaml: yaml, file: "task.yaml", baseDirectory: "/") }
        let plain = try parse("name: t\nprompt: hi\n")
        #expect(plain.declaredCalls == .end)
        #expect(SpecJSON.encode(plain).objectValue?.contains { $0.key == "declared_calls" } == false)
        let collect = try parse("name: t\nprompt: hi\ndeclared_calls: collect\n")
        let back = try SpecJSON.decode(SpecJSON.encode(collect))
        #expect(collect.declaredCalls == .collect && back.declaredCalls == .collect)
        do {
            _ = try parse("name: t\nprompt: hi\ndeclared_calls: gather\n")
            Issue.record("a bad value parsed")
        } catch let e as SpecError {
            #expect("\(e)" == "task.yaml:3:17: declared_calls: expected end or collect, got 'gather'", "\(e)")
        }
    }
}
