import AgentCore
import Foundation
import TestSupport
import Testing
import TranscriptIO

/// End to end through the binary with a real model: `loza run`, then `loza replay --mode verify`
/// must reproduce every token. Needs the model files (set $LOZA_MODELS; default ~/.cache/loza/models).
@Suite(.serialized) struct ModelRunTests {

    /// `generate --chat` renders the model's own template: Qwen's adds its default system message, and
    /// the result equals generating from the hand-rendered ChatML text.
    @Test(.requiresModel(RealModels.qwen)) func generateChatUsesTheModelsTemplate() throws {
        _ = try RealModels.require(RealModels.qwen)
        let dir = try CLI.tempDirectory()
        let common = ["generate", "--model", "qwen2.5-coder-0.5b-instruct", "--max-tokens", "6", "--threads", "2", "--json"]
        let chat = try CLI.run(common + ["--prompt", "Say hi.", "--chat"], in: dir)
        let raw = try CLI.run(common + ["--prompt", "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nSay hi.<|im_end|>\n<|im_start|>assistant\n"], in: dir)
        #expect(chat.code == 0 && raw.code == 0, "\(chat.err)\(raw.err)")
        let a = try JSONValue.parse(chat.out), b = try JSONValue.parse(raw.out)
        #expect(a["prompt_tokens"] == b["prompt_tokens"] && a["tokens"] == b["tokens"])
        #expect((a["prompt_tokens"]?.intValue ?? 0) > 20)
    }

    @Test(.requiresModel(RealModels.smol)) func smolRunThenVerify() throws {
        _ = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        try """
            name: smol-e2e
            model: smollm2-135m-instruct
            sampling: {temperature: 0.7, top_k: 40, seed: 7, max_tokens: 48}
            system: You can call tools. Use the calculator for arithmetic.
            prompt: What is 17 * 23?
            tools:
              - exec: \(CLI.repository)/Tools/calculator
            limits: {steps: 3, tokens: 400, wall: 5m}
            """.write(toFile: dir + "/smol.yaml", atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "smol.yaml", "--json", "--threads", "2", "--transcript", "run.jsonl"], in: dir)
        let result = try JSONValue.parse(run.out)
        #expect(run.code == (result["status"] == "final" ? 0 : 1), "\(run.err)")
        #expect(result["transcript"] == "run.jsonl" && (result["tokens"]?.intValue ?? 0) > 0)

        let transcript = try Transcript.read(path: dir + "/run.jsonl")
        let header = try #require(transcript.header)
        #expect(header.model.fileSHA256?.count == 64 && header.threads == 2)
        #expect(transcript.outcome != nil)

        let verify = try CLI.run(["replay", "run.jsonl", "--mode", "verify"], in: dir)
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
        #expect(verify.out.contains("✓ verified"))

        // A changed seed changes the tokens: verify must name the divergence.
        let text = try String(contentsOfFile: dir + "/run.jsonl", encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        var changed = lines
        changed[0] = lines[0].replacingOccurrences(of: "\"seed\":7", with: "\"seed\":8")
        try (changed.joined(separator: "\n") + "\n").write(toFile: dir + "/changed.jsonl", atomically: true, encoding: .utf8)
        let diverged = try CLI.run(["replay", "changed.jsonl", "--mode", "verify"], in: dir)
        #expect(diverged.code == 1)
        #expect(diverged.out.contains("✗ diverged at event "), "\(diverged.out)\(diverged.err)")
    }
}

extension ModelRunTests {
    /// The default model on a shipped example: the run is recorded, then reproduced token for token.
    @Test(.requiresModel(RealModels.qwen)) func defaultModelExampleRunThenVerify() throws {
        _ = try RealModels.require(RealModels.qwen)
        let dir = try CLI.tempDirectory()
        let spec = CLI.repository + "/Examples/calculator.yaml"
        let run = try CLI.run(["run", spec, "--json", "--threads", "2", "--transcript", "calc.jsonl"], in: dir)
        let result = try JSONValue.parse(run.out)
        #expect([0, 1].contains(run.code), "\(run.err)")
        let transcript = try Transcript.read(path: dir + "/calc.jsonl")
        let stats = TranscriptStats(transcript)
        #expect(stats.steps >= 1 && stats.toolCalls >= 1, "the model made no tool call: \(result)")
        // Later turns reuse the cache: only the new suffix is prefilled.
        let later = transcript.events.compactMap { e -> ModelTurn? in
            if case .modelTurn(let step, let t) = e.event, step > 1 { return t } else { return nil }
        }
        for t in later { #expect(t.reusedTokens > t.promptTokens) }

        let verify = try CLI.run(["replay", "calc.jsonl", "--mode", "verify"], in: dir)
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
    }

    /// `loza calibrate` end to end on SmolLM2 (a natural-text sequence with planted keys plus a filler
    /// passkey document, 3 of 30 layers): the plan JSON carries the asked ratio and its figures, and
    /// `eval passkey` / `generate` accept it as --plan.
    @Test(.requiresModel(RealModels.smol)) func calibrateWritesAUsablePlan() throws {
        _ = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        let cal = try CLI.run(["calibrate", "--model", "smollm2-135m-instruct", "--ratio", "0.1", "--context", "1280",
                               "--sequences", "1", "--passkey-docs", "1", "--rescore-every", "3", "--mass-stride", "16",
                               "--threads", "2", "--out", "plan.json"], in: dir)
        #expect(cal.code == 0, "\(cal.err)")
        let plan = cal.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(plan.count == 30 && plan.filter { $0 == "S" }.count == 3, "\(plan)")
        let data = try #require(FileManager.default.contents(atPath: dir + "/plan.json"))
        let json = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        #expect(json["plan"]?.stringValue == plan)
        #expect(json["calibration"]?["single_layer"]?.arrayValue?.count == 30)
        #expect((json["calibration"]?["tokens_scored"]?.intValue ?? 0) > 300)
        #expect(json["calibration"]?["baseline_passkey_nll"]?.doubleValue != nil)
        let eval = try CLI.run(["eval", "passkey", "--model", "smollm2-135m-instruct", "--context", "1280", "--docs", "1",
                                "--attention", "loza", "--plan", "plan.json", "--threads", "2", "--json"], in: dir)
        #expect(eval.code == 0, "\(eval.err)")
        let result = try JSONValue.parse(eval.out)
        #expect(result["plan"]?.stringValue == plan)
        // Every trial is listed; the count of correct ones is the accuracy's numerator.
        let answers = try #require(result["answers"]?.arrayValue)
        #expect(Int64(answers.count) == result["trials"]?.intValue)
        let right = answers.filter { $0["correct"]?.boolValue == true }.count
        #expect(abs(Double(right) / Double(answers.count) - (result["accuracy"]?.doubleValue ?? -1)) < 1e-4)
        #expect(answers.allSatisfy { $0["key"]?.stringValue?.isEmpty == false && $0["answer"]?.stringValue != nil })
        let bad = try CLI.run(["calibrate", "--model", "smollm2-135m-instruct", "--passkey-docs", "-1", "--out", "x.json"], in: dir)
        #expect(bad.code != 0 && bad.err.contains("--passkey-docs"))
    }
}

extension ModelRunTests {
    /// A spec that leaves the plan to the model is verified with the plan its header recorded, not the plan
    /// shipped now: the run below is recorded with an all-sparse plan over a context past the sparse window,
    /// then its header is rewritten as a run under a former shipped plan looks (no `attention` in the spec,
    /// the plan only in the header's label). Verify reproduces it; with the label set to `full` it diverges.
    @Test(.requiresModel(RealModels.smol)) func verifyUsesTheRecordedPlan() throws {
        _ = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        let plan = String(repeating: "S", count: 30)
        let filler = (1...260).map { "Note \($0): the shipment of crate \($0 * 7 % 97) left on day \($0 % 31)." }.joined(separator: " ")
        try """
            name: pinned-plan
            model: smollm2-135m-instruct
            attention: {mode: loza, plan: \(plan)}
            sampling: {temperature: 0, max_tokens: 40}
            system: "\(filler)"
            prompt: Which crate left on day 12? Answer in one sentence.
            limits: {steps: 1, tokens: 400, wall: 5m}
            """.write(toFile: dir + "/pinned.yaml", atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "pinned.yaml", "--json", "--threads", "2", "--transcript", "run.jsonl"], in: dir)
        #expect(run.code == 0, "\(run.err)")
        let lines = try String(contentsOfFile: dir + "/run.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = try JSONValue.parse(lines[0])
        #expect(header["payload"]?["model"]?["attention"]?.stringValue == "loza:" + plan)
        #expect((header["payload"]?["spec"]?["attention"]) != nil)

        func rewritten(label: String) throws -> String {
            guard case .object(var event) = header, case .object(var payload)? = header["payload"],
                  case .object(var model)? = payload.first(where: { $0.key == "model" })?.value,
                  case .object(var spec)? = payload.first(where: { $0.key == "spec" })?.value else { Issue.record("header shape"); return "" }
            spec.removeAll { $0.key == "attention" }
            model = model.map { $0.key == "attention" ? JSONMember("attention", .string(label)) : $0 }
            payload = payload.map { $0.key == "spec" ? JSONMember("spec", .object(spec)) : $0.key == "model" ? JSONMember("model", .object(model)) : $0 }
            event = event.map { $0.key == "payload" ? JSONMember("payload", .object(payload)) : $0 }
            let name = label == "full" ? "full.jsonl" : "former.jsonl"
            try (([JSONValue.object(event).serialized(.compact)] + lines.dropFirst()).joined(separator: "\n") + "\n")
                .write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            return name
        }
        let former = try CLI.run(["replay", try rewritten(label: "loza:" + plan), "--mode", "verify"], in: dir)
        #expect(former.code == 0 && former.out.contains("✓ verified"), "\(former.out)\(former.err)")
        let full = try CLI.run(["replay", try rewritten(label: "full"), "--mode", "verify"], in: dir)
        #expect(full.code == 1 && full.out.contains("✗ diverged"), "\(full.out)\(full.err)")
    }
}
