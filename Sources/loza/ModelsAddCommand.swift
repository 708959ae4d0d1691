import ArgumentParser
import Catalog
import ChatTemplate
import Engine
import Foundation
import GGUF
import Tokenizer

extension ModelsCommand {
    /// `loza models add PATH [--alias NAME]`: a GGUF file of a supported architecture, checked and linked
    /// into the model directory so that its alias works wherever a model is named.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a local GGUF file and link it into $LOZA_MODELS under an alias.",
            discussion: """
                The file must be of a supported architecture (\(ModelConfig.supportedArchitectures.joined(separator: ", "))) \
                with a tokenizer; a chat template loza does not recognize is used as plain ChatML (with a warning). \
                Any command also takes the path itself wherever it takes a model.
                """)

        @Argument(help: "Path of a .gguf file.") var path: String
        @Option(help: "Alias to use (default: the file name without .gguf).") var alias: String?

        func run() throws {
            let source = URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL.path
            let name = alias ?? ((source as NSString).lastPathComponent as NSString).deletingPathExtension
            do {
                try Self.checkAlias(name)
                let facts = try LocalModelFacts(path: source)
                let store = ModelStore()
                let target = store.path(forAlias: name)
                try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true)
                if FileManager.default.fileExists(atPath: target) || (try? FileManager.default.destinationOfSymbolicLink(atPath: target)) != nil {
                    throw CLIError.input("\(target) already exists; choose another --alias")
                }
                try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: source)
                if let warning = facts.templateWarning { Console.err("warning: \(warning)\n") }
                print("\(name): \(facts.summary) -> \(target)")
            } catch let e as CLIError {
                Console.err("error: \(e.description)\n")
                throw ExitCode(e.code)
            } catch {
                Console.err("error: \(error)\n")
                throw ExitCode(1)
            }
        }

        /// A name that `ModelStore` reads as an alias (not a path) and that no catalog model uses.
        static func checkAlias(_ name: String) throws(CLIError) {
            let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
            guard !name.isEmpty, allowed, !name.hasPrefix("."), !ModelStore.isPath(name) else {
                throw .input("alias '\(name)' must be letters, digits, '.', '_' or '-', not ending in .gguf")
            }
            guard ModelCatalog.find(name) == nil else {
                throw .input("'\(name)' is the alias of a catalog model (loza models pull \(name)); choose another --alias")
            }
        }
    }
}

/// What loza makes of a local GGUF file: its architecture (the engine loads its configuration and
/// weights), its tokenizer and its chat template family. Throws a one-line `CLIError` when it cannot run.
struct LocalModelFacts {
    let architecture: String
    let family: ChatTemplate.Family
    let templateWarning: String?
    let layers: Int
    let bytes: Int

    init(path: String) throws(CLIError) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw .input("\(path): no such file")
        }
        let model: Model
        do { model = try Model(path: path) } catch { throw .input("\(error)") }
        do { _ = try Tokenizer(gguf: model.file) } catch { throw .input("\(path): no usable tokenizer: \(error)") }
        let template = ChatTemplate(template: model.file.string("tokenizer.chat_template"))
        architecture = model.config.architecture
        family = template.family
        templateWarning = template.warning.map { "\(path): \($0)" }
        layers = model.config.layerCount
        let file = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        bytes = ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? Int) ?? 0
    }

    var summary: String {
        "\(architecture), \(layers) layers, chat template \(family.rawValue)\(templateWarning == nil ? "" : " (fallback)"), \(bytes / 1_000_000) MB"
    }
}
