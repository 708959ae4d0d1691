import Agent
import AgentCore
import AgentTesting
import Testing

@Suite struct ToolDispatcherTests {
    @Test func unknownToolIsRejectedNamingTheToolsThereAre() async {
        let add = FakeTool.add()
        let dispatcher = ToolDispatcher(tools: [add, FakeTool.echo()])
        let (result, ran) = await dispatcher.dispatch(ToolCall(id: "c1", name: "rm", arguments: [:]))
        #expect(!ran && !result.ok && result.callID == "c1" && result.name == "rm")
        #expect(result.error == "unknown tool 'rm'; available: add, echo")
        #expect(add.calls.isEmpty)
        let (none, _) = await ToolDispatcher(tools: []).dispatch(ToolCall(id: "c2", name: "rm", arguments: [:]))
        #expect(none.error == "unknown tool 'rm'; no tools are available")
    }

    @Test func argumentsThatDoNotFitTheSchemaAreRejectedAndTheToolDoesNotRun() async {
        let add = FakeTool.add()
        let dispatcher = ToolDispatcher(tools: [add])
        let (wrongType, ran) = await dispatcher.dispatch(ToolCall(id: "c1", name: "add", arguments: ["a": "two", "b": 3]))
        #expect(!ran && wrongType.callID == "c1")
        #expect(wrongType.error == "invalid arguments for add: arguments.a: expected integer, got string")
        let (missing, _) = await dispatcher.dispatch(ToolCall(id: "c2", name: "add", arguments: ["a": 1]))
        #expect(missing.error?.hasPrefix("invalid arguments for add: ") == true)
        #expect(add.calls.isEmpty)
        // The route says why before anything runs; dispatching answers with that reason.
        let call = ToolCall(id: "c3", name: "add", arguments: ["b": 1])
        guard case .rejected(let why) = dispatcher.route(call) else {
            Issue.record("routed an invalid call to its tool")
            return
        }
        #expect(await dispatcher.dispatch(call).result.error == why)
    }

    @Test func aValidCallRunsItsToolOnce() async {
        let add = FakeTool.add()
        let (result, ran) = await ToolDispatcher(tools: [FakeTool.echo(), add]).dispatch(ToolCall(id: "c1", name: "add", arguments: ["a": 2, "b": 3]))
        #expect(ran && result.ok && result.output == "5" && result.callID == "c1")
        #expect(add.calls.map(\.id) == ["c1"] && add.calls.map(\.arguments) == [["a": 2, "b": 3]])
    }

    @Test func aFailingToolIsAFailedResultOfACallThatRan() async {
        let broken = FakeTool.failing("broken", error: "exit status 2")
        let (result, ran) = await ToolDispatcher(tools: [broken]).dispatch(ToolCall(id: "c1", name: "broken", arguments: [:]))
        #expect(ran && !result.ok && result.error == "exit status 2" && result.output == "partial output")
        #expect(result.modelText == "error: exit status 2\npartial output")
        #expect(broken.calls.count == 1)
    }

    @Test func theResultIsPairedWithTheCallItAnswers() async {
        let (result, ran) = await ToolDispatcher(tools: [ForgetfulTool()]).dispatch(ToolCall(id: "call_7", name: "forgetful", arguments: [:]))
        #expect(ran && result.callID == "call_7" && result.output == "done")
    }

    @Test func theFirstToolOfANameWins() async {
        let first = FakeTool(name: "t") { _ in (true, "first", nil) }
        let second = FakeTool(name: "t") { _ in (true, "second", nil) }
        let dispatcher = ToolDispatcher(tools: [first, second])
        let (result, _) = await dispatcher.dispatch(ToolCall(id: "c1", name: "t", arguments: [:]))
        #expect(result.output == "first" && second.calls.isEmpty)
        #expect(dispatcher.declarations.map(\.name) == ["t", "t"])
    }
}

/// A tool that answers under an id of its own.
struct ForgetfulTool: Tool {
    let declaration = ToolDeclaration(name: "forgetful", description: "", parameters: ["type": "object"])
    func call(id: String, arguments: JSONValue) async -> ToolResult {
        ToolResult(callID: "something else", name: "forgetful", ok: true, output: "done")
    }
}
