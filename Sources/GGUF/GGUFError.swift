/// Why a GGUF file could not be read or written: one line naming what is wrong and where.
public struct GGUFError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case io                  // open/stat/mmap/read/write failed
        case badMagic
        case unsupportedVersion
        case truncated           // header, metadata or tensor table runs past the end of the file
        case stringTooLong       // a string length points past the end of the file
        case absurdCount         // a count the file cannot possibly hold, or a size that overflows
        case unknownType         // a tensor or value type number nobody knows
        case unsupportedType     // a known tensor type loza does not run
        case badValue            // e.g. general.alignment not a power of two, bad dims
        case dataPastEnd         // tensor data beyond the end of the file
        case misaligned          // tensor data offset not a multiple of the alignment
        case duplicate           // duplicate tensor name or metadata key
    }

    public let kind: Kind
    /// The message without the file path.
    public let message: String
    /// The file concerned, when there is one.
    public let path: String?

    public init(_ kind: Kind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }

    func with(path: String) -> GGUFError { GGUFError(kind, message, path: path) }
}
