#!/usr/bin/env python3
"""Decode speed on an idle and on a busy CPU: loza (its adaptive thread pool, and the pool forced to
keep its threads) and llama.cpp's llama-server on the same GGUF and thread count, runs alternating.

    python3 scripts/bench-busy.py [--loza .build/release/loza] [--model qwen2.5-coder-0.5b-instruct]
        [--server ~/.cache/loza/llama.cpp/bin/llama-server] [--threads 2] [--repeats 3] [--tg 128] [--busy 1]

Busy = `--busy` other processes each spinning on a core (a Python busy loop) for the whole phase.
loza: `loza bench --prompt-tokens 64 --gen-tokens TG --repeats 1 --json` (LOZA_POOL=parallel for the
fixed pool); llama.cpp: one /completion request of n_predict TG after a short prompt, its own
`timings.predicted_per_second` (the server is started once, -t THREADS, and kept for all runs).
Prints a table of medians (tokens/s) per phase and the busy/idle and loza/llama.cpp ratios.
"""
import argparse, json, os, statistics, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loza(a, pool):
    env = dict(os.environ)
    if pool:
        env["LOZA_POOL"] = pool
    out = subprocess.run([a.loza, "bench", "--model", a.model, "--threads", str(a.threads), "--prompt-tokens", "64",
                          "--gen-tokens", str(a.tg), "--repeats", "1", "--json"],
                         capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out)["decode_tokens_per_s"]


def server_decode(a, port):
    body = json.dumps({"prompt": "Write a long story about a ship.", "n_predict": a.tg, "temperature": 0,
                       "ignore_eos": True, "cache_prompt": False}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())["timings"]["predicted_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loza", default=os.path.join(ROOT, ".build/release/loza"))
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--server", default=os.path.expanduser("~/.cache/loza/llama.cpp/bin/llama-server"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--busy", type=int, default=1)
    ap.add_argument("--port", type=int, default=8093)
    a = ap.parse_args()
    path = a.model if a.model.endswith(".gguf") else os.path.expanduser(f"~/.cache/loza/models/{a.model}.gguf")

    srv = subprocess.Popen([a.server, "-m", path, "-t", str(a.threads), "-tb", str(a.threads), "-c", "2048",
                            "--port", str(a.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{a.port}/health", timeout=2)
                break
            except Exception:
                time.sleep(1)
        server_decode(a, a.port)  # warm-up
        table = {}
        for phase in ("idle", "busy"):
            hogs = []
            if phase == "busy":
                hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(a.busy)]
                time.sleep(1)
            try:
                runs = {"loza adaptive": [], "loza fixed threads": [], "llama.cpp": []}
                for _ in range(a.repeats):
                    runs["loza adaptive"].append(loza(a, None))
                    runs["loza fixed threads"].append(loza(a, "parallel"))
                    runs["llama.cpp"].append(server_decode(a, a.port))
                table[phase] = {k: statistics.median(v) for k, v in runs.items()}
                table[phase + "_runs"] = runs
            finally:
                for h in hogs:
                    h.kill()
    finally:
        srv.kill()
    print(f"decode tokens/s, {a.model}, {a.threads} threads, medians of {a.repeats} alternating runs, "
          f"busy = {a.busy} spinning process(es)")
    print("| | idle | busy | busy / idle |")
    print("|---|---|---|---|")
    for k in ("loza adaptive", "loza fixed threads", "llama.cpp"):
        i, b = table["idle"][k], table["busy"][k]
        print(f"| {k} | {i:.1f} | {b:.1f} | {b / i:.2f} |")
    print(f"busy: loza adaptive / llama.cpp = {table['busy']['loza adaptive'] / table['busy']['llama.cpp']:.2f}; "
          f"idle: {table['idle']['loza adaptive'] / table['idle']['llama.cpp']:.2f}")
    print(json.dumps({k: v for k, v in table.items() if k.endswith("_runs")}))


if __name__ == "__main__":
    main()
