"""A scripted OpenAI-style chat-completions server for RemoteModelTests (stdlib only).

POST /<scenario>/<key>/v1/chat/completions answers as <scenario> says; <key> separates tests that run at
the same time (attempt counters and the request log are per key). GET /log/<key> returns the requests
received for that key are appended to <logdir>/<key>.jsonl, one {"path", "headers", "body"} per line
(<logdir> is the first argument). Prints the port it listens on, then serves until killed.
"""
import http.server, json, os, signal, sys, threading, time

LOCK = threading.Lock()
LOG = {}


def chunk(delta, finish=None):
    return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def sse(obj):
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n\n"


TEXT = [chunk({"role": "assistant"}), chunk({"content": "Hel"}), chunk({"content": "lo"}),
        chunk({"content": " wörld"}), chunk({}, "stop")]

TOOLS = [
    chunk({"role": "assistant", "content": "Let me check."}),
    chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                           "function": {"name": "get_time", "arguments": ""}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"zo"}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "ne\": \"UTC\"}"}}]}),
    chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                           "function": {"name": "add", "arguments": "{\"a\": 1,"}}]}),
    chunk({"tool_calls": [{"index": 1, "function": {"arguments": " \"b\": [2, {\"c\": null}]}"}}]}),
    chunk({"tool_calls": [{"index": 2, "id": "call_c", "type": "function",
                           "function": {"name": "add", "arguments": "[1, 2]"}}]}),
    chunk({"tool_calls": [{"index": 3, "id": "call_d", "type": "function",
                           "function": {"name": "get_time", "arguments": "{\"zone\": "}}]}),
    chunk({}, "tool_calls"),
]

COMPLETE = {"id": "chatcmpl-x", "object": "chat.completion", "model": "scripted",
            "choices": [{"index": 0, "finish_reason": "tool_calls",
                         "message": {"role": "assistant", "content": "Calling.",
                                     "tool_calls": [{"id": "call_z", "type": "function",
                                                     "function": {"name": "get_time",
                                                                  "arguments": "{\"zone\":\"CET\"}"}}]}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream_head(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()

    def stream(self, chunks, done=True, pause=0.0):
        self.stream_head()
        for c in chunks:
            self.wfile.write(sse(c))
            self.wfile.flush()
            if pause:
                time.sleep(pause)
        if done:
            self.wfile.write(b"data: [DONE]\n\n")

    def do_GET(self):
        self.reply(404, b'{"detail": "Not Found"}')

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8")
        parts = self.path.strip("/").split("/")
        if len(parts) != 5 or parts[2:] != ["v1", "chat", "completions"]:
            self.reply(404, b'{"detail": "Not Found"}')
            return
        scenario, key = parts[0], parts[1]
        entry = {"path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()}}
        with LOCK:
            LOG[key] = LOG.get(key, 0) + 1
            attempt = LOG[key]
            with open(os.path.join(sys.argv[1], key + ".jsonl"), "a") as f:
                f.write(json.dumps(entry) + "\n")
        try:
            self.answer(scenario, attempt)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer(self, scenario, attempt):
        if scenario == "text":
            self.stream(TEXT)
        elif scenario == "usage":
            # include_usage: a last chunk with no choices carries the counts (OpenAI, vLLM, SGLang).
            self.stream(TEXT + [{"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": "scripted", "choices": [],
                                 "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}}])
        elif scenario == "split":
            # One event split across writes mid-line, CRLF line ends, a comment and an event field.
            self.stream_head()
            raw = (b": keep-alive\r\n\r\nevent: message\r\n" + sse(chunk({"content": "ab"})).replace(b"\n", b"\r\n")
                   + sse(chunk({"content": "c\u00e9"})) + sse(chunk({}, "length")) + b"data: [DONE]\n\n")
            for i in range(0, len(raw), 7):
                self.wfile.write(raw[i:i + 7])
                self.wfile.flush()
                time.sleep(0.002)
        elif scenario == "tools":
            self.stream(TOOLS)
        elif scenario == "complete":
            self.reply(200, json.dumps(COMPLETE).encode())
        elif scenario == "flaky":
            if attempt <= 2:
                code = 500 if attempt == 1 else 429
                self.reply(code, b'{"error": {"message": "overloaded, try later", "type": "server_error"}}')
            else:
                self.stream(TEXT)
        elif scenario == "down":
            self.reply(503, b"<html>\n<body>Service Unavailable</body>\n</html>", "text/html")
        elif scenario == "bad":
            self.reply(400, b'{"error": {"message": "This model\'s maximum context length is 2048 tokens.\\nPlease shorten.", "type": "invalid_request_error"}}')
        elif scenario == "garbage":
            self.stream_head()
            self.wfile.write(b"data: {\"choices\": [oops\n\n")
        elif scenario == "dropped":
            # Output then the connection closes: no [DONE], no finish_reason.
            self.stream(TEXT[:3], done=False)
        elif scenario == "hang":
            self.stream_head()
            self.wfile.write(sse(chunk({"role": "assistant"})))
            self.wfile.flush()
            time.sleep(300)
        elif scenario == "slow":
            self.stream([chunk({"content": "tick "}) for _ in range(2000)], pause=0.1)
        elif scenario == "midstream_error":
            self.stream_head()
            self.wfile.write(sse(chunk({"content": "partial"})))
            self.wfile.write(b"data: {\"error\": {\"message\": \"engine crashed\"}}\n\n")
        elif scenario == "repeated_name":
            # llama-cpp-python's shape: name and id repeated in every fragment, legacy function_call alongside.
            frags = ["{", "\"expression\": ", "\"12*34\"", "}", ""]
            self.stream([chunk({"role": None, "content": None, "function_call": {"name": "calc", "arguments": a},
                                "tool_calls": [{"index": 0, "id": "call__0_calc", "type": "function",
                                                "function": {"name": "calc", "arguments": a}}]})
                         for a in frags] + [chunk({}, "tool_calls")])
        elif scenario == "text-call":
            # A server without a tool-call parser for the model: the call comes as text.
            self.stream([chunk({"content": "I will look it up.\n```json\n{\"name\": \"get_time\", "}),
                         chunk({"content": "\"arguments\": {\"zone\": \"UTC\"}}\n```"}), chunk({}, "stop")])
        elif scenario == "think-text":
            # A model without a reasoning parser writes its block in the content.
            self.stream([chunk({"content": "<think>\nfirst "}), chunk({"content": "this\n</think>\n\nanswer"}), chunk({}, "stop")])
        elif scenario == "reasoning":
            self.stream([chunk({"reasoning_content": "think"}), chunk({"content": "answer"}), chunk({}, "stop")])
        else:
            self.reply(404, json.dumps({"detail": "unknown scenario " + scenario}).encode())


# The parent (Foundation's Process) may leave signals blocked; let SIGTERM stop us.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
