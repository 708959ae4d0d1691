import Foundation

/// Where model files live and how an alias becomes a path. A model argument is either a path to a
/// `.gguf` file or an alias such as `qwen2.5-coder-0.5b-instruct`, stored as `<directory>/<alias>.gguf`.
/// The directory is `$LOZA_MODELS`, default `~/.cache/loza/models`. Which aliases exist, and which is
/// the default, is the catalog's (`Catalog.ModelCatalog`).
public struct ModelStore: Sendable {
    public let directory: String

    public init(directory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let directory {
            self.directory = directory
        } else if let env = environment["LOZA_MODELS"], !env.isEmpty {
            self.directory = env
        } else {
            let home = environment["HOME"] ?? NSHomeDirectory()
            self.directory = home + "/.cache/loza/models"
        }
    }

    /// The file an alias is stored as (whether or not it exists).
    public func path(forAlias alias: String) -> String {
        directory + "/" + alias + ".gguf"
    }

    /// True when `spec` names a file rather than an alias (it has a `/` or ends in `.gguf`).
    public static func isPath(_ spec: String) -> Bool {
        spec.contains("/") || spec.hasSuffix(".gguf")
    }

    /// Resolve a model argument to an existing file.
    public func resolve(_ spec: String) throws(EngineError) -> String {
        let fm = FileManager.default
        if Self.isPath(spec) {
            let expanded = (spec as NSString).expandingTildeInPath
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: expanded, isDirectory: &isDir), !isDir.boolValue else {
                throw .fileNotFound(path: spec)
            }
            return expanded
        }
        let path = path(forAlias: spec)
        guard fm.fileExists(atPath: path) else { throw .modelNotFound(alias: spec, directory: directory) }
        return path
    }

    /// Aliases present in the directory (files `*.gguf`), sorted.
    public func installed() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".gguf") }.map { String($0.dropLast(5)) }.sorted()
    }
}
