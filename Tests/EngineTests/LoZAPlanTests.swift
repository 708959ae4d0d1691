@testable import Engine
import Foundation
import Testing

/// Plan files, plan strings and the choice of attention for a loaded model.
struct LoZAPlanTests {
    @Test func planFileRoundTripAndBadInput() throws {
        let f = LoZAPlanFile(model: "m.gguf", model_sha256: String(repeating: "a", count: 64), plan: "FSSF", ratio: 0.5, calibration: nil)
        let back = try LoZAPlanFile.decode(f.encoded(), source: "x")
        #expect(back == f)
        #expect(back.attentionPlan?.planString == "FSSF")
        #expect(throws: EngineError.badPlan(source: "p.json", message: "missing key 'plan'")) {
            try LoZAPlanFile.decode(Data(#"{"model_sha256":"ab","block_size":128,"sink_blocks":1,"local_blocks":7,"ratio":0.5}"#.utf8), source: "p.json")
        }
        let bad = LoZAPlanFile(model: nil, model_sha256: "ab", plan: "FQ", ratio: 0.5, calibration: nil)
        #expect(bad.attentionPlan == nil)
    }

    @Test func shippedPlansDecodeAndMatchTheirModels() throws {
        for (sha, json) in ShippedPlans.byModelSHA256 {
            let f = try LoZAPlanFile.decode(Data(json.utf8), source: "shipped")
            #expect(f.model_sha256 == sha)
            let p = try #require(f.attentionPlan)
            #expect(p.sparseCount > 0 && p.sparseCount < p.layers.count)
            #expect(f.calibration != nil, "a shipped plan carries its calibration figures")
        }
    }

    @Test func attentionChoiceForTheTestModel() throws {
        let model = try TestModels.model("smollm2-135m-instruct")
        let n = model.config.layerCount
        let full = try AttentionChoice.resolve(model: model, requested: .full, plan: nil)
        #expect(full.mode == "full" && full.plan == .full(layerCount: n))
        let alt = String((0..<n).map { $0 % 2 == 0 ? "F" : "S" })
        let c = try AttentionChoice.resolve(model: model, requested: nil, plan: alt)
        #expect(c.mode == "loza" && c.plan.planString == alt && c.plan.sparseCount == n / 2)
        #expect(c.summary.contains("\(n / 2)/\(n) sparse"))
        #expect(throws: EngineError.badPlan(source: "FS", message: "has 2 layers, the model has \(n)")) {
            try AttentionChoice.resolve(model: model, requested: nil, plan: "FS")
        }
        #expect(throws: EngineError.badPlan(source: alt, message: "--plan contradicts --attention full")) {
            try AttentionChoice.resolve(model: model, requested: .full, plan: alt)
        }
        // With no plan asked for: the shipped (or sidecar) plan when there is one, loza then; else full.
        let def = try AttentionChoice.resolve(model: model, requested: nil, plan: nil)
        let sha = try ModelHash.sha256(path: model.path)
        #expect(sha.count == 64)
        if ShippedPlans.byModelSHA256[sha] != nil { #expect(def.mode == "loza" && def.source.contains("shipped")) }
    }
}
