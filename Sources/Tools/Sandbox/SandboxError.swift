/// Why a sandboxed call could not run. Every case is shown to the model as a one-line error.
enum SandboxError: Error, CustomStringConvertible {
    case setup(String)

    var description: String {
        switch self {
        case .setup(let why): return "sandbox setup failed: \(why)"
        }
    }
}
