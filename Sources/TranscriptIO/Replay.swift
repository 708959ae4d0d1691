import AgentCore
import Foundation

/// The first place where a re-run departs from its transcript.
public struct ReplayDivergence: Error, Sendable, Hashable, CustomStringConvertible {
    /// Seq of the recorded event that was not reproduced (nil: the re-run went past the end of the record).
    public var seq: Int?
    /// Index of the first differing token (or character, for models without token ids) in that turn.
    public var tokenIndex: Int?
    public var message: String

    public var description: String {
        var where_ = seq.map { "event \($0)" } ?? "after the last recorded event"
        if let tokenIndex { where_ += ", token \(tokenIndex)" }
        return "diverged at \(where_): \(message)"
    }
}

/// Collects the first divergence of a replay (shared by the replay model and tools).
public final class ReplayLog: @unchecked Sendable {
    private let lock = NSLock()
    private var first: ReplayDivergence?
    public init() {}
    public var divergence: ReplayDivergence? { lock.withLock { first } }
    func report(_ d: ReplayDivergence) { lock.withLock { if first == nil { first = d } } }
}

/// Returns the recorded model turns in order (replaying a transcript without a model), each under the tool
/// choice it is asked for, as any model's turn.
public final class ReplayModel: LanguageModel, @unchecked Sendable {
    public let description: ModelDescription
    private let lock = NSLock()
    private var turns: [(seq: Int, turn: ModelTurn)]
    private let log: ReplayLog

    public init(_ transcript: Transcript, log: ReplayLog = ReplayLog()) {
        description = transcript.header?.model ?? ModelDescription(name: "replay")
        turns = transcript.events.compactMap { e in
            if case .modelTurn(_, let t) = e.event { return (e.seq, t) }
            return nil
        }
        self.log = log
    }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        guard var next = lock.withLock({ turns.isEmpty ? nil : turns.removeFirst() }) else {
            let d = ReplayDivergence(seq: nil, tokenIndex: nil, message: "the run asked for more model turns than were recorded")
            log.report(d)
            throw d
        }
        next.turn.toolChoice = toolChoice
        onText(next.turn.text)
        return next.turn
    }
}

/// Wraps a real model and compares each of its turns with the recorded one, token by token.
/// The first difference is reported to the log and thrown, which ends the run.
public final class VerifyingModel: LanguageModel, @unchecked Sendable {
    public let inner: any LanguageModel
    private let lock = NSLock()
    private var turns: [(seq: Int, turn: ModelTurn)]
    public let log: ReplayLog

    public init(_ inner: any LanguageModel, transcript: Transcript, log: ReplayLog) {
        self.inner = inner
        turns = transcript.events.compactMap { e in
            if case .modelTurn(_, let t) = e.event { return (e.seq, t) }
            return nil
        }
        self.log = log
    }

    public var description: ModelDescription { inner.description }
    /// Recorded turns not reached by the re-run.
    public var unconsumed: [(seq: Int, turn: ModelTurn)] { lock.withLock { turns } }

    public func respond(to messages: [Message], tools: [ToolDeclaration], toolChoice: ToolChoice, sampling: SamplingOptions,
                        onText: @Sendable (String) -> Void) async throws -> ModelTurn {
        let live = try await inner.respond(to: messages, tools: tools, toolChoice: toolChoice, sampling: sampling, onText: onText)
        guard let recorded = lock.withLock({ turns.isEmpty ? nil : turns.removeFirst() }) else {
            let d = ReplayDivergence(seq: nil, tokenIndex: nil, message: "the model produced a turn the record does not have")
            log.report(d)
            throw d
        }
        if let d = Self.compare(live: live, recorded: recorded.turn, seq: recorded.seq) {
            log.report(d)
            throw d
        }
        return live
    }

    /// The first difference between two turns: token ids when both have them, else text characters.
    public static func compare(live: ModelTurn, recorded: ModelTurn, seq: Int) -> ReplayDivergence? {
        if !live.tokens.isEmpty || !recorded.tokens.isEmpty {
            let n = min(live.tokens.count, recorded.tokens.count)
            for i in 0..<n where live.tokens[i] != recorded.tokens[i] {
                return ReplayDivergence(seq: seq, tokenIndex: i, message: "token \(live.tokens[i]) where the record has \(recorded.tokens[i])")
            }
            if live.tokens.count != recorded.tokens.count {
                return ReplayDivergence(seq: seq, tokenIndex: n,
                                        message: "the turn has \(live.tokens.count) tokens, the record \(recorded.tokens.count)")
            }
            return nil
        }
        let a = Array(live.text.unicodeScalars), b = Array(recorded.text.unicodeScalars)
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] {
            return ReplayDivergence(seq: seq, tokenIndex: i, message: "text differs at character \(i)")
        }
        if a.count != b.count { return ReplayDivergence(seq: seq, tokenIndex: n, message: "text length \(a.count), the record \(b.count)") }
        return nil
    }
}

/// Tools that answer with the recorded results. Calls must come in the recorded order with the recorded
/// names and arguments; a different call is a divergence (answered with an error, and logged).
public final class ReplayTools: @unchecked Sendable {
    struct Entry {
        var seq: Int
        var call: ToolCall
        var result: ToolResult
    }

    private let lock = NSLock()
    private var entries: [Entry]
    public let declarations: [ToolDeclaration]
    /// Names of the spec's declared tools (`declare:`): they stay declared in a replay (nothing was run).
    private let declaredNames: Set<String>
    public let log: ReplayLog

    public init(_ transcript: Transcript, log: ReplayLog) {
        self.log = log
        declarations = transcript.header?.tools ?? []
        let spec = transcript.header.flatMap { try? SpecJSON.decode($0.spec) }
        declaredNames = Set((spec?.tools ?? []).compactMap { entry -> String? in
            if case .declare(let d) = entry { return d.name } else { return nil }
        })
        var calls: [String: (Int, ToolCall)] = [:]
        var entries: [Entry] = []
        for e in transcript.events {
            switch e.event {
            case .toolCall(_, let call): calls[call.id] = (e.seq, call)
            case .toolResult(_, let result, true):
                if let (seq, call) = calls[result.callID] { entries.append(Entry(seq: seq, call: call, result: result)) }
            default: break
            }
        }
        self.entries = entries
    }

    /// One `Tool` per recorded declaration, all answering from this record.
    public var tools: [any Tool] {
        declarations.map { d -> any Tool in declaredNames.contains(d.name) ? DeclaredTool(d) : ReplayTool(declaration: d, owner: self) }
    }

    func answer(_ name: String, id: String, arguments: JSONValue) -> ToolResult {
        let next = lock.withLock { entries.isEmpty ? nil : entries.removeFirst() }
        guard let next else {
            let d = ReplayDivergence(seq: nil, tokenIndex: nil, message: "call to \(name) that the record does not have")
            log.report(d)
            return .failure(callID: id, name: name, error: "replay: \(d)")
        }
        guard next.call.name == name, next.call.arguments == arguments else {
            let d = ReplayDivergence(seq: next.seq, tokenIndex: nil,
                                     message: "call \(name)(\(arguments.serialized())) where the record has \(next.call.name)(\(next.call.arguments.serialized()))")
            log.report(d)
            return .failure(callID: id, name: name, error: "replay: \(d)")
        }
        var result = next.result
        result.callID = id
        return result
    }

    struct ReplayTool: Tool {
        let declaration: ToolDeclaration
        let owner: ReplayTools
        func call(id: String, arguments: JSONValue) async -> ToolResult {
            owner.answer(declaration.name, id: id, arguments: arguments)
        }
    }
}

/// `replay --mode tools`: run the real tools on the recorded calls and compare with the recorded results.
public enum ToolReplay {
    public struct Difference: Sendable, Hashable, CustomStringConvertible {
        public var seq: Int
        public var callID: String
        public var name: String
        public var what: String
        public var description: String { "event \(seq) \(name) [\(callID)]: \(what)" }
    }

    /// Every dispatched call of the transcript, re-run in order. Returns the calls compared and the differences.
    public static func run(_ transcript: Transcript, tools: [any Tool],
                           progress: (Int, ToolCall, ToolResult) -> Void = { _, _, _ in }) async -> (compared: Int, differences: [Difference]) {
        var calls: [String: (Int, ToolCall)] = [:]
        var differences: [Difference] = []
        var compared = 0
        for e in transcript.events {
            switch e.event {
            case .toolCall(_, let call): calls[call.id] = (e.seq, call)
            case .toolResult(_, let recorded, true):
                guard let (seq, call) = calls[recorded.callID] else { continue }
                compared += 1
                guard let tool = tools.first(where: { $0.declaration.name == call.name }) else {
                    differences.append(Difference(seq: seq, callID: call.id, name: call.name, what: "no such tool now"))
                    continue
                }
                let live = await tool.call(id: call.id, arguments: call.arguments)
                progress(seq, call, live)
                var what: [String] = []
                if live.ok != recorded.ok { what.append("ok \(live.ok), recorded \(recorded.ok)") }
                if live.exitCode != recorded.exitCode {
                    what.append("exit code \(live.exitCode.map(String.init) ?? "none"), recorded \(recorded.exitCode.map(String.init) ?? "none")")
                }
                if live.output != recorded.output { what.append("output differs (\(firstDifference(live.output, recorded.output)))") }
                if live.error != recorded.error { what.append("error \"\(live.error ?? "")\", recorded \"\(recorded.error ?? "")\"") }
                if !what.isEmpty {
                    differences.append(Difference(seq: seq, callID: call.id, name: call.name, what: what.joined(separator: "; ")))
                }
            default: break
            }
        }
        return (compared, differences)
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0
        while i < x.count, i < y.count, x[i] == y[i] { i += 1 }
        return "first at byte \(i); \(x.count) bytes now, \(y.count) recorded"
    }
}
