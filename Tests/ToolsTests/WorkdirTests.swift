import AgentCore
import Foundation
import Testing
@testable import Tools

/// The temporary work directory: seeded from `workdir_from`, removed after the run unless kept;
/// a spec's own `workdir` is never removed.
@Suite struct WorkdirTests {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "loza-workdir-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/src/sub", withIntermediateDirectories: true)
        try "a\n".write(toFile: dir + "/src/a.txt", atomically: true, encoding: .utf8)
        try "b\n".write(toFile: dir + "/src/sub/b.txt", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func seededTemporaryWorkdirIsRemoved() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        var settings = SandboxSettings()
        settings.workdirFrom = "src"
        let policy = try SandboxPolicy.resolve(settings, baseDirectory: base)
        #expect(policy.temporaryWorkdir && policy.workdir.contains("loza-work-"))
        #expect(try String(contentsOfFile: policy.workdir + "/sub/b.txt", encoding: .utf8) == "b\n")
        try "changed".write(toFile: policy.workdir + "/a.txt", atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: base + "/src/a.txt", encoding: .utf8) == "a\n")  // the original is untouched
        #expect(policy.removeTemporaryWorkdir() == nil)
        #expect(!FileManager.default.fileExists(atPath: policy.workdir))
    }

    @Test func keptOrOwnWorkdirStays() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        var keep = SandboxSettings()
        keep.keepWorkdir = true
        let kept = try SandboxPolicy.resolve(keep, baseDirectory: base)
        #expect(kept.removeTemporaryWorkdir() == kept.workdir && FileManager.default.fileExists(atPath: kept.workdir))
        try? FileManager.default.removeItem(atPath: kept.workdir)
        let own = try SandboxPolicy.resolve(SandboxSettings(workdir: "src"), baseDirectory: base)
        #expect(!own.temporaryWorkdir && own.removeTemporaryWorkdir() == nil)
        #expect(FileManager.default.fileExists(atPath: base + "/src/a.txt"))
    }

    @Test func missingSourceIsAClearErrorAndLeavesNothing() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        var settings = SandboxSettings()
        settings.workdirFrom = "nope"
        #expect { try SandboxPolicy.resolve(settings, baseDirectory: base) } throws: { error in
            "\(error)".hasPrefix("sandbox.workdir_from: cannot copy \(base)/nope")
        }
    }
}
