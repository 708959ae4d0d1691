#!/usr/bin/env python3
"""Malformed tool-call table (issue 7): runs ~10 one-step tool tasks with each model, with
constrain_tool_calls true and false, and counts from the transcripts: tool calls, malformed calls,
recovered bare-JSON calls, and turns without any call. Temperature 0, first model turn only (steps: 1).

Usage: scripts/malformed-table.py [--loza PATH] [--threads N] [--models a,b] [--out DIR]
Prints a markdown table; keeps the transcripts in --out (default /tmp/loza-malformed).
"""
import argparse, json, os, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = {  # spec tool entries (plugins from Tools/ and the built-in shell)
    "calculator": "- exec: {repo}/Tools/calculator",
    "read_file": "- exec: {repo}/Tools/read_file",
    "list_dir": "- exec: {repo}/Tools/list_dir",
    "search": "- exec: {repo}/Tools/search",
    "write_file": "- exec: {repo}/Tools/write_file",
    "shell": "- builtin: shell",
}
TASKS = [
    ("calc-mul", ["calculator"], "Use the calculator to compute 1234 * 5678."),
    ("calc-sqrt", ["calculator"], "What is the square root of 1522756? Use the calculator."),
    ("calc-pow", ["calculator", "shell"], "Compute 2 ** 40 with the calculator tool."),
    ("read", ["read_file", "list_dir"], "Show me lines 1 to 5 of the file notes.txt."),
    ("list", ["list_dir", "read_file"], "List the files in the current directory, two levels deep."),
    ("search", ["search", "read_file"], "Search all *.py files for the word TODO, ignoring case."),
    ("write", ["write_file", "read_file"], "Write the text 'hello world' to a file named hello.txt."),
    ("shell-date", ["shell"], "Run a shell command that prints the current date."),
    ("shell-count", ["shell", "calculator"], "Count the lines of /etc/passwd with a shell command."),
    ("shell-find", ["shell", "list_dir"], "Use the shell to find every file whose name ends in .conf under /etc."),
]

def spec_text(name, tools, prompt, model, constrain):
    lines = [f"name: {name}", f"model: {model}",
             "sampling: {temperature: 0, seed: 1, max_tokens: 128}",
             "system: You are a helpful assistant. Use the tools.",
             f"prompt: {json.dumps(prompt)}", "tools:"]
    lines += ["  " + TOOLS[t].format(repo=REPO) for t in tools]
    lines += ["sandbox: {network: false, timeout: 10s}", "limits: {steps: 1, tokens: 1024, wall: 10m}",
              f"constrain_tool_calls: {'true' if constrain else 'false'}"]
    return "\n".join(lines) + "\n"

def count(path):
    c = {"calls": 0, "malformed": 0, "recovered": 0, "no_call": 0, "turns": 0, "decode_s": 0.0, "tokens": 0}
    with open(path) as f:
        for line in f:
            try: e = json.loads(line)
            except ValueError: continue
            t, p = e.get("type"), e.get("payload", {})
            if t == "model_turn":
                c["turns"] += 1
                c["decode_s"] += p.get("decode_s", 0.0)
                c["tokens"] += len(p.get("tokens", []))
                if not p.get("tool_calls") and not p.get("malformed"):
                    c["no_call"] += 1
            elif t == "tool_call":  # a malformed call is a tool_call event with a "malformed" reason
                c["calls"] += 1
                if "malformed" in p: c["malformed"] += 1
                elif p.get("recovered"): c["recovered"] += 1
    return c

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loza", default=os.path.join(REPO, ".build/release/loza"))
    ap.add_argument("--threads", default="2")
    ap.add_argument("--models", default="smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--out", default="/tmp/loza-malformed")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for model in a.models.split(","):
        for constrain in (True, False):
            tot = {"calls": 0, "malformed": 0, "recovered": 0, "no_call": 0, "turns": 0, "decode_s": 0.0, "tokens": 0}
            for name, tools, prompt in TASKS:
                tag = f"{model}-{'on' if constrain else 'off'}-{name}"
                spec = os.path.join(a.out, tag + ".yaml")
                with open(spec, "w") as f: f.write(spec_text(name, tools, prompt, model, constrain))
                tr = os.path.join(a.out, tag + ".jsonl")
                if os.path.exists(tr): os.remove(tr)
                subprocess.run([a.loza, "run", spec, "--threads", a.threads, "--transcript", tr, "--json"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=a.out)
                c = count(tr)
                print(f"{tag}: {c}", file=sys.stderr, flush=True)
                for k in tot: tot[k] += c[k]
            rows.append((model, constrain, tot))
    print(f"| model | constrain | tasks | calls | malformed | recovered bare | no call | decode tok/s |")
    print(f"|---|---|---|---|---|---|---|---|")
    for model, constrain, t in rows:
        tps = t["tokens"] / t["decode_s"] if t["decode_s"] else 0
        print(f"| {model} | {'on' if constrain else 'off'} | {len(TASKS)} | {t['calls']} | {t['malformed']} | "
              f"{t['recovered']} | {t['no_call']} | {tps:.1f} |")

if __name__ == "__main__":
    main()
