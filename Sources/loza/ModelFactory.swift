import AgentCore

/// Builds the language model a spec names. The seam between the commands and the model modules.
enum ModelFactory {
    static func make(_ spec: TaskSpec, threads: Int?) throws -> any LanguageModel {
        switch spec.model {
        case .local(let reference):
            throw CLIError.input("model \(reference): the local engine is not wired into this build yet")
        case .remote(let settings):
            throw CLIError.input("model \(settings.url): remote models are not wired into this build yet")
        }
    }
}
