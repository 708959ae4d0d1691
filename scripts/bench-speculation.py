#!/usr/bin/env python3
"""Lookup speculation against plain decoding, side by side: the same prompts through
`loza generate --chat --temperature 0` with `--speculation off` and `--speculation lookup`, runs alternating,
tokens checked identical, median decode tokens/s of each and their ratio, and the guesses made and right.

    python3 scripts/bench-speculation.py [--loza .build/release/loza] [--model ALIAS|PATH] [--threads 2]
                                         [--repeats 3] [--max-tokens 400] [--json]

Two kinds of task:
- copy: a file from this repository is given in the prompt and the model is asked to write it out again
  with one change (what an agent does when it edits a file a tool returned);
- fresh: text the context does not contain (a story, a list of random numbers); a small model still
  repeats itself, so guesses often pay;
- fail: the greedy continuation of a prompt of random tokens (`loza bench`), where guesses mostly fail.
Exits non-zero if any lookup run's tokens differ from the plain run's.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def head(path, lines):
    with open(os.path.join(ROOT, path)) as f:
        return "".join(f.readlines()[:lines])


def tasks():
    py = head("Examples/long-trace/workspace/inventory.py", 60)
    swift = head("Sources/Engine/StopStringFilter.swift", 64)
    yaml = head("Examples/calculator.yaml", 40)
    return [
        ("copy", "python-rename",
         f"Here is a Python module:\n```python\n{py}```\nRewrite the whole module with the function add_item "
         "renamed to insert_item everywhere. Output the full code."),
        ("copy", "swift-comment",
         f"Here is a Swift file:\n```swift\n{swift}```\nAdd a one-line comment above `struct StopStringFilter` "
         "saying what it is for, and output the whole file."),
        ("copy", "yaml-edit",
         f"Here is a task spec:\n```yaml\n{yaml}```\nChange the temperature to 0.2 and output the whole spec."),
        ("fresh", "story",
         "Write a short story about a lighthouse keeper who finds a strange machine on the beach. Use vivid language."),
        ("fresh", "numbers",
         "Write 80 random six-digit numbers, comma separated, no two alike."),
    ]


def generate(loza, model, threads, prompt_file, max_tokens, speculation):
    out = subprocess.run([loza, "generate", "--model", model, "--prompt-file", prompt_file, "--chat",
                          "--temperature", "0", "--max-tokens", str(max_tokens), "--threads", str(threads),
                          "--speculation", speculation, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loza", default=os.path.join(ROOT, ".build/release/loza"))
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    rows, mismatch = [], False
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name, prompt in tasks():
            pf = os.path.join(tmp, name + ".txt")
            with open(pf, "w") as f:
                f.write(prompt)
            speeds = {"off": [], "lookup": []}
            guessed = accepted = steps = 0
            tokens = None
            for _ in range(a.repeats):
                for mode in ("off", "lookup"):
                    r = generate(a.loza, a.model, a.threads, pf, a.max_tokens, mode)
                    speeds[mode].append(r["timings"]["decode_tokens_per_s"])
                    if tokens is None:
                        tokens = r["tokens"]
                    elif r["tokens"] != tokens:
                        mismatch = True
                        print(f"{name}: {mode} tokens differ from the first run's", file=sys.stderr)
                    if mode == "lookup":
                        s = r["speculation"]
                        guessed, accepted, steps = guessed + s["guessed"], accepted + s["accepted"], steps + s["steps"]
            off, look = statistics.median(speeds["off"]), statistics.median(speeds["lookup"])
            rows.append({"kind": kind, "task": name, "tokens": len(tokens), "off_tok_s": round(off, 1),
                         "lookup_tok_s": round(look, 1), "ratio": round(look / off, 3),
                         "guessed": guessed // a.repeats, "accepted": accepted // a.repeats,
                         "acceptance": round(accepted / guessed, 3) if guessed else None,
                         "tokens_per_pass": round(len(tokens) / max(1, len(tokens) - accepted // a.repeats), 2)})
    # Guesses that fail: a prompt of random tokens (loza bench), the greedy continuation of which is
    # mostly not in the context; plain decode loop vs the lookup loop, runs alternating.
    speeds = {"off": [], "lookup": []}
    guessed = accepted = 0
    for _ in range(a.repeats):
        for mode in ("off", "lookup"):
            r = json.loads(subprocess.run([a.loza, "bench", "--model", a.model, "--threads", str(a.threads),
                                           "--prompt-tokens", "256", "--gen-tokens", "128", "--repeats", "1",
                                           "--speculation", mode, "--json"],
                                          capture_output=True, text=True, check=True).stdout)
            speeds[mode].append(r["decode_tokens_per_s"])
            if mode == "lookup":
                guessed, accepted = guessed + r["speculation"]["guessed"], accepted + r["speculation"]["accepted"]
    off, look = statistics.median(speeds["off"]), statistics.median(speeds["lookup"])
    rows.append({"kind": "fail", "task": "random-tokens (bench)", "tokens": 128, "off_tok_s": round(off, 1),
                 "lookup_tok_s": round(look, 1), "ratio": round(look / off, 3), "guessed": guessed // a.repeats,
                 "accepted": accepted // a.repeats, "acceptance": round(accepted / guessed, 3) if guessed else None,
                 "tokens_per_pass": round(128 / max(1, 128 - accepted // a.repeats), 2)})
    if a.json:
        print(json.dumps({"model": a.model, "threads": a.threads, "repeats": a.repeats, "rows": rows,
                          "identical": not mismatch}))
    else:
        print(f"model {a.model}, {a.threads} threads, medians of {a.repeats} alternating runs, temperature 0")
        print("| kind | task | tokens | off tok/s | lookup tok/s | ratio | guessed | right | acceptance | tokens/pass |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['kind']} | {r['task']} | {r['tokens']} | {r['off_tok_s']} | {r['lookup_tok_s']} | {r['ratio']} | "
                  f"{r['guessed']} | {r['accepted']} | {r['acceptance']} | {r['tokens_per_pass']} |")
        print("tokens identical in every run" if not mismatch else "TOKENS DIFFER")
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
