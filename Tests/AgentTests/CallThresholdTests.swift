import AgentCore
import Foundation
import SpecParser
import Testing
@testable import TranscriptIO

/// `sampling.call_threshold`: the spec key, its record in transcript headers, and the measured call
/// probability on model turns.
@Suite struct CallThresholdTests {
    func parse(_ yaml: String) throws -> TaskSpec { try SpecParser.parse(yaml: yaml, file: "task.yaml", baseDirectory: "/") }

    @Test func theSpecKeyIsAProbabilityAndOffByDefault() throws {
        let plain = try parse("name: t\nprompt: hi\n")
        #expect(plain.sampling.callThreshold == nil)
        #expect(try SpecJSON.decode(SpecJSON.encode(plain)).sampling.callThreshold == nil)
        #expect(SpecJSON.sampling(plain.sampling).objectValue?.contains { $0.key == "call_threshold" } == false,
                "headers without it keep their shape")
        let set = try parse("name: t\nprompt: hi\nsampling: {temperature: 0.5, call_threshold: 0.4}\n")
        #expect(set.sampling.callThreshold == 0.4 && set.sampling.temperature == 0.5)
        #expect(try SpecJSON.decode(SpecJSON.encode(set)).sampling.callThreshold == 0.4)
        #expect(try parse("name: t\nprompt: hi\nsampling: {call_threshold: off}\n").sampling.callThreshold == nil)
        #expect(try parse("name: t\nprompt: hi\nsampling: {call_threshold: 0}\n").sampling.callThreshold == 0)
        for (yaml, message) in [
            ("name: t\nprompt: hi\nsampling: {call_threshold: 1.5}\n",
             "task.yaml:3:28: sampling.call_threshold: expected a probability from 0 to 1 or off, got 1.5"),
            ("name: t\nprompt: hi\nsampling: {call_threshold: maybe}\n",
             "task.yaml:3:28: sampling.call_threshold: expected a number, got string \"maybe\""),
        ] {
            #expect(throws: SpecError.self) { try parse(yaml) }
            do { _ = try parse(yaml) } catch { #expect("\(error)" == message) }
        }
    }

    @Test func modelTurnsRecordTheMeasuredProbability() throws {
        var turn = ModelTurn(text: "{}", stop: .toolCall)
        turn.callProbability = 0.4321
        turn.callChosen = true
        let payload = EventCodec.payload(.modelTurn(step: 1, turn: turn))
        guard case .modelTurn(_, let back) = try EventCodec.event(type: "model_turn", payload: payload) else {
            Issue.record("not a model turn"); return
        }
        #expect(back.callProbability == 0.4321 && back.callChosen)
        turn.callChosen = false
        let measured = EventCodec.payload(.modelTurn(step: 1, turn: turn))
        #expect(measured.objectValue?.contains { $0.key == "call_chosen" } == false)
        guard case .modelTurn(_, let measuredBack) = try EventCodec.event(type: "model_turn", payload: measured) else { return }
        #expect(measuredBack.callProbability == 0.4321 && !measuredBack.callChosen)
        let plain = EventCodec.payload(.modelTurn(step: 1, turn: ModelTurn(text: "x", stop: .eos)))
        #expect(plain.objectValue?.contains { $0.key == "call_probability" } == false)
    }
}
