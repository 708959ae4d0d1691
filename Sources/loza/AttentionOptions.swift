import ArgumentParser
import Catalog
import Engine
import Logging

extension AttentionChoice.Requested: ExpressibleByArgument {}
extension Speculation: ExpressibleByArgument {}

/// `--attention full|loza` and `--plan FILE|STRING`, shared by the commands that run the model.
struct AttentionOptions: ParsableArguments {
    @Option(help: "Attention: full or loza (default: loza when a LoZA plan exists for the model, else full).")
    var attention: AttentionChoice.Requested?

    @Option(help: "LoZA plan: a plan JSON file, or one character per layer (F full, S sparse; \(LoZADefaults.summary)), a layer whose KV heads differ as one character per head in brackets (FS[FS]...).")
    var plan: String?

    /// The attention to run, logged (a notice); bad plans are input errors (exit 2).
    func resolve(_ model: Model) throws -> AttentionChoice {
        let choice: AttentionChoice
        do { choice = try AttentionChoice.resolve(model: model, requested: attention, plan: plan) } catch {
            throw CLIError.input("\(error)")
        }
        Logger(label: "loza.model").notice("\(choice.summary)")
        return choice
    }
}
