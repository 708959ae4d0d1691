import AgentCore
import Engine
import Foundation

/// Turns a spec's attention settings into the engine's per-layer plan. With no settings the model's
/// own LoZA plan (a sidecar beside the model, or the plan shipped for its SHA-256) is used when there is
/// one, else full attention; `mode: full` forces dense attention; `mode: loza` requires a plan.
enum AttentionResolver {
    struct Resolved {
        var plan: AttentionPlan
        /// For transcript headers and the run's banner: "full" or "loza:<plan>".
        var label: String
        var modelSHA256: String
    }

    static func plan(for model: Model, settings: AttentionSettings?) throws -> Resolved {
        let sha = try ModelHash.sha256(path: model.path)
        let requested: AttentionChoice.Requested? = settings.map { $0.mode == .full ? .full : .loza }
        var plan: AttentionPlan
        if let s = settings, let text = s.plan, !FileManager.default.fileExists(atPath: text),
           s.blockSize != 128 || s.sinkBlocks != 1 || s.localBlocks != 7 {
            // A plan string with non-default B/S/L from the spec.
            guard let p = AttentionPlan(planString: text, blockSize: s.blockSize, sinkBlocks: s.sinkBlocks,
                                        localBlocks: s.localBlocks) else {
                throw EngineError.badPlan(source: text, message: "neither a file nor a plan string of F and S")
            }
            guard p.layers.count == model.config.layerCount else {
                throw EngineError.badPlan(source: text, message: "has \(p.layers.count) layers, the model has \(model.config.layerCount)")
            }
            plan = p
        } else {
            plan = try AttentionChoice.resolve(model: model, requested: requested, plan: settings?.plan).plan
        }
        let label = plan.sparseCount == 0 ? "full" : "loza:\(plan.planString)"
        return Resolved(plan: plan, label: label, modelSHA256: sha)
    }
}
