#!/usr/bin/env python3
"""Run a folder of plainly written task specs (Examples/natural, Examples/natural-heldout) with a loza
binary and check each final answer against the folder's expected.json.

A measurement of the runtime's defaults, not a test: it exits 0 whatever the model does (non-zero only
if the script itself fails, e.g. the binary or the folder is missing).

    python3 scripts/natural.py [--loza .build/release/loza] [--dir Examples/natural] [--jobs 1]
                               [--transcripts DIR] [--timeout SECONDS]

expected.json maps a spec's file name to a list of regular expressions (Python `re`, case-insensitive);
a run counts as right if loza exited 0 and one of them is found in its answer (not in an answer that is
a tool call written as text, nor in one cut at max_tokens). Keys starting with "_" are comments. Each
spec runs as `loza run SPEC --json --transcript DIR/NAME.jsonl`; the table shows its status (the run's `status`, or
`exit N` / `timeout` / `no-json` when loza gave no result), steps, tokens, wall seconds, right/wrong and
the first 80 characters of the answer (or of the stop reason when there is no answer). The last line is
`N passed, M failed`.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time


def run_spec(loza, spec_path, transcript, timeout):
    """Runs one spec; returns a dict with status, steps, tokens, wall, answer, reason, exit."""
    started = time.monotonic()
    try:
        proc = subprocess.run([loza, "run", spec_path, "--json", "--transcript", transcript],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "exit": None, "steps": None, "tokens": None,
                "wall": time.monotonic() - started, "answer": None, "reason": f"killed after {timeout}s"}
    wall = time.monotonic() - started
    result = None
    for line in reversed(proc.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
                break
            except json.JSONDecodeError:
                pass
    if result is None:
        stderr = proc.stderr.strip().splitlines()
        return {"status": f"exit {proc.returncode}" if proc.returncode else "no-json", "exit": proc.returncode,
                "steps": None, "tokens": None, "wall": wall, "answer": None,
                "reason": stderr[-1] if stderr else "(no output)"}
    return {"status": result.get("status", "?"), "exit": proc.returncode, "steps": result.get("steps"),
            "tokens": result.get("tokens"), "wall": result.get("wall_s", wall), "answer": result.get("answer"),
            "reason": result.get("reason", "")}


CALL_TEXT = re.compile(r'^\s*(```(json)?\s*)?(<tool_call>\s*)?\{\s*"name"\s*:', re.IGNORECASE)


def is_right(answer, reason, patterns):
    """An answer counts if a pattern matches it, unless it is a tool call written as text or was cut at
    max_tokens (such text can contain the right number by chance, e.g. in `sum(1, 2, ..., 78, ...)`)."""
    if not answer or CALL_TEXT.match(answer) or "max_tokens" in (reason or ""):
        return False
    return any(re.search(p, answer, re.IGNORECASE) for p in patterns)


def one_line(text, width=80):
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[:width - 1] + "…"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loza", default=".build/release/loza", help="the loza binary (default %(default)s)")
    ap.add_argument("--dir", default="Examples/natural", help="folder of specs with expected.json (default %(default)s)")
    ap.add_argument("--jobs", type=int, default=1, help="specs run at once (default %(default)s)")
    ap.add_argument("--transcripts", help="where to write NAME.jsonl transcripts (default: a new temporary directory)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before one run is killed (default %(default)s)")
    args = ap.parse_args()

    loza = os.path.abspath(args.loza)
    if not os.access(loza, os.X_OK):
        sys.exit(f"natural.py: {args.loza} is not an executable loza binary")
    expected_path = os.path.join(args.dir, "expected.json")
    try:
        with open(expected_path) as f:
            expected = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    except (OSError, json.JSONDecodeError) as error:
        sys.exit(f"natural.py: {expected_path}: {error}")
    specs = sorted(n for n in os.listdir(args.dir) if n.endswith((".yaml", ".yml")))
    if not specs:
        sys.exit(f"natural.py: no specs in {args.dir}")
    missing = [n for n in specs if n not in expected]
    if missing:
        sys.exit(f"natural.py: {expected_path} has no entry for {', '.join(missing)}")
    for name, patterns in expected.items():
        for p in patterns:
            try:
                re.compile(p)
            except re.error as error:
                sys.exit(f"natural.py: {expected_path}: {name}: bad regex {p!r}: {error}")

    transcripts = args.transcripts or tempfile.mkdtemp(prefix="loza-natural-")
    os.makedirs(transcripts, exist_ok=True)
    print(f"{len(specs)} specs from {args.dir}, loza {loza}, transcripts in {transcripts}", flush=True)

    def job(name):
        stem = os.path.splitext(name)[0]
        return name, run_spec(loza, os.path.join(args.dir, name), os.path.join(transcripts, stem + ".jsonl"),
                              args.timeout)

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, r in pool.map(job, specs):
            r["right"] = r["exit"] == 0 and is_right(r["answer"], r["reason"], expected[name])
            results[name] = r
            print(f"  {name}: {r['status']}, {'right' if r['right'] else 'wrong'} ({r['wall']:.1f}s)",
                  file=sys.stderr, flush=True)

    def fmt(v, spec="{}"):
        return "-" if v is None else spec.format(v)

    header = ("spec", "status", "steps", "tokens", "wall s", "result", "answer")
    rows = []
    for name in specs:
        r = results[name]
        shown = r["answer"] if r["answer"] is not None else f"({r['reason']})"
        rows.append((os.path.splitext(name)[0], r["status"], fmt(r["steps"]), fmt(r["tokens"]),
                     fmt(r["wall"], "{:.1f}"), "right" if r["right"] else "WRONG", one_line(shown)))
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header) - 1)]
    for row in [header] + rows:
        print("  ".join(str(c).ljust(w) if i in (0, 1, 5) else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))) + "  " + row[-1])
    passed = sum(1 for r in results.values() if r["right"])
    print(f"{passed} passed, {len(specs) - passed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
