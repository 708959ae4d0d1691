import AgentCore
import Foundation

/// RESULTS.jsonl of a batch: the ids already there (a rerun skips them), and one line appended and synced
/// to disk per finished task, so a crash loses only the tasks in flight.
final class BatchResults: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()

    /// Opens (creating) `path` for appending; `done` are the ids of its complete lines (a torn last line,
    /// from a crash, is cut off first so the next line starts clean).
    init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError.input("--out \(path): \(String(cString: strerror(errno)))") }
        let data = FileManager.default.contents(atPath: path) ?? Data()
        var keep = data.count
        if let last = data.last, last != UInt8(ascii: "\n") {
            keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
            Console.err("\(path): the last line was cut off (a crash?); it is dropped and its task runs again\n")
        }
        ftruncate(fd, off_t(keep))
        lseek(fd, 0, SEEK_END)
        var ids = Set<String>()
        for line in data.prefix(keep).split(separator: UInt8(ascii: "\n")) {
            if let value = try? JSONValue.parse(String(decoding: line, as: UTF8.self)), let id = value["id"]?.stringValue { ids.insert(id) }
        }
        done = ids
    }

    deinit { close(fd) }

    let done: Set<String>

    /// Appends one result line and syncs it.
    func append(_ result: JSONValue) {
        let bytes = Array((result.serialized(.compact) + "\n").utf8)
        lock.withLock {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 { if errno == EINTR { continue } else { break } }
                offset += n
            }
            fsync(fd)
        }
    }

    /// A result line.
    static func line(id: String, outcome: RunOutcome?, reason: String? = nil, calls: [JSONValue], transcript: String?) -> JSONValue {
        let status = outcome?.status.rawValue ?? "error"
        return [
            "id": .string(id), "status": .string(status), "answer": outcome?.answer.map { .string($0) } ?? .null,
            "reason": .string(reason ?? outcome?.reason ?? ""), "calls": .array(calls),
            "steps": .int(Int64(outcome?.steps ?? 0)), "tokens": .int(Int64(outcome?.tokens ?? 0)),
            "wall_s": .double(((outcome?.wallSeconds ?? 0) * 1000).rounded() / 1000),
            "transcript": transcript.map { .string($0) } ?? .null,
        ]
    }
}

/// The calls of a run as a batch result lists them: `{name, arguments, turn, step}`, where `turn` counts the
/// user turns answered before the call (a text reply either ends the run or moves to the next prompt). A
/// declared call the run did not collect (`declared_calls: collect`: a variant of a collected one) is not
/// listed: the caller is not to run it; nor is a call that did not run (rejected: an unknown tool or invalid
/// arguments; refused as a repeat): a caller that runs the list (BFCL's multi-turn checker does) would
/// otherwise run what the agent never did.
final class BatchCallLog: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [(id: String, entry: JSONValue)] = []
    private var turn = 0

    func note(_ event: TranscriptEvent) {
        lock.withLock {
            switch event {
            case .modelTurn(_, let t) where t.toolCalls.isEmpty && t.malformedCalls.isEmpty:
                turn += 1
            case .toolCall(let step, let call):
                var entry: [JSONMember] = [JSONMember("name", .string(call.name)), JSONMember("arguments", call.arguments),
                                           JSONMember("turn", .int(Int64(turn))), JSONMember("step", .int(Int64(step)))]
                if let dropped = call.ungrounded { entry.append(JSONMember("ungrounded", dropped)) }
                calls.append((call.id, .object(entry)))
            case .toolResult(_, let result, let dispatched)
                where (!dispatched && !result.ok)
                    || result.metadata[DeclaredCallsMode.metadataKey].map { $0 != DeclaredCallsMode.collectedNote } == true:
                if let i = calls.lastIndex(where: { $0.id == result.callID }) { calls.remove(at: i) }
            default:
                break
            }
        }
    }

    var all: [JSONValue] { lock.withLock { calls.map(\.entry) } }
}
