/// Why a tokenizer could not be built from a vocabulary. `description` is one line naming what is
/// wrong and where.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "tokenizer: \(message)" }
}
