import Synchronization

/// Cancellation for work running on a thread of its own (outside Swift's task tree, where
/// `Task.isCancelled` is always false): the owner sets it, the decode loop and prefill check it
/// between tokens and between prefill batches.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
