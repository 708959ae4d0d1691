import Foundation
import TestSupport
import Testing

/// Every transcript in Transcripts/ (recorded from Examples/ with scripts/record-transcripts.sh) replays
/// token for token with the real default model: `loza replay FILE --mode verify` exits 0.
/// Every example ends with a final answer (checked by hand to be right when recorded).
/// Needs the release build (the model runs) and the default model: skipped without it, except under CI.
@Suite(.serialized) struct ExampleTranscriptTests {
    static var transcripts: [String] {
        let dir = CLI.repository + "/Transcripts"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return files.filter { $0.hasSuffix(".jsonl") }.sorted()
    }

    @Test func everyExampleHasATranscript() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: CLI.repository + "/Examples")
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
        #expect(examples.count >= 3)
        #expect(Self.transcripts.map { String($0.dropLast(6)) } == examples,
                "re-record with scripts/record-transcripts.sh")
    }

    @Test(.requiresModel(RealModels.qwen), arguments: transcripts)
    func replayVerifies(_ file: String) throws {
        #if DEBUG
        // The model is far too slow unoptimized; CI runs this suite in release.
        return
        #else
        _ = try RealModels.require(RealModels.qwen)
        let path = CLI.repository + "/Transcripts/" + file
        let run = try CLI.run(["replay", path, "--mode", "verify", "--threads", "2"], in: NSTemporaryDirectory())
        #expect(run.code == 0, "\(file): \(run.out)\(run.err)")
        // The recorded run is complete (it has its closing event) and ended with the model's answer.
        let last = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.contains("\"type\":\"final\"") && last.contains("\"status\":\"final\""), "\(file): \(last)")
        #endif
    }
}
