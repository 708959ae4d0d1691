/// A failure talking to a remote chat-completions server, as one line.
public struct RemoteModelError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Whether a fresh attempt may succeed (connection failure, HTTP 5xx or 429) when no token was streamed yet.
    public var retryable: Bool

    public init(_ message: String, retryable: Bool = false) {
        self.message = message
        self.retryable = retryable
    }

    public var description: String { message }
}
