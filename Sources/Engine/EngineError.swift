// The one error type of the Engine module. Every case renders as a single line that names what is
// wrong and where (file, tensor, key), so the command line can print it and exit non-zero.
public enum EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    case modelNotFound(alias: String, directory: String)
    case fileNotFound(path: String)
    case load(path: String, message: String)
    case unsupportedArchitecture(path: String, architecture: String)
    case missingMetadata(path: String, key: String)
    case badMetadata(path: String, key: String, message: String)
    case missingTensor(path: String, name: String)
    case unsupportedTensorType(path: String, name: String, type: Int)
    case badTensorShape(path: String, name: String, expected: [Int], found: [Int])
    case contextFull(capacity: Int, requested: Int)
    case invalidToken(id: Int32, vocabSize: Int)
    case emptyInput(String)
    case rewindPastEviction(position: Int)
    case badPlan(source: String, message: String)
    /// The task was cancelled while prefilling or generating (see `Session.append`, `Generator`).
    case cancelled

    public var description: String {
        switch self {
        case let .modelNotFound(alias, directory):
            return "model '\(alias)' not found in \(directory); run: loza models pull \(alias)"
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .load(path, message):
            return "\(path): \(message)"
        case let .unsupportedArchitecture(path, architecture):
            return "\(path): unsupported architecture '\(architecture)' (supported: \(ModelConfig.supportedArchitectures.joined(separator: ", ")))"
        case let .missingMetadata(path, key):
            return "\(path): missing metadata key '\(key)'"
        case let .badMetadata(path, key, message):
            return "\(path): metadata '\(key)': \(message)"
        case let .missingTensor(path, name):
            return "\(path): missing tensor '\(name)'"
        case let .unsupportedTensorType(path, name, type):
            return "\(path): tensor '\(name)' has unsupported type \(ggmlTypeName(type)) (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)"
        case let .badTensorShape(path, name, expected, found):
            return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .contextFull(capacity, requested):
            return "context full: \(requested) tokens requested, the session holds at most \(capacity)"
        case let .invalidToken(id, vocabSize):
            return "token id \(id) is outside the vocabulary (0..<\(vocabSize))"
        case let .emptyInput(what):
            return "\(what) is empty"
        case let .rewindPastEviction(position):
            return "cannot rewind to \(position): positions before it were evicted from a sparse layer; re-prefill needed"
        case let .badPlan(source, message):
            return "attention plan \(source): \(message)"
        case .cancelled:
            return "cancelled"
        }
    }
}

/// ggml's name for a type number, for messages.
func ggmlTypeName(_ type: Int) -> String {
    let names: [Int: String] = [0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0",
                                9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K",
                                15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
                                20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16",
                                26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16"]
    return names[type] ?? "type \(type)"
}
