import Agent
import AgentCore
import Foundation
import TestSupport
import Testing
import Tools
import TranscriptIO
@testable import loza

/// `RunContext` in process, with real tools: the calculator plugin and the PyPI MCP time server, whose sandbox
/// processes carry a marker in their command line (`--setenv LOZA_TEST_MARKER ...`), so the test can see them
/// come and go.
@Suite(.serialized) struct RunContextTests {
    let marker = "loza-test-\(UUID().uuidString)"

    func spec(sandbox: SandboxSettings = SandboxSettings(), model: String = "smollm2-135m-instruct") throws -> TaskSpec {
        let server = RunTeardownTests.mcpTimeServer
        try #require(FileManager.default.isExecutableFile(atPath: server), "run scripts/install-mcp-servers.sh")
        return TaskSpec(name: "context", model: .local(model), prompt: "What time is it?",
                        tools: [.exec(path: CLI.repository + "/Tools/calculator"),
                                .mcp(MCPServerSpec(command: [server], env: ["LOZA_TEST_MARKER": marker]))],
                        sandbox: sandbox, baseDirectory: try CLI.tempDirectory())
    }

    /// Processes whose command line holds the marker (the MCP server's launcher and bubblewrap).
    func markedProcesses() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int32($0) != nil }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(marker)
        }
    }

    @Test func closeShutsTheToolsDownAndRemovesTheWorkdirOnce() async throws {
        let context = try await RunContext.open(try spec(), origin: "context.yaml")
        #expect(context.tools.map(\.declaration.name) == ["calculator", "get_current_time", "convert_time"])
        #expect(context.model == nil && context.writer == nil && context.header == nil)
        let workdir = context.policy.workdir
        #expect(context.policy.temporaryWorkdir && FileManager.default.fileExists(atPath: workdir))
        #expect(!markedProcesses().isEmpty, "the MCP server is not running")
        await context.close()
        #expect(!FileManager.default.fileExists(atPath: workdir))
        #expect(markedProcesses() == [])
        #expect(context.keptWorkdir == nil)
        // Idempotent: a second close finds nothing to do (and a shut-down MCP tool answers with an error).
        await context.close()
        let after = await context.tools[1].call(id: "c", arguments: ["timezone": "UTC"])
        #expect(!after.ok)
    }

    /// The model is made after the tools are up; when it fails, `open` closes them before rethrowing.
    @Test func aFailingModelClosesWhatWasOpened() async throws {
        let seen = Observed()
        await #expect(throws: CLIError.self) {
            _ = try await RunContext.open(try spec(), origin: "context.yaml", options: .init(transcript: CLI.tempDirectory() + "/t.jsonl")) {
                seen.processes = markedProcesses()
                throw CLIError.input("no model")
            }
        }
        #expect(!seen.processes.isEmpty, "the tools were not up when the model was made")
        #expect(markedProcesses() == [])
    }

    /// A recorded run: the writer at the asked path, the header from the spec, model and tools; `continuing`
    /// keeps a recorded header's spec and tools and takes the new runtime, model, threads and start time.
    @Test(.requiresModel(RealModels.smol)) func headerOfANewAndOfAResumedRun() async throws {
        _ = try RealModels.require(RealModels.smol)
        let task = try spec()
        let transcript = try CLI.tempDirectory() + "/run.jsonl"
        let context = try await RunContext.open(task, origin: "context.yaml", options: .init(transcript: transcript, threads: 2)) {
            try ModelFactory.make(task, threads: 2)
        }
        let header = try #require(context.header)
        #expect(context.writer?.path == transcript && FileManager.default.fileExists(atPath: transcript))
        #expect(header.runtimeVersion == Runtime.version && header.threads == 2 && header.sandboxed)
        #expect(header.model.fileSHA256?.count == 64 && header.model.name == "smollm2-135m-instruct.gguf")
        #expect(header.tools.map(\.name) == ["calculator", "get_current_time", "convert_time"])
        #expect(header.spec == SpecJSON.encode(task))
        await context.close()

        var recorded = header
        recorded.runtimeVersion = "loza 0.0.1"
        recorded.tools = [ToolDeclaration(name: "recorded", description: "", parameters: [:])]
        recorded.threads = 7
        let resumed = try await RunContext.open(task, origin: "run.jsonl", options: .init(threads: 1, continuing: recorded)) {
            try ModelFactory.make(task, threads: 1)
        }
        let h = try #require(resumed.header)
        #expect(resumed.writer == nil)
        #expect(h.runtimeVersion == Runtime.version && h.threads == 1 && h.tools.map(\.name) == ["recorded"])
        #expect(h.spec == recorded.spec && h.model == header.model && h.startedAt >= header.startedAt)
        await resumed.close()
        #expect(markedProcesses() == [])
    }

    /// `keep_workdir`: close leaves the temporary directory, and says which it is.
    @Test func aKeptWorkdirStays() async throws {
        var sandbox = SandboxSettings()
        sandbox.keepWorkdir = true
        let context = try await RunContext.open(try spec(sandbox: sandbox), origin: "context.yaml")
        await context.close()
        let kept = try #require(context.keptWorkdir)
        #expect(kept == context.policy.workdir && FileManager.default.fileExists(atPath: kept))
        try FileManager.default.removeItem(atPath: kept)
    }

    /// A tool call that failed in the fresh, empty work directory of a spec that grants none gets a note naming
    /// the keys that grant one; calls that worked, a granted directory or an unsandboxed run get none.
    @Test func failedCallsInAnEmptyWorkdirGetANote() async throws {
        let failed = AgentUpdate.event(.toolResult(step: 1, result: .failure(callID: "c1", name: "calculator", error: "no such file"),
                                                   dispatched: true))
        let worked = AgentUpdate.event(.toolResult(step: 1, result: ToolResult(callID: "c0", name: "calculator", ok: true, output: "4"),
                                                   dispatched: true))
        let context = try await RunContext.open(try spec(), origin: "context.yaml")
        context.progress.note(worked)
        #expect(context.emptyWorkdirNote == nil)
        context.progress.note(failed)
        context.progress.note(failed)
        let note = try #require(context.emptyWorkdirNote)
        #expect(note.hasPrefix("note: 2 tool calls failed in an empty work directory"))
        #expect(note.contains("workdir_from") && note.contains("sandbox: {workdir: DIR}"))
        await context.close()

        let fixtures = try CLI.tempDirectory()
        var granted = SandboxSettings()
        granted.workdirFrom = fixtures
        let copied = try await RunContext.open(try spec(sandbox: granted), origin: "context.yaml")
        copied.progress.note(failed)
        #expect(copied.emptyWorkdirNote == nil)
        await copied.close()
        let inPlace = try await RunContext.open(try spec(sandbox: SandboxSettings(workdir: fixtures)), origin: "context.yaml")
        inPlace.progress.note(failed)
        #expect(inPlace.emptyWorkdirNote == nil)
        await inPlace.close()
        var unsandboxed = SandboxPolicy(settings: SandboxSettings(disabled: true), workdir: fixtures)
        unsandboxed.temporaryWorkdir = true
        #expect(RunContext.emptyWorkdirNote(policy: unsandboxed, failedCalls: 1) == nil)
    }
}

/// What a closure saw, read after it ran.
final class Observed: @unchecked Sendable {
    var processes: [String] = []
}
