@testable import Engine
import Catalog
import Foundation
import TestSupport
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

    /// The shipped plans are resources read at run time, one per catalog model; the calibration run that
    /// chose each is kept in Docs/calibration/<alias>.json with the same plan.
    @Test func shippedPlansDecodeAndMatchTheirModels() throws {
        let shipped = try ShippedPlans.all()
        #expect(shipped.map(\.model_sha256).sorted() == ModelCatalog.models.map(\.sha256).sorted())
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Docs/calibration").standardized
        for model in ModelCatalog.models {
            let f = try #require(try ShippedPlans.plan(forModelSHA256: model.sha256))
            #expect(f.model == model.alias + ".gguf")
            let p = try #require(f.attentionPlan)
            #expect(p.sparseCount > 0 && p.sparseCount < p.layers.count)
            let trace = try LoZAPlanFile.load(path: docs.appendingPathComponent(model.alias + ".json").path)
            #expect(trace.model_sha256 == f.model_sha256 && trace.plan == f.plan && trace.ratio == f.ratio)
            #expect(trace.block_size == f.block_size && trace.sink_blocks == f.sink_blocks && trace.local_blocks == f.local_blocks)
            #expect(trace.calibration != nil, "the calibration figures that chose the shipped plan")
        }
        #expect(try ShippedPlans.plan(forModelSHA256: String(repeating: "0", count: 64)) == nil)
    }

    @Test(.requiresModel(RealModels.smol)) func attentionChoiceForTheTestModel() throws {
        let model = try TestModels.model("smollm2-135m-instruct")
        let n = model.config.layerCount
        let full = try AttentionChoice.resolve(model: model, requested: .full, plan: nil)
        #expect(full.mode == "full" && full.plan == .full(layerCount: n))
        let alt = String((0..<n).map { $0 % 2 == 0 ? "F" : "S" })
        let c = try AttentionChoice.resolve(model: model, requested: nil, plan: alt)
        #expect(c.mode == "loza" && c.plan.planString == alt && c.plan.sparseCount == n / 2)
        #expect(c.summary.contains("\(n / 2)/\(n) sparse"))
        // A plan string takes the B/S/L given (a spec's), else the LoZA defaults.
        #expect(c.plan.layers[1] == .sparse(blockSize: 128, sinkBlocks: 1, localBlocks: 7))
        let custom = try AttentionChoice.resolve(model: model, requested: .loza, plan: alt, blockSize: 64, sinkBlocks: 2,
                                                 localBlocks: 3)
        #expect(custom.plan.layers[0] == .full && custom.plan.layers[1] == .sparse(blockSize: 64, sinkBlocks: 2, localBlocks: 3))
        #expect(throws: EngineError.badPlan(source: alt, message: "neither a file nor a plan string of F and S")) {
            try AttentionChoice.resolve(model: model, requested: .loza, plan: alt, blockSize: 0)
        }
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
        if try ShippedPlans.plan(forModelSHA256: sha) != nil { #expect(def.mode == "loza" && def.source.contains("shipped")) }
    }
}
