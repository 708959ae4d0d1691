import Foundation
import GGUF

/// Deterministic generator for test data (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Roughly Gaussian (sum of 4 uniforms), like trained weights: mostly small, some outliers.
    mutating func gaussian() -> Float {
        var s: Float = 0
        for _ in 0..<4 { s += Float.random(in: -1...1, using: &self) }
        return s * 0.866
    }
}

/// A fresh path in the temp directory, removed by the caller's `defer`.
func tempPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

func removeFile(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

/// Where the real models live: $LOZA_MODELS or ~/.cache/loza/models.
func modelPath(_ file: String) -> String {
    let dir = ProcessInfo.processInfo.environment["LOZA_MODELS"]
        ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/loza/models")
    return (dir as NSString).appendingPathComponent(file)
}

/// Parses `bytes` as a GGUF file written to disk and returns the error (nil when it parsed).
func parseError(_ bytes: [UInt8], allowUnsupported: Bool = false) -> GGUFError? {
    let path = tempPath("case.gguf")
    defer { removeFile(path) }
    do {
        try GGUFWriter.writeBytes(bytes, to: path)
        _ = try GGUFFile(path: path, allowUnsupportedTypes: allowUnsupported)
        return nil
    } catch {
        return error
    }
}
