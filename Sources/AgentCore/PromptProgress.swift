/// Progress of prompt processing, for a progress line while a long prompt is prefilled.
///
/// The agent loop binds `report` around each `LanguageModel.respond` call; a model that processes its
/// prompt in chunks (the local engine) calls it with (tokens processed, tokens to process) as it goes.
/// Models that cannot tell simply never call it.
///
/// The task-local holds a struct rather than a bare closure: a task-local of optional function type
/// crashed in `swift_task_localValuePush` in release builds (Swift 6.3.1, null type metadata).
public struct PromptProgress: Sendable {
    public let report: @Sendable (_ processed: Int, _ total: Int) -> Void

    public init(_ report: @escaping @Sendable (_ processed: Int, _ total: Int) -> Void) {
        self.report = report
    }

    @TaskLocal public static var current: PromptProgress?

    /// Report progress to whoever bound `current` (nothing if nobody did).
    public static func report(_ processed: Int, _ total: Int) {
        current?.report(processed, total)
    }
}
