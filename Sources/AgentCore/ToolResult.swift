/// The outcome of one tool call, paired with the call by `callID`.
public struct ToolResult: Sendable, Hashable {
    public var callID: String
    public var name: String
    /// True when the tool ran and succeeded.
    public var ok: Bool
    /// The tool's output as given to the model (possibly truncated, with a marker).
    public var output: String
    /// One-line error when `ok` is false (sandbox failure, timeout, non-zero exit, invalid call...).
    public var error: String?
    public var exitCode: Int32?
    public var durationSeconds: Double
    /// Set when `output` was truncated: the SHA-256 (hex) of the full output and its byte count.
    public var fullOutputSHA256: String?
    public var fullOutputBytes: Int?
    /// Facts about how the call ran, for the transcript (not shown to the model), e.g.
    /// `sandbox: bubblewrap` or `sandbox: none` (the spec said `sandbox: none`: the tool ran unsandboxed).
    public var metadata: [String: String]

    public init(callID: String, name: String, ok: Bool, output: String, error: String? = nil, exitCode: Int32? = nil,
                durationSeconds: Double = 0, fullOutputSHA256: String? = nil, fullOutputBytes: Int? = nil,
                metadata: [String: String] = [:]) {
        self.callID = callID
        self.name = name
        self.ok = ok
        self.output = output
        self.error = error
        self.exitCode = exitCode
        self.durationSeconds = durationSeconds
        self.fullOutputSHA256 = fullOutputSHA256
        self.fullOutputBytes = fullOutputBytes
        self.metadata = metadata
    }

    public static func failure(callID: String, name: String, error: String, output: String = "", exitCode: Int32? = nil,
                               durationSeconds: Double = 0) -> ToolResult {
        ToolResult(callID: callID, name: name, ok: false, output: output, error: error, exitCode: exitCode,
                   durationSeconds: durationSeconds)
    }

    /// The text the model sees for this result.
    public var modelText: String {
        if ok { return output }
        var text = "error: " + (error ?? "tool failed")
        if !output.isEmpty { text += "\n" + output }
        return text
    }
}
