import AgentCore
import Foundation
import TestSupport
import Testing
import TranscriptIO

/// Cost along a trace, end to end: each local turn records its decode spans, `replay --mode stats` reports
/// ms/token against position for both attentions and writes one SVG with a line per run.
@Suite(.serialized) struct DecodeProfileCLITests {
    @Test(.requiresModel(RealModels.smol)) func statsProfileAndPlotOfFullAndLoZA() throws {
        _ = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        try """
            name: smol-long
            model: smollm2-135m-instruct
            sampling: {temperature: 0, max_tokens: 300}
            prompt: Write a long story about a lighthouse keeper and the ships she watches, with many details.
            limits: {steps: 1, tokens: 400, wall: 5m}
            """.write(toFile: dir + "/long.yaml", atomically: true, encoding: .utf8)
        for mode in ["full", "loza"] {
            let run = try CLI.run(["run", "long.yaml", "--json", "--threads", "2", "--attention", mode, "--transcript", "\(mode).jsonl"], in: dir)
            #expect(run.code == 0, "\(run.err)")
            let header = try #require(try Transcript.read(path: dir + "/\(mode).jsonl").header)
            #expect(header.model.attention?.hasPrefix(mode) == true, "\(header.model)")
        }
        let bad = try CLI.run(["run", "long.yaml", "--attention", "half"], in: dir)
        #expect(bad.code == 2 && bad.err.contains("half"), "\(bad.err)")

        // The spans cover every decode step of the turn (the last drawn token is not decoded), in order.
        let transcript = try Transcript.read(path: dir + "/loza.jsonl")
        let turn = try #require(transcript.events.compactMap { e -> ModelTurn? in
            if case .modelTurn(_, let t) = e.event { return t } else { return nil }
        }.first)
        #expect(turn.tokens.count > 100)
        let decoded = turn.decodeSpans.reduce(0) { $0 + $1.tokens }
        #expect(decoded == turn.tokens.count - (turn.stop == .eos ? 0 : 1), "\(turn.decodeSpans)")
        #expect(turn.decodeSpans.first?.position == turn.promptTokens + turn.reusedTokens)
        #expect(zip(turn.decodeSpans, turn.decodeSpans.dropFirst()).allSatisfy { $0.position + $0.tokens == $1.position })

        let stats = try CLI.run(["replay", "loza.jsonl", "--mode", "stats", "--with", "full.jsonl", "--plot", "cost.svg"], in: dir)
        #expect(stats.code == 0, "\(stats.err)")
        let lines = stats.out.split(separator: "\n").map { try? JSONValue.parse(String($0)) }
        #expect(lines.count == 2)
        for line in lines {
            let profile = try #require(line?["decode_profile"])
            #expect((profile["bins"]?.arrayValue?.count ?? 0) >= 2 && (profile["end_to_start"]?.doubleValue ?? 0) > 0, "\(profile)")
            #expect(line?["plot"]?.stringValue == "cost.svg")
        }
        let svg = try String(contentsOfFile: dir + "/cost.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("loza (LoZA)") && svg.contains("full (full)"))

        // Replay verification is unchanged by the timings.
        let verify = try CLI.run(["replay", "loza.jsonl", "--mode", "verify"], in: dir)
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
    }
}
