import AgentCore
import Foundation

/// A tool that makes one HTTP request per call, declared in the spec as `{http: {...}}`.
/// The response body is the result (JSON pretty-printed), head and tail kept past the output limit.
/// A status of 400 or more is a tool error with the body kept.
public struct HTTPTool: Tool {
    public let declaration: ToolDeclaration
    public let spec: HTTPToolSpec
    let outputLimit: Int
    let names: Set<String>

    public init(spec: HTTPToolSpec, outputLimit: Int = 64 << 10) throws {
        guard spec.parameters["type"]?.stringValue == "object" else {
            throw ToolSetupError("parameters: expected a JSON Schema with type: object")
        }
        guard spec.maxBytes > 0, spec.timeoutSeconds > 0, spec.maxRedirects >= 0 else {
            throw ToolSetupError("max_bytes and timeout must be positive, max_redirects at least 0")
        }
        let method = spec.method.uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter }) else {
            throw ToolSetupError("method: expected an HTTP method like GET or POST, got \"\(spec.method)\"")
        }
        for entry in spec.allow {
            guard let colon = entry.lastIndex(of: ":"), Int(entry[entry.index(after: colon)...]) != nil,
                  colon != entry.startIndex else {
                throw ToolSetupError("allow: expected \"host:port\" entries, got \"\(entry)\"")
            }
        }
        self.spec = spec
        self.outputLimit = outputLimit
        declaration = ToolDeclaration(name: spec.name, description: spec.description, parameters: spec.parameters)
        let props = spec.parameters["properties"]?.objectValue ?? []
        names = Set(props.map(\.key))
    }

    public func call(id: String, arguments: JSONValue) async -> ToolResult {
        let start = LibC.monotonicSeconds()
        func fail(_ message: String, output: String = "") -> ToolResult {
            var r = ToolResult.failure(callID: id, name: declaration.name, error: message, output: output,
                                       durationSeconds: LibC.monotonicSeconds() - start)
            r.metadata["transport"] = "http"
            return r
        }
        let request: HTTPRequest
        do {
            let url = try HTTPTemplate.expand(spec.url, names: names, arguments: arguments, context: .url)
            var headers: [(String, String)] = []
            for (k, v) in spec.headers.sorted(by: { $0.key < $1.key }) {
                headers.append((k, try HTTPTemplate.expand(v, names: names, arguments: arguments, context: .header)))
            }
            let body = try spec.body.map { Array(try HTTPTemplate.expand($0, names: names, arguments: arguments, context: .body).utf8) }
            request = HTTPRequest(method: spec.method, url: url, headers: headers, body: body,
                                  allow: Set(spec.allow.map(HTTPTool.normalize)), timeoutSeconds: spec.timeoutSeconds,
                                  maxBytes: spec.maxBytes, maxRedirects: spec.maxRedirects)
        } catch let e as HTTPFailure {
            return fail(e.message)
        } catch {
            return fail("\(error)")
        }
        let response: HTTPResponse
        switch await CurlClient.perform(request) {
        case .failure(let f): return fail(f.message)
        case .success(let r): response = r
        }
        var text = String(decoding: response.body, as: UTF8.self)
        let isJSON = response.contentType?.lowercased().contains("json") == true
            || text.first == "{" || text.first == "["
        if isJSON && !response.exceeded, let value = try? JSONValue.parse(text) {
            text = value.serialized(.pretty)
        }
        var capture = OutputCapture(limit: outputLimit)
        capture.append(Array(text.utf8))
        var output = capture.text
        if response.exceeded {
            output += "\n[... response exceeded max_bytes (\(spec.maxBytes)); transfer aborted ...]"
        }
        var result = ToolResult(callID: id, name: declaration.name, ok: true, output: output,
                                durationSeconds: LibC.monotonicSeconds() - start,
                                fullOutputSHA256: capture.truncated ? capture.sha256 : nil,
                                fullOutputBytes: capture.truncated ? capture.totalBytes : nil,
                                metadata: ["transport": "http", "status": String(response.status),
                                           "url": response.finalURL, "redirects": String(response.redirects)])
        if response.status >= 400 || response.status < 100 {
            result.ok = false
            result.error = "HTTP \(response.status)"
        } else if (300..<400).contains(response.status) {
            result.ok = false
            result.error = "HTTP \(response.status) without a usable Location"
        } else if response.exceeded {
            result.ok = false
            result.error = "response larger than max_bytes (\(spec.maxBytes)); transfer aborted"
        }
        return result
    }

    /// `Host:Port` -> `host:port`; a bare IPv6 address gets brackets.
    static func normalize(_ entry: String) -> String {
        let lower = entry.lowercased()
        guard let colon = lower.lastIndex(of: ":") else { return lower }
        let host = lower[..<colon]
        if host.contains(":") && !host.hasPrefix("[") { return "[\(host)]" + lower[colon...] }
        return lower
    }
}
