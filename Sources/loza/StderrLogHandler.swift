import Logging

/// loza's log handler: one line per message on stderr. A notice is the message alone, and a warning or an error
/// starts with its level (`warning: ...`), as loza's messages always did; trace, debug and info lines also name
/// their logger (`debug [loza.run]: ...`). Metadata follows as ` key=value`, sorted by key.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Console.err(line(event) + "\n")
    }

    func line(_ event: LogEvent) -> String {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        var text: String
        switch event.level {
        case .notice: text = ""
        case .warning, .error, .critical: text = "\(event.level): "
        case .trace, .debug, .info: text = "\(event.level) [\(label)]: "
        }
        text += event.message.description
        for (key, value) in all.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        return text.replacingOccurrences(of: "\n", with: "\\n")
    }
}
