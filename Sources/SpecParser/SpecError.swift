/// A bad spec: one line, `file:line:col: message` (or `file: message` / `message` when there is no position).
/// The command line exits with code 2 on it.
public struct SpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String?, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var prefix = ""
        if let file { prefix = file }
        if let line {
            prefix += prefix.isEmpty ? "\(line)" : ":\(line)"
            if let column { prefix += ":\(column)" }
        }
        return prefix.isEmpty ? message : "\(prefix): \(message)"
    }
}
