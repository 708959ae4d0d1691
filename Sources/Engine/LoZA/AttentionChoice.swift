import Catalog
import Foundation

/// Which attention a session runs, chosen from `--attention full|loza` and `--plan FILE|STRING`:
///  - `full`: dense everywhere;
///  - a plan given: that plan (a JSON plan file, or a string of F/S, one per layer or, bracketed, one
///    per KV head of a layer, with the B/S/L
///    given, default `LoZADefaults`: 128/1/7; a plan file has its own);
///  - otherwise the model's own plan: a sidecar `<model>.loza.json` beside the model file, or the plan
///    shipped with loza for that file's SHA-256; with `loza` asked for and no plan, an error; with
///    nothing asked for and no plan, full attention.
public struct AttentionChoice: Sendable {
    public enum Requested: String, Sendable, CaseIterable { case full, loza }

    public var plan: AttentionPlan
    /// "full" or "loza".
    public var mode: String
    /// Where the plan came from: "full", "shipped plan <sha prefix>", a file path, "plan string".
    public var source: String
    /// The plan file, when one was used.
    public var file: LoZAPlanFile?

    /// One line for stderr: `attention: loza FSFS... (12/24 sparse, B128 S1 L7; shipped plan for sha256 ab12...)`.
    public var summary: String {
        if mode == "full" { return "attention: full (\(plan.layers.count) layers)" }
        var bsl = ""
        if case let .sparse(b, s, l)? = plan.layers.lazy.compactMap(\.firstSparse).first { bsl = ", B\(b) S\(s) L\(l)" }
        let perHead = plan.layers.contains { if case .heads = $0 { true } else { false } }
        let count = perHead ? "\(plan.sparseCount)/\(plan.layers.count) layers with sparse heads"
                            : "\(plan.sparseCount)/\(plan.layers.count) sparse"
        return "attention: loza \(plan.planString) (\(count)\(bsl); \(source))"
    }

    public static func sidecarPath(forModel path: String) -> String {
        (path.hasSuffix(".gguf") ? String(path.dropLast(5)) : path) + ".loza.json"
    }

    /// `blockSize`, `sinkBlocks` and `localBlocks` are the SSA parameters of a plan string (a spec's
    /// `attention.block_size` ...); a plan file has its own.
    public static func resolve(model: Model, requested: Requested?, plan: String?,
                               blockSize: Int = LoZADefaults.blockSize, sinkBlocks: Int = LoZADefaults.sinkBlocks,
                               localBlocks: Int = LoZADefaults.localBlocks) throws(EngineError) -> AttentionChoice {
        let layers = model.config.layerCount
        if requested == .full {
            if plan != nil { throw .badPlan(source: plan!, message: "--plan contradicts --attention full") }
            return AttentionChoice(plan: .full(layerCount: layers), mode: "full", source: "full", file: nil)
        }
        if let plan {
            if FileManager.default.fileExists(atPath: plan) {
                let f = try LoZAPlanFile.load(path: plan)
                let sha = try ModelHash.sha256(path: model.path)
                guard f.model_sha256 == sha else {
                    throw .badPlan(source: plan, message: "calibrated for model sha256 \(f.model_sha256.prefix(12))..., the loaded model is \(sha.prefix(12))...")
                }
                return try choice(f, source: plan, layers: layers, kvHeads: model.config.kvHeadCount)
            }
            guard let p = AttentionPlan(planString: plan, blockSize: blockSize, sinkBlocks: sinkBlocks,
                                        localBlocks: localBlocks) else {
                throw .badPlan(source: plan, message: "neither a file nor a plan string of F and S")
            }
            guard p.layers.count == layers else {
                throw .badPlan(source: plan, message: "has \(p.layers.count) layers, the model has \(layers)")
            }
            guard p.fits(kvHeads: model.config.kvHeadCount) else {
                throw .badPlan(source: plan, message: "a per-head layer must list \(model.config.kvHeadCount) heads (the model's KV heads)")
            }
            return AttentionChoice(plan: p, mode: p.sparseCount > 0 ? "loza" : "full", source: "plan string", file: nil)
        }
        if let found = try modelPlan(model: model) { return found }
        if requested == .loza {
            throw .badPlan(source: model.path, message: "no LoZA plan for this model (none shipped for its SHA-256, no \(sidecarPath(forModel: model.path))); run loza calibrate or give --plan")
        }
        return AttentionChoice(plan: .full(layerCount: layers), mode: "full", source: "full (no plan for this model)", file: nil)
    }

    /// The sidecar beside the model file, else the shipped plan for its SHA-256, else nil.
    public static func modelPlan(model: Model) throws(EngineError) -> AttentionChoice? {
        let layers = model.config.layerCount
        let sha = try ModelHash.sha256(path: model.path)
        let side = sidecarPath(forModel: model.path)
        if FileManager.default.fileExists(atPath: side) {
            let f = try LoZAPlanFile.load(path: side)
            if f.model_sha256 == sha { return try choice(f, source: side, layers: layers, kvHeads: model.config.kvHeadCount) }
        }
        if let f = try ShippedPlans.plan(forModelSHA256: sha) {
            return try choice(f, source: "shipped plan for sha256 \(sha.prefix(12))", layers: layers,
                              kvHeads: model.config.kvHeadCount)
        }
        return nil
    }

    static func choice(_ f: LoZAPlanFile, source: String, layers: Int, kvHeads: Int) throws(EngineError) -> AttentionChoice {
        guard let p = f.attentionPlan else { throw .badPlan(source: source, message: "plan '\(f.plan)' must be F/S characters (per-head layers in brackets) with B >= 1, S >= 0, L >= 1") }
        guard p.layers.count == layers else { throw .badPlan(source: source, message: "has \(p.layers.count) layers, the model has \(layers)") }
        guard p.fits(kvHeads: kvHeads) else { throw .badPlan(source: source, message: "a per-head layer must list \(kvHeads) heads (the model's KV heads)") }
        return AttentionChoice(plan: p, mode: p.sparseCount > 0 ? "loza" : "full", source: source, file: f)
    }
}
