import Foundation
import GGUF
import TestSupport

extension SplitMix64 {
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
