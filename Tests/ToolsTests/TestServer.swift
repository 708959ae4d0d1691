import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP server on 127.0.0.1 (python3's http.server), started and stopped by a test.
/// Every request path is appended to `logPath`.
final class TestServer: @unchecked Sendable {
    let port: Int
    let dir: String
    let pid: pid_t
    var logPath: String { dir + "/requests.log" }

    static let script = #"""
import http.server, json, sys, time, os
from urllib.parse import urlsplit, parse_qs

LOG = sys.argv[1]

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, body, ctype="text/plain", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.route()
    def do_POST(self):
        self.route()
    def route(self):
        with open(LOG, "a") as f:
            f.write(self.command + " " + self.path + "\n")
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if u.path.startswith("/echo"):
            out = {"method": self.command, "path": self.path, "body": body.decode("utf-8", "replace"),
                   "headers": {k.lower(): v for k, v in self.headers.items()}}
            self.send(200, json.dumps(out, separators=(",", ":")).encode(), "application/json")
        elif u.path == "/json":
            self.send(200, b'{"a":1,"b":[1,2],"c":{"d":"x"}}', "application/json")
        elif u.path == "/text":
            self.send(200, b"plain text body", "text/plain")
        elif u.path == "/big":
            size = int(q.get("n", ["1000000"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < size:
                    k = min(len(chunk), size - sent)
                    self.wfile.write(chunk[:k])
                    sent += k
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif u.path == "/redirect":
            self.send(302, b"", "text/plain", [("Location", q["to"][0])])
        elif u.path == "/status":
            self.send(int(q["code"][0]), b"status body", "text/plain")
        elif u.path == "/slow":
            time.sleep(float(q.get("s", ["5"])[0]))
            self.send(200, b"slow", "text/plain")
        else:
            self.send(404, b"not found", "text/plain")

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""#

    init() throws {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("loza-srv-XXXXXX").utf8CString)
        dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        let scriptPath = dir + "/server.py"
        let portPath = dir + "/port"
        try TestServer.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: dir + "/requests.log", contents: Data())
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, portPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var p: pid_t = 0
        let args: [String] = ["python3", scriptPath, dir + "/requests.log"]
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let envList: [String] = ["PATH=/usr/local/bin:/usr/bin:/bin"]
        let env: [UnsafeMutablePointer<CChar>?] = envList.map { strdup($0) } + [nil]
        defer { for a in env { free(a) } }
        let rc = posix_spawnp(&p, "python3", &actions, nil, argv, env)
        guard rc == 0 else { throw ToolSetupErrorForTests("cannot start python3: \(rc)") }
        pid = p
        var found = 0
        for _ in 0..<200 {
            if let s = try? String(contentsOfFile: portPath, encoding: .utf8), let n = Int(s.trimmingCharacters(in: .whitespacesAndNewlines)) {
                found = n
                break
            }
            usleep(20_000)
        }
        guard found > 0 else {
            kill(p, SIGKILL); waitpid(p, nil, 0)
            throw ToolSetupErrorForTests("test server did not start")
        }
        port = found
    }

    var requests: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() {
        kill(pid, SIGKILL)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

struct ToolSetupErrorForTests: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
