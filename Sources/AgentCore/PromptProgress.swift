/// Progress of prompt processing, for a progress line while a long prompt is prefilled.
///
/// The agent loop binds `report` around each `LanguageModel.respond` call; a model that processes its
/// prompt in chunks (the local engine) calls it with (tokens processed, tokens to process) as it goes.
/// Models that cannot tell simply never call it.
public enum PromptProgress {
    @TaskLocal public static var report: (@Sendable (_ processed: Int, _ total: Int) -> Void)?
}
