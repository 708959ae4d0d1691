import AgentCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes events as JSONL, `{"v":1,"seq":N,"ts":...,"type":...,"payload":{...}}`, one line per event.
/// Each line goes out with a single write(2) as the event happens, so a crash loses at most the event in flight.
public final class TranscriptWriter: TranscriptSink, @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var seq = 0
    private var closed = false

    /// Create (or truncate) the file at `path`, creating missing parent directories.
    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TranscriptError(file: path, line: nil, message: "cannot create the transcript: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
    }

    deinit { if !closed { _ = systemClose(fd) } }

    /// One JSONL line (with its newline) for `event` at `seq`.
    public static func line(_ event: TranscriptEvent, seq: Int, timestamp: String) -> String {
        let object: JSONValue = [
            "v": 1, "seq": .int(Int64(seq)), "ts": .string(timestamp), "type": .string(event.typeName),
            "payload": EventCodec.payload(event),
        ]
        return object.serialized(.compact) + "\n"
    }

    public func record(_ event: TranscriptEvent) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw TranscriptError(file: path, line: nil, message: "the transcript is closed") }
        var bytes = Array(Self.line(event, seq: seq, timestamp: Self.timestamp()).utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TranscriptError(file: path, line: nil, message: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        bytes.removeAll()
        seq += 1
        if case .final = event { _ = fsync(fd) }
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if !closed {
            _ = fsync(fd)
            _ = systemClose(fd)
            closed = true
        }
    }

    /// UTC time with milliseconds, ISO 8601: `2026-11-26T16:39:53.123Z`.
    public static func timestamp(_ date: Date = Date()) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int((date.timeIntervalSince1970 - Double(t)) * 1000) % 1000
        func pad(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }
}

private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
