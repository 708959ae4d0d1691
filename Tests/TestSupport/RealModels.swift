import Catalog
import Engine
import Foundation
import Testing

/// The real models of the catalog, where the tests find them: `$LOZA_MODELS`, default
/// `~/.cache/loza/models` (the engine's `ModelStore` decides), as `<alias>.gguf`.
///
/// A test that needs one declares it with the `.requiresModel(...)` trait: without the file it is
/// skipped with a note saying how to get it, except under CI (the environment variable `CI` set, as
/// `.ci/run` runs), where it runs and fails naming the missing file.
public enum RealModels {
    /// The default model (Qwen2.5-Coder-0.5B-Instruct).
    public static let qwen = ModelCatalog.defaultAlias
    /// The fast test model (SmolLM2-135M-Instruct).
    public static let smol = "smollm2-135m-instruct"

    /// Under CI a missing model fails the tests that need it instead of skipping them.
    public static var required: Bool {
        !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    }

    public static func path(_ alias: String) -> String { ModelStore().path(forAlias: alias) }

    public static func isPresent(_ alias: String) -> Bool { FileManager.default.fileExists(atPath: path(alias)) }

    /// Why a test without its model is skipped.
    static func missingNote(_ aliases: [String]) -> String {
        let missing = aliases.filter { !isPresent($0) }
        return "needs the model file \(missing.map(path).joined(separator: ", ")): run "
            + missing.map { "`loza models pull \($0)`" }.joined(separator: " and ")
            + " or set LOZA_MODELS (with CI set, a missing model fails the test)"
    }

    /// The path of a model the test needs. A missing file is a failure naming it (a test declared with
    /// `.requiresModel` only gets here without it under CI).
    public static func require(_ alias: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let p = path(alias)
        try #require(FileManager.default.fileExists(atPath: p),
                     "model file \(p) is missing: run `loza models pull \(alias)` or set LOZA_MODELS",
                     sourceLocation: sourceLocation)
        return p
    }
}

extension Trait where Self == ConditionTrait {
    /// The test runs with the real models named (catalog aliases): skipped with a note when one is
    /// missing, unless `CI` is set, where it runs (and fails on the missing file).
    public static func requiresModel(_ aliases: String..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        let ready = RealModels.required || aliases.allSatisfy(RealModels.isPresent)
        let note = ready ? "needs \(aliases.joined(separator: ", "))" : RealModels.missingNote(aliases)
        return .enabled(if: ready, Comment(rawValue: note), sourceLocation: sourceLocation)
    }

    /// A speed measurement (figures printed, not asserted): runs only with `LOZA_BENCH` set.
    public static var benchmark: Self {
        .enabled(if: ProcessInfo.processInfo.environment["LOZA_BENCH"] != nil,
                 "a benchmark: runs with LOZA_BENCH=1")
    }
}
