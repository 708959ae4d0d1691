import Foundation

/// Runs a blocking reply on a thread of its own and resumes the caller with its result. The engine's
/// work blocks (prefill, decode, and waiting for the other sessions of a decode batch); on Swift's
/// cooperative threads, as many as the cores, a few such waits would stall every task of the process.
enum GenerationThread {
    /// Stack of a generation thread (the default for secondary threads, 512 KiB, is tight for the
    /// template renderer's recursion).
    static let stackSize = 8 << 20

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.stackSize = stackSize
            thread.start()
        }
    }
}

/// The reply's text callback as the generation thread sees it: dropped (`close`) when the reply ends,
/// so the thread never holds the caller's non-escaping closure past the call.
final class TextSink: @unchecked Sendable {
    private let lock = NSLock()
    private var target: (@Sendable (String) -> Void)?

    init(_ target: @escaping @Sendable (String) -> Void) { self.target = target }

    func send(_ text: String) {
        lock.withLock { target }?(text)
    }

    func close() {
        lock.withLock { target = nil }
    }
}
