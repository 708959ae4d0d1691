import AgentCore
import Foundation
import SpecParser

/// One line of a batch's TASKS.jsonl: `{"id", "spec": PATH or an inline spec object, "params": {...}}`,
/// parsed into a spec, or the one-line reason it cannot run (`TASKS.jsonl:LINE: ...`).
struct BatchTask: Sendable {
    var id: String
    var line: Int
    var spec: Result<TaskSpec, BatchLineError>
}

struct BatchLineError: Error, Sendable, CustomStringConvertible {
    var description: String
}

enum BatchTasks {
    /// Every task of `path`, in order; blank lines are skipped. A line whose id cannot be read gets the id
    /// `line-N`; a repeated id is an error of the later line.
    static func read(_ path: String) throws -> [BatchTask] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.input("\(path): \(FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")")
        }
        let base = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        let label = (path as NSString).lastPathComponent
        var seen = Set<String>()
        var tasks: [BatchTask] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = raw.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            let line = index + 1
            func fail(_ message: String) -> Result<TaskSpec, BatchLineError> { .failure(BatchLineError(description: "\(label):\(line): \(message)")) }
            let value: JSONValue
            do { value = try JSONValue.parse(text) } catch {
                tasks.append(BatchTask(id: "line-\(line)", line: line, spec: fail("\(error)")))
                continue
            }
            guard case .object = value else {
                tasks.append(BatchTask(id: "line-\(line)", line: line, spec: fail("expected a JSON object {\"id\", \"spec\", \"params\"}")))
                continue
            }
            let id: String
            switch value["id"] {
            case .string(let s)? where !s.isEmpty: id = s
            case .int(let i)?: id = String(i)
            default:
                tasks.append(BatchTask(id: "line-\(line)", line: line, spec: fail("id: expected a non-empty string or an integer")))
                continue
            }
            guard seen.insert(id).inserted else {
                // Not under the id: that is the earlier line's (its result, and what a rerun skips).
                tasks.append(BatchTask(id: "line-\(line)", line: line, spec: fail("id '\(id)' is used by an earlier line")))
                continue
            }
            tasks.append(BatchTask(id: id, line: line, spec: spec(of: value, label: "\(label):\(line)", base: base).mapError {
                BatchLineError(description: "\(label):\(line): \($0.description)")
            }))
        }
        return tasks
    }

    /// The line's spec: a path (relative to the tasks file's folder) or an inline object (JSON is YAML), with
    /// `params` as parameter overrides, the same as `loza run --param`.
    static func spec(of line: JSONValue, label: String, base: String) -> Result<TaskSpec, BatchLineError> {
        var overrides: [(String, String)] = []
        if let params = line["params"], params != .null {
            guard let members = params.objectValue else { return .failure(BatchLineError(description: "params: expected an object")) }
            for m in members {
                switch m.value {
                case .string(let s): overrides.append((m.key, s))
                case .int, .double, .bool: overrides.append((m.key, m.value.serialized()))
                default: return .failure(BatchLineError(description: "params.\(m.key): expected a string, number or boolean"))
                }
            }
        }
        do {
            switch line["spec"] {
            case .string(let path)?:
                let full = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
                return .success(try SpecParser.parse(file: full, overrides: overrides.map { "\($0.0)=\($0.1)" }))
            case .object?:
                let text = line["spec"]!.serialized()
                return .success(try SpecParser.parse(yaml: text, file: "spec", baseDirectory: base, overrides: overrides))
            default:
                return .failure(BatchLineError(description: "spec: expected a spec file path or an inline spec object"))
            }
        } catch let e as SpecError {
            // The inline object is one line: its column says little, the message says what and where.
            return .failure(BatchLineError(description: e.file == "spec" ? "spec: \(e.message)" : e.description))
        } catch {
            return .failure(BatchLineError(description: "\(error)"))
        }
    }
}
