import AgentCore
import Engine
import GGUF

/// Turns a spec's attention settings into the engine's per-layer plan.
enum AttentionResolver {
    struct Resolved {
        var plan: AttentionPlan
        /// For transcript headers: "full" or "loza:<plan>".
        var label: String
        var modelSHA256: String
    }

    static func plan(for model: Model, settings: AttentionSettings?) throws -> Resolved {
        let sha = try GGUFFile.sha256(path: model.path)
        let layers = model.config.layerCount
        return Resolved(plan: .full(layerCount: layers), label: "full", modelSHA256: sha)
    }
}
