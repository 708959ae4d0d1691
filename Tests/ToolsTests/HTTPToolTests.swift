import AgentCore
import Foundation
import Testing
@testable import Tools

@Suite(.serialized) struct HTTPToolTests {
    func tool(_ server: TestServer, method: String = "GET", url: String, headers: [String: String] = [:], body: String? = nil,
              parameters: JSONValue = ["type": "object", "properties": ["q": ["type": "string"], "n": ["type": "integer"]]],
              allow: [String]? = nil, maxBytes: Int = 1 << 20, maxRedirects: Int = 3, outputLimit: Int = 64 << 10) throws -> HTTPTool {
        try HTTPTool(spec: HTTPToolSpec(name: "api", description: "test", method: method, url: url, headers: headers, body: body,
                                        parameters: parameters, allow: allow ?? ["127.0.0.1:\(server.port)"], timeoutSeconds: 5,
                                        maxBytes: maxBytes, maxRedirects: maxRedirects), outputLimit: outputLimit)
    }

    @Test func getTemplateEscapesArguments() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let t = try tool(server, url: "http://127.0.0.1:\(server.port)/echo/{q}?n={n}&raw={notaparam}",
                         headers: ["X-Query": "{q}"])
        let r = await t.call(["q": "a b/c?d=é&x", "n": 5])
        #expect(r.ok, "\(r)")
        let echo = try JSONValue.parse(r.output)
        #expect(echo["path"]?.stringValue == "/echo/a%20b%2Fc%3Fd%3D%C3%A9%26x?n=5&raw={notaparam}")
        // (python decodes header bytes as latin-1, so compare the ASCII part)
        #expect(echo["headers"]?["x-query"]?.stringValue?.hasPrefix("a b/c?d=") == true)
        // JSON comes back pretty-printed.
        #expect(r.output.contains("\n  \"method\": \"GET\""))
        #expect(r.metadata["status"] == "200")

        let dots = await t.call(["q": ".."])
        #expect(try JSONValue.parse(dots.output)["path"]?.stringValue?.hasPrefix("/echo/%2E%2E") == true, "\(dots.output)")
        let injected = await t.call(["q": "x\r\nX-Evil: 1"])
        #expect(!injected.ok && injected.error?.contains("line break") == true)
    }

    @Test func postBodyTemplateIsJSONEscaped() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let t = try tool(server, method: "POST", url: "http://127.0.0.1:\(server.port)/echo",
                         headers: ["Content-Type": "application/json"], body: #"{"query": "{q}", "count": {n}}"#)
        let r = await t.call(["q": "say \"hi\"\n", "n": 3])
        #expect(r.ok, "\(r)")
        let echo = try JSONValue.parse(r.output)
        #expect(echo["method"]?.stringValue == "POST")
        let sent = try JSONValue.parse(echo["body"]?.stringValue ?? "")
        #expect(sent["query"]?.stringValue == "say \"hi\"\n")
        #expect(sent["count"]?.intValue == 3)
    }

    @Test func jsonIsPrettyPrintedAndTextIsKept() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let j = await (try tool(server, url: "http://127.0.0.1:\(server.port)/json")).call([:])
        #expect(j.output == "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": {\n    \"d\": \"x\"\n  }\n}")
        let t = await (try tool(server, url: "http://127.0.0.1:\(server.port)/text")).call([:])
        #expect(t.output == "plain text body")
        let nf = await (try tool(server, url: "http://127.0.0.1:\(server.port)/status?code=404")).call([:])
        #expect(!nf.ok && nf.error == "HTTP 404" && nf.output == "status body")
    }

    @Test func largeResponsesAreAbortedAndTruncated() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let capped = await (try tool(server, url: "http://127.0.0.1:\(server.port)/big?n=50000000", maxBytes: 100_000)).call([:])
        #expect(!capped.ok)
        #expect(capped.error == "response larger than max_bytes (100000); transfer aborted")
        #expect(capped.output.hasSuffix("[... response exceeded max_bytes (100000); transfer aborted ...]"))
        let cut = await (try tool(server, url: "http://127.0.0.1:\(server.port)/big?n=10000", outputLimit: 1000)).call([:])
        #expect(cut.ok)
        #expect(cut.fullOutputBytes == 10000)
        #expect(cut.output.contains("\n[... 9000 bytes truncated ...]\n"))
    }

    @Test func redirectsAreFollowedWithinTheAllowList() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let to = HTTPTemplate.percentEscape("/redirect?to=" + HTTPTemplate.percentEscape("/text"))
        let r = await (try tool(server, url: "\(base)/redirect?to=\(to)")).call([:])
        #expect(r.ok && r.output == "plain text body", "\(r)")
        #expect(r.metadata["redirects"] == "2")
        let tooMany = await (try tool(server, url: "\(base)/redirect?to=\(to)", maxRedirects: 1)).call([:])
        #expect(!tooMany.ok && tooMany.error?.hasPrefix("too many redirects (max_redirects is 1)") == true, "\(tooMany)")
    }
}

/// HTTP attacks: private addresses and redirects out of the allow list.
@Suite(.serialized) struct HTTPSecurityTests {
    @Test func nonAllowlistedLoopbackPortIsRefused() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let before = server.requests.count
        for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1", "0x7f000001", "2130706433"] {
            let t = try HTTPTool(spec: HTTPToolSpec(name: "api", description: "", url: "http://\(host):\(server.port)/text",
                                                    allow: ["127.0.0.1:1"]))
            let r = await t.call([:])
            #expect(!r.ok)
            #expect(r.error?.hasPrefix("refused") == true, "\(host): \(r)")
        }
        // With an empty allow list, private and loopback addresses are refused too.
        let open = try HTTPTool(spec: HTTPToolSpec(name: "api", description: "", url: "http://127.0.0.1:\(server.port)/text"))
        let r = await open.call([:])
        #expect(r.error == "refused: 127.0.0.1:\(server.port) resolves to 127.0.0.1 (loopback); only \"host:port\" entries in the tool's allow list may reach such addresses")
        #expect(server.requests.count == before)
    }

    @Test func redirectToNonAllowedServerIsRefused() async throws {
        let allowed = try TestServer()
        defer { allowed.stop() }
        let other = try TestServer()
        defer { other.stop() }
        for target in ["http://127.0.0.1:\(other.port)/text", "http://169.254.169.254/latest/meta-data/", "http://[::1]:\(other.port)/text",
                       "file:///etc/passwd", "http://localhost:\(other.port)/text"] {
            let url = "http://127.0.0.1:\(allowed.port)/redirect?to=" + HTTPTemplate.percentEscape(target)
            let t = try HTTPTool(spec: HTTPToolSpec(name: "api", description: "", url: url, allow: ["127.0.0.1:\(allowed.port)"]))
            let r = await t.call([:])
            #expect(!r.ok)
            #expect(r.error?.hasPrefix("refused") == true, "\(target): \(r)")
        }
        #expect(other.requests.isEmpty)
    }

    @Test func addressClassification() {
        let refused = ["127.0.0.1", "127.255.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                       "169.254.1.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "100.64.0.1", "::1", "::", "fc00::1", "fd12::1",
                       "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
                       "2002:7f00:1::", "::127.0.0.1", "fd00:ec2::254"]
        for a in refused {
            #expect(IPAddress(literal: a)?.restriction != nil, "\(a)")
        }
        for a in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            #expect(IPAddress(literal: a)?.restriction == nil, "\(a)")
        }
        #expect(IPAddress(literal: "169.254.169.254")?.restriction == "cloud metadata")
    }
}
