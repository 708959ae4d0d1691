import AgentCore
import Engine
import Foundation

/// Turns a spec's attention settings into the engine's per-layer plan. With no settings the model's
/// own LoZA plan (a sidecar beside the model, or the plan shipped for its SHA-256) is used when there is
/// one, else full attention; `mode: full` forces dense attention; `mode: loza` requires a plan. The
/// choice itself (plan files, plan strings with the spec's B/S/L) is the engine's `AttentionChoice`.
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
        let plan: AttentionPlan
        if let s = settings {
            plan = try AttentionChoice.resolve(model: model, requested: requested, plan: s.plan, blockSize: s.blockSize,
                                               sinkBlocks: s.sinkBlocks, localBlocks: s.localBlocks).plan
        } else {
            plan = try AttentionChoice.resolve(model: model, requested: nil, plan: nil).plan
        }
        let label = plan.sparseCount == 0 ? "full" : "loza:\(plan.planString)"
        return Resolved(plan: plan, label: label, modelSHA256: sha)
    }
}
