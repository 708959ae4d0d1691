import AgentCore
import Foundation

/// The built-in `shell` tool: `{"command": string}` run as `/bin/sh -c` in the sandbox.
/// The result is stdout and stderr through one pipe, so they interleave exactly in the order the command
/// wrote them, and the exit status.
public struct ShellTool: Tool {
    public let declaration = ToolDeclaration(
        name: "shell",
        description: "Run a shell command (/bin/sh -c) in a sandboxed work directory. Returns its combined stdout and stderr and its exit status.",
        parameters: [
            "type": "object",
            "properties": ["command": ["type": "string", "description": "The shell command to run."]],
            "required": ["command"],
        ])
    let sandbox: Sandbox

    public init(policy: SandboxPolicy) {
        sandbox = Sandbox(policy: policy)
    }

    public func call(id: String, arguments: JSONValue) async -> ToolResult {
        guard let command = arguments["command"]?.stringValue else {
            return .failure(callID: id, name: declaration.name, error: "missing string argument 'command'")
        }
        let run = await sandbox.run(SandboxCommand(argv: ["/bin/sh", "-c", command]))
        return ToolResult.from(run, callID: id, name: declaration.name, policy: sandbox.policy, output: run.stdout)
    }

    public func shutdown() async {
        CallCgroup.drainPool()
    }
}

extension ToolResult {
    /// The result of a sandboxed command: ok when it exited 0; otherwise a one-line error saying why.
    static func from(_ run: SandboxRun, callID: String, name: String, policy: SandboxPolicy, output: CapturedText,
                     stderr: CapturedText? = nil) -> ToolResult {
        var metadata = ["sandbox": run.sandboxed ? "bubblewrap" : "none"]
        if run.sandboxed { metadata["process_limit"] = policy.processLimit.rawValue }
        let p = run.process
        if let failure = run.failure {
            return ToolResult(callID: callID, name: name, ok: false, output: "", error: failure,
                              durationSeconds: p.durationSeconds, metadata: metadata)
        }
        var error: String?
        if p.timedOut {
            error = "timed out after \(formatSeconds(run.timeoutSeconds(policy))); every process of the call was killed"
        } else if let reason = p.killReason {
            error = reason
        } else if let code = p.exitCode, code != 0 {
            if run.sandboxed && code > 128 && code < 160 {
                error = "killed by signal \(code - 128)\(signalHint(code - 128, policy))"
            } else {
                error = "exit status \(code)"
            }
        } else if let sig = p.signal {
            error = "killed by signal \(sig)\(signalHint(sig, policy))"
        }
        if !run.setuidCleared.isEmpty {
            metadata["setuid_cleared"] = run.setuidCleared.joined(separator: " ")
        }
        var notes: [String] = []
        if run.processLimitHits > 0 { notes.append("the process limit of \(policy.settings.processes) was hit \(run.processLimitHits) times") }
        if run.oomKills > 0 { notes.append("the memory limit of \(policy.settings.memoryBytes >> 20) MiB killed \(run.oomKills) process(es)") }
        if !notes.isEmpty {
            metadata["limits_hit"] = notes.joined(separator: "; ")
            if error != nil { error! += " (\(notes.joined(separator: "; ")))" }
        }
        if let stderr, error != nil, p.exitCode != nil && !p.timedOut && p.killReason == nil,
           let line = stderr.text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            error! += ": " + String(line.prefix(300))
        }
        var text = output.text
        if let stderr, !stderr.text.isEmpty, error != nil {
            text += (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "[stderr]\n" + stderr.text
        }
        return ToolResult(callID: callID, name: name, ok: error == nil, output: text, error: error,
                          exitCode: p.exitCode, durationSeconds: p.durationSeconds,
                          fullOutputSHA256: output.truncated ? output.sha256 : nil,
                          fullOutputBytes: output.truncated ? output.totalBytes : nil, metadata: metadata)
    }

    private static func signalHint(_ sig: Int32, _ policy: SandboxPolicy) -> String {
        switch sig {
        case 9: return " (SIGKILL: likely the memory limit of \(policy.settings.memoryBytes >> 20) MiB)"
        case 24: return " (SIGXCPU: CPU limit of \(policy.settings.cpuSeconds)s)"
        case 25: return " (SIGXFSZ: file size limit of \(policy.settings.fileSizeBytes >> 20) MiB)"
        default: return ""
        }
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s))s" : "\(s)s"
    }
}

extension SandboxRun {
    func timeoutSeconds(_ policy: SandboxPolicy) -> Double { timeout ?? policy.settings.timeoutSeconds }
}
