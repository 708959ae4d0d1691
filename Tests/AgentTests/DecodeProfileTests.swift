import AgentCore
import Testing
@testable import TranscriptIO

/// Decode cost along a trace: spans recorded per turn, written and read back, gathered into bins.
@Suite struct DecodeProfileTests {
    @Test func spansRoundTripThroughTheTranscript() throws {
        var turn = ModelTurn(text: "hi", tokens: [1, 2, 3], stop: .eos, decodeSeconds: 0.2)
        turn.decodeSpans = [DecodeSpan(position: 100, tokens: 64, seconds: 0.128), DecodeSpan(position: 164, tokens: 3, seconds: 0.0075)]
        let payload = EventCodec.payload(.modelTurn(step: 1, turn: turn))
        #expect(payload["decode_spans"]?.arrayValue?.count == 2)
        guard case .modelTurn(_, let back) = try EventCodec.event(type: "model_turn", payload: payload) else {
            Issue.record("not a model turn"); return
        }
        #expect(back.decodeSpans.map(\.position) == [100, 164] && back.decodeSpans.map(\.tokens) == [64, 3])
        #expect(abs(back.decodeSpans[0].msPerToken - 2.0) < 1e-9 && abs(back.decodeSpans[1].msPerToken - 2.5) < 1e-9)

        // A turn without spans (a remote model, an older transcript) keeps the old shape.
        let plain = EventCodec.payload(.modelTurn(step: 1, turn: ModelTurn(text: "x", stop: .eos)))
        #expect(plain["decode_spans"] == nil)
    }

    @Test(arguments: ["[[1, 2]]", "[[1, 0, 3.5]]", "[[-1, 2, 3.5]]", "[[1, 2, \"x\"]]", "[5]"])
    func badSpansAreOneLineErrors(_ spans: String) throws {
        var payload = EventCodec.payload(.modelTurn(step: 1, turn: ModelTurn(text: "x", stop: .eos)))
        guard case .object(var members) = payload else { return }
        members.append(JSONMember("decode_spans", try JSONValue.parse(spans)))
        payload = .object(members)
        let error = #expect(throws: (any Error).self) { try EventCodec.event(type: "model_turn", payload: payload) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("decode_spans"))
    }

    /// A cost that grows with the context shows in the bins and in end over start; a flat one gives 1.
    @Test func binsAndEndOverStart() throws {
        // 100 spans of 64 tokens from position 1000: cost 10 ms/token + 1 ms per 1000 positions.
        let growing = (0..<100).map { i -> DecodeSpan in
            let p = 1000 + i * 64
            return DecodeSpan(position: p, tokens: 64, seconds: 64 * (10 + Double(p) / 1000) / 1000)
        }
        let profile = try #require(DecodeProfile(spans: growing.shuffled()))
        #expect(profile.firstPosition == 1000 && profile.lastPosition == 1000 + 6400)
        #expect(profile.bins.count <= DecodeProfile.maxBins && profile.binWidth % 128 == 0)
        #expect(profile.bins.reduce(0) { $0 + $1.tokens } == 6400)
        #expect(zip(profile.bins, profile.bins.dropFirst()).allSatisfy { $0.msPerToken < $1.msPerToken })
        // First tenth around position 1320 (11.3 ms), last tenth around 7080 (17.1 ms).
        #expect(abs(profile.startMsPerToken - 11.29) < 0.05 && abs(profile.endMsPerToken - 17.05) < 0.05, "\(profile)")

        let flat = (0..<10).map { DecodeSpan(position: 50 + $0 * 64, tokens: 64, seconds: 0.64) }
        #expect(abs(try #require(DecodeProfile(spans: flat)).endToStart - 1) < 1e-9)
        #expect(DecodeProfile(spans: []) == nil)
    }
}
