import AgentCore
import Foundation

/// One event read back from a transcript.
public struct RecordedEvent: Sendable, Hashable {
    public var seq: Int
    public var timestamp: String
    public var event: TranscriptEvent
    /// 1-based line number in the file.
    public var line: Int
}

/// A transcript read back: its events, and warnings (a torn last line).
public struct Transcript: Sendable {
    public var events: [RecordedEvent]
    public var warnings: [String]

    public var header: TranscriptHeader? {
        if case .header(let h)? = events.first?.event { return h }
        return nil
    }

    public var outcome: RunOutcome? {
        for e in events.reversed() { if case .final(let o) = e.event { return o } }
        return nil
    }

    /// Read the file at `path`. A torn last line (a crash mid-write) is skipped with a warning; anything
    /// else that is not a well-formed event is an error `file:line: message`.
    public static func read(path: String) throws -> Transcript {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TranscriptError(file: path, line: nil, message: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        return try parse(Array(data), file: path)
    }

    public static func parse(_ bytes: [UInt8], file: String) throws -> Transcript {
        var events: [RecordedEvent] = []
        var warnings: [String] = []
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            let newline = bytes[start...].firstIndex(of: 0x0A)
            let end = newline ?? bytes.count
            let isLast = newline == nil
            let slice = bytes[start..<end]
            start = end + 1
            do {
                let recorded = try decodeLine(slice, line: lineNumber, expectedSeq: events.count)
                events.append(recorded)
            } catch let error as FieldError {
                if isLast {
                    warnings.append("\(file):\(lineNumber): torn last line skipped (\(slice.count) bytes; the run was cut mid-write)")
                } else {
                    throw TranscriptError(file: file, line: lineNumber, message: error.description)
                }
            }
        }
        if events.isEmpty && warnings.isEmpty {
            throw TranscriptError(file: file, line: nil, message: "empty transcript")
        }
        return Transcript(events: events, warnings: warnings)
    }

    static func decodeLine(_ slice: ArraySlice<UInt8>, line: Int, expectedSeq: Int) throws -> RecordedEvent {
        guard !slice.isEmpty else { throw FieldError(description: "empty line") }
        guard let text = String(validating: slice, as: UTF8.self) else { throw FieldError(description: "not valid UTF-8") }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw FieldError(description: "not a JSON object: \(error)") }
        let f = try JSONFields(value, "event")
        guard case .int(1) = try f.raw("v") else { throw FieldError(description: "unsupported transcript version \(f.value["v"]?.serialized() ?? "?") (expected 1)") }
        let seq = try f.int("seq")
        guard seq == expectedSeq else { throw FieldError(description: "event seq \(seq) out of order (expected \(expectedSeq))") }
        let type = try f.string("type")
        let event = try EventCodec.event(type: type, payload: try f.raw("payload"))
        if seq == 0, event.typeName != "header" {
            throw FieldError(description: "the first event must be the header, got \(type)")
        }
        return RecordedEvent(seq: seq, timestamp: try f.string("ts"), event: event, line: line)
    }
}
