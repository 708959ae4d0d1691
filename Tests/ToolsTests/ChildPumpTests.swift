import Foundation
import Testing
@testable import Tools

/// The teardown sequence of `ChildPump` on real (unsandboxed) children: each step ends the child that
/// heeds it, the last one kills its whole process group, and nothing of it is left.
@Suite(.serialized) struct ChildPumpTests {
    static let steps: [TeardownStep] = [.closeInput(grace: 0.3), .signal(SIGTERM, grace: 0.3)]

    /// Starts `script` under `/bin/sh -c` with a stdin pipe, asks it to stop once it is running, and
    /// returns how it ended and how long the stop took.
    func stop(_ script: String) async throws -> (end: ChildPump.End, seconds: Double, output: String) {
        let spec = ChildSpec(executable: "/bin/sh", arguments: ["/bin/sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
                             stdinPipe: true)
        let pump = try ChildPump.spawn(spec).get()
        let output = OutputBox()
        pump.sinks = [.stdout: { output.append($0) }]
        pump.teardown = Self.steps
        let ended: Task<ChildPump.End, Never> = Task {
            await withCheckedContinuation { cont in
                ChildPump.detach("test-pump") { cont.resume(returning: pump.run()) }
            }
        }
        pump.send(Array("hello\n".utf8))
        for _ in 0..<200 where !output.text.contains("ready") { try await Task.sleep(for: .milliseconds(10)) }
        let t0 = LibC.monotonicSeconds()
        pump.stop()
        let end = await ended.value
        return (end, LibC.monotonicSeconds() - t0, output.text)
    }

    @Test func aChildThatExitsAtEndOfInputStopsAtTheFirstStep() async throws {
        let r = try await stop("read -r line; echo \"ready $line\"; cat >/dev/null; exit 5")
        #expect(r.output == "ready hello\n")
        // Exit status 5, not SIGTERM: it ended at the first step (no bound on the time: suites run in parallel).
        #expect(r.end.exitCode == 5, "\(r.end)")
    }

    @Test func aChildThatIgnoresEndOfInputGetsSIGTERM() async throws {
        let r = try await stop("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done")
        #expect(r.end.exitCode == 7, "\(r.end)")
        #expect(r.seconds >= 0.3)
    }

    @Test func aChildThatIgnoresSIGTERMIsKilledWithItsProcessGroup() async throws {
        let mark = "lozapump\(UInt32.random(in: 100_000...999_999))"
        let r = try await stop("trap '' TERM; sh -c 'trap \"\" TERM; sleep 1000; : \(mark)' & echo ready; while :; do sleep 0.05; done")
        #expect(r.end.signal == SIGKILL, "\(r.end)")
        #expect(r.seconds >= 0.6)
        #expect(processes(containing: mark).isEmpty)
    }
}

/// Output collected on the pump's thread and read from the test's.
final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func append(_ chunk: UnsafeRawBufferPointer) { lock.withLock { bytes += chunk } }
    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}
