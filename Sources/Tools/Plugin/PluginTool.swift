import AgentCore
import Foundation

/// An executable plugin: a folder with `tool.yaml` and an executable. The call's arguments go to the
/// command's stdin as one JSON object; its stdout is the result. A non-zero exit is a tool error, with
/// stderr kept. The command runs in the sandbox with its folder bound read-only at the same path.
public struct PluginTool: Tool {
    public let declaration: ToolDeclaration
    public let manifest: PluginManifest
    /// Absolute, symlink-free path of the plugin folder.
    public let folder: String
    let argv: [String]
    let sandbox: Sandbox

    /// Loads `path` (a plugin folder, or its `tool.yaml`), relative to `baseDirectory`.
    public init(path: String, baseDirectory: String, policy: SandboxPolicy) throws {
        var dir = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        if dir.hasSuffix("/tool.yaml") || dir == "tool.yaml" { dir = (dir as NSString).deletingLastPathComponent }
        dir = ((dir as NSString).standardizingPath as NSString).resolvingSymlinksInPath
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ToolSetupError("plugin folder \(dir) does not exist")
        }
        let yamlPath = dir + "/tool.yaml"
        guard let data = FileManager.default.contents(atPath: yamlPath) else {
            throw ToolSetupError("\(yamlPath): cannot read (a plugin folder needs a tool.yaml)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ToolSetupError("\(yamlPath):1:1: not UTF-8 text") }
        let manifest = try PluginManifest.parse(text, file: yamlPath)
        self.manifest = manifest
        folder = dir
        argv = try PluginTool.resolve(command: manifest.command, folder: dir, yamlPath: yamlPath)
        declaration = ToolDeclaration(name: manifest.name, description: manifest.description, parameters: manifest.parameters)
        // A plugin may tighten the spec's limits, never loosen them.
        var p = policy
        let s = policy.settings
        if let m = manifest.memoryBytes { p.settings.memoryBytes = min(m, s.memoryBytes) }
        if let n = manifest.processes { p.settings.processes = min(n, s.processes) }
        if let o = manifest.outputBytes { p.settings.outputBytes = min(o, s.outputBytes) }
        if let c = manifest.cpuSeconds { p.settings.cpuSeconds = min(c, s.cpuSeconds) }
        if let t = manifest.timeoutSeconds { p.settings.timeoutSeconds = min(t, s.timeoutSeconds) }
        sandbox = Sandbox(policy: p)
    }

    /// argv[0] with a `/`, or naming a file of the folder, is taken relative to the folder (else found on
    /// PATH inside the sandbox); later arguments naming a file of the folder become its absolute path.
    static func resolve(command: [String], folder: String, yamlPath: String) throws -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for (i, arg) in command.enumerated() {
            let candidate = (folder as NSString).appendingPathComponent(arg)
            let inFolder = !arg.hasPrefix("/") && !arg.hasPrefix("-") && fm.fileExists(atPath: candidate)
            if i == 0 && arg.contains("/") && !arg.hasPrefix("/") && !inFolder {
                throw ToolSetupError("\(yamlPath): command: \(arg) does not exist in \(folder)")
            }
            if i == 0 && inFolder && !fm.isExecutableFile(atPath: candidate) {
                throw ToolSetupError("\(yamlPath): command: \(candidate) is not executable")
            }
            out.append(inFolder ? (candidate as NSString).standardizingPath : arg)
        }
        return out
    }

    public func call(id: String, arguments: JSONValue) async -> ToolResult {
        let input = Array((arguments.serialized(.compact) + "\n").utf8)
        let run = await sandbox.run(SandboxCommand(argv: argv, stdin: input, separateStderr: true, readOnly: [folder]))
        return ToolResult.from(run, callID: id, name: declaration.name, policy: sandbox.policy, output: run.stdout,
                               stderr: run.stderr)
    }
}
