import AgentCore
import Foundation
import TestSupport
import Testing

/// `loza batch` through the binary with the real SmolLM2: inline and file specs, bad lines as results,
/// resume, one model load, and the same results with two jobs as with one (temperature 0).
@Suite(.serialized) struct BatchCommandTests {
    static func inline(_ id: String, prompt: String) -> String {
        let spec: JSONValue = [
            "name": .string(id), "model": .string(RealModels.smol),
            "sampling": ["temperature": 0, "max_tokens": 24], "prompt": .string(prompt),
            "tools": [["declare": ["name": "get_weather", "description": "Weather of a city.",
                                   "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]]]],
            "limits": ["steps": 2],
        ]
        return JSONValue.object([JSONMember("id", .string(id)), JSONMember("spec", spec)]).serialized()
    }

    static func tasks(in dir: String) throws {
        try """
            name: from-file
            model: \(RealModels.smol)
            sampling: {temperature: 0, max_tokens: 16}
            prompt: Say hello to {{who}}.
            parameters: {who: null}
            """.write(toFile: dir + "/hello.yaml", atomically: true, encoding: .utf8)
        let lines = [
            inline("w1", prompt: "What is the weather in Paris?"),
            #"{"id": "f1", "spec": "hello.yaml", "params": {"who": "Ada"}}"#,
            #"{"id": "bad", "spec": {"name": "x", "promt": "hi"}}"#,
            "{not json",
            inline("w1", prompt: "duplicate id"),
            inline("w2", prompt: "Weather in Oslo, please."),
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/tasks.jsonl", atomically: true, encoding: .utf8)
    }

    static func results(_ path: String) throws -> [String: JSONValue] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var byID: [String: JSONValue] = [:]
        for line in text.split(separator: "\n") {
            let v = try JSONValue.parse(String(line))
            let id = try #require(v["id"]?.stringValue)
            if byID[id] == nil { byID[id] = v }
        }
        return byID
    }

    @Test(.requiresModel(RealModels.smol)) func aBatchResumesAndTwoJobsGiveTheSameResults() throws {
        _ = try RealModels.require(RealModels.smol)
        let dir = try CLI.tempDirectory()
        try Self.tasks(in: dir)
        let first = try CLI.run(["batch", "tasks.jsonl", "--out", "one.jsonl", "--threads", "2", "--json", "--log-level", "info"], in: dir)
        #expect(first.code == 0, "\(first.err)")
        let summary = try JSONValue.parse(first.out)
        #expect(summary["tasks"] == 6 && summary["done"] == 6 && summary["skipped"] == 0, "\(first.out)")
        // One model load for the three runnable tasks.
        #expect(first.err.components(separatedBy: "model loaded").count - 1 == 1, "\(first.err)")
        let one = try Self.results(dir + "/one.jsonl")
        #expect(Set(one.keys) == ["w1", "f1", "bad", "line-4", "line-5", "w2"])
        #expect(one["bad"]?["status"] == "error" && one["bad"]?["reason"]?.stringValue?.hasPrefix("tasks.jsonl:3: spec: unknown key 'promt'") == true)
        #expect(one["line-4"]?["reason"]?.stringValue?.hasPrefix("tasks.jsonl:4: invalid JSON") == true)
        #expect(one["line-5"]?["reason"] == "tasks.jsonl:5: id 'w1' is used by an earlier line")
        for id in ["w1", "f1", "w2"] {
            let r = try #require(one[id])
            #expect(["final", "calls", "budget", "failed"].contains(r["status"]?.stringValue ?? ""), "\(r)")
            let transcript = try #require(r["transcript"]?.stringValue)
            #expect(FileManager.default.fileExists(atPath: dir + "/" + transcript), "\(transcript)")
            for call in r["calls"]?.arrayValue ?? [] { #expect(call["turn"] == 0 && call["step"] != nil && call["name"] != nil) }
        }
        // The file spec got its parameter.
        let fileTranscript = try String(contentsOfFile: dir + "/" + (one["f1"]?["transcript"]?.stringValue ?? ""), encoding: .utf8)
        #expect(fileTranscript.contains("Say hello to Ada."))

        // Resume: nothing left to do.
        let again = try CLI.run(["batch", "tasks.jsonl", "--out", "one.jsonl", "--threads", "2", "--json"], in: dir)
        #expect(try JSONValue.parse(again.out)["skipped"] == 6 && again.err.contains("6 of 6 tasks already in one.jsonl"), "\(again.err)")

        // Two jobs: the same statuses, answers and calls.
        let two = try CLI.run(["batch", "tasks.jsonl", "--out", "two.jsonl", "--jobs", "2", "--threads", "2"], in: dir)
        #expect(two.code == 0, "\(two.err)")
        let parallel = try Self.results(dir + "/two.jsonl")
        for id in ["w1", "f1", "w2"] {
            for key in ["status", "answer", "calls", "steps", "tokens"] {
                #expect(one[id]?[key] == parallel[id]?[key], "\(id).\(key): \(String(describing: one[id]?[key])) vs \(String(describing: parallel[id]?[key]))")
            }
        }
    }

    @Test func badUsageIsOneLineAndExitTwo() throws {
        let dir = try CLI.tempDirectory()
        let missing = try CLI.run(["batch", "nope.jsonl", "--out", "r.jsonl"], in: dir)
        #expect(missing.code == 2 && missing.err == "nope.jsonl: no such file\n", "\(missing.err)")
        try "".write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        let jobs = try CLI.run(["batch", "t.jsonl", "--out", "r.jsonl", "--jobs", "0"], in: dir)
        #expect(jobs.code == 2 && jobs.err.contains("--jobs"), "\(jobs.err)")
    }
}
