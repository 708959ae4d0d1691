import AgentCore
import Foundation
import LocalModel
import RemoteModel

/// Builds the language model a spec names. The seam between the commands and the model modules.
enum ModelFactory {
    static func make(_ spec: TaskSpec, threads: Int?, reuseCache: Bool = true) throws -> any LanguageModel {
        switch spec.model {
        case .local(let reference):
            // A relative .gguf path in a spec is relative to the spec's folder.
            var ref = reference
            if ref.hasSuffix(".gguf") && !ref.hasPrefix("/") {
                ref = (spec.baseDirectory as NSString).appendingPathComponent(ref)
            }
            do {
                return try LocalChatModel(modelReference: ref, attention: spec.attention, threads: threads,
                                          constrainToolCalls: spec.constrainToolCalls, parallelCalls: spec.parallelCalls,
                                          tagCalls: spec.tagCalls, preferCopiedValues: spec.preferCopiedValues, reuseCache: reuseCache,
                                          speculation: spec.speculation == .off ? .off : .lookup)
            } catch {
                throw CLIError.input("model \(reference): \(error)")
            }
        case .remote(let settings):
            return RemoteChatModel(settings: settings)
        }
    }
}
