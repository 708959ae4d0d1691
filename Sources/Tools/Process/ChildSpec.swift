/// How one child process is wired. File descriptors the child sees:
/// 0 stdin (a pipe when `stdinPipe`, else `/dev/null`), 1 stdout, 2 stderr (or stdout when `stderrIntoStdout`),
/// 3 a status pipe (`statusFD`: bwrap's `--json-status-fd`), 4 the tool's own stderr (`toolStderr`),
/// 5 a gate (`gated`: the child blocks reading it until the `prepare` hook of `Child.spawn` has run).
/// Nothing else is inherited, signals start at their defaults, and with `newSession` the child leads a
/// session (and process group) of its own.
struct ChildSpec: Sendable {
    enum ToolStderr: Sendable { case none, stdout, separate }

    var executable: String
    var arguments: [String]
    var environment: [String]
    var workingDirectory: String? = nil
    var stdinPipe = false
    var stderrIntoStdout = false
    var statusFD = false
    var toolStderr: ToolStderr = .none
    var gated = false
    var newSession = true
}

/// An output stream of a child, as `ChildPump` hands it to a sink.
enum ChildStream: Sendable, Hashable {
    case stdout, stderr, toolStderr
}

/// One step of the graceful part of a child's teardown (as swift-subprocess's `TeardownStep`). The
/// sequence always ends with SIGKILL of every process of the child, then reaping it.
enum TeardownStep: Sendable {
    /// Close the child's stdin (a server exits at the end of its input), then wait up to `grace` seconds.
    case closeInput(grace: Double)
    /// Send `signal` to the child's process group, the child and the sandbox's init, then wait up to
    /// `grace` seconds.
    case signal(Int32, grace: Double)
}
