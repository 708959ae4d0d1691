/// Progress of prompt processing, for a progress line while a long prompt is prefilled.
///
/// The agent loop binds a reporter around each `LanguageModel.respond` call; a model that processes its
/// prompt in chunks (the local engine) reads `PromptProgress.report` when its call starts and calls it with
/// (tokens processed, tokens to process) as it goes. Models that cannot tell simply never call it.
public enum PromptProgress {
    /// The reporter bound to the current task, if any.
    public static var report: (@Sendable (_ processed: Int, _ total: Int) -> Void)? { current?.handler }

    /// Run `operation` with `handler` as the current task's reporter.
    public static func withReporter<T: Sendable>(_ handler: @escaping @Sendable (Int, Int) -> Void,
                                                 operation: () async throws -> T) async rethrows -> T {
        try await $current.withValue(Reporter(handler), operation: operation)
    }

    /// A class box: task-local values of closure type crash the 6.x runtime in optimized builds here.
    public final class Reporter: Sendable {
        let handler: @Sendable (Int, Int) -> Void
        init(_ handler: @escaping @Sendable (Int, Int) -> Void) { self.handler = handler }
    }

    @TaskLocal static var current: Reporter?
}
