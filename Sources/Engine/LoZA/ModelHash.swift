import Foundation
import GGUF

/// SHA-256 of model files, cached: hashing a 490 MB file takes a second or more, so the digest is kept
/// in `.loza-sha256.json` beside the model, keyed by file name, size and modification time. An
/// unwritable directory only costs the cache.
public enum ModelHash {
    struct Entry: Codable { var size: Int64; var mtime: Double; var sha256: String }

    public static func sha256(path: String) throws(EngineError) -> String {
        let url = URL(fileURLWithPath: path)
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
        let cacheURL = url.deletingLastPathComponent().appendingPathComponent(".loza-sha256.json")
        let name = url.lastPathComponent
        var entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: cacheURL))) ?? [:]
        if let e = entries[name], e.size == size, e.mtime == mtime, e.sha256.count == 64 { return e.sha256 }
        let digest: String
        do { digest = try GGUFFile.sha256(path: path) } catch { throw .load(path: path, message: error.message) }
        if size >= 0 {
            entries[name] = Entry(size: size, mtime: mtime, sha256: digest)
            if let data = try? JSONEncoder().encode(entries) { try? data.write(to: cacheURL, options: .atomic) }
        }
        return digest
    }
}
