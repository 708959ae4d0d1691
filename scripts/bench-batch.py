#!/usr/bin/env python3
"""Batched decode across runs, side by side: the same 8 decode-heavy tasks through `loza batch --jobs 1`
and `loza batch --jobs N` (default 4) on one model, runs alternating, answers checked identical, and the
aggregate throughput of each: generated tokens over the batch's wall time, and decode tokens over the
time the batch spent decoding (wall time less the prompts' prefill, which runs one prompt at a time in
both).

    python3 scripts/bench-batch.py [--loza .build/release/loza] [--model ALIAS|PATH] [--threads 2]
                                   [--jobs 4] [--repeats 2] [--max-tokens 400] [--speculation off|lookup]
                                   [--json]

The tasks: each asks for a small Python module written from a one-line description (no tool: one model
turn of up to --max-tokens tokens). Exits non-zero if any task's answer or tokens differ between the runs.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SUBJECTS = [
    "a stack with push, pop, peek and a size limit",
    "a FIFO queue backed by two lists",
    "an LRU cache with get and put",
    "a singly linked list with insert, delete and reverse",
    "a binary search tree with insert, search and in-order traversal",
    "a priority queue on top of heapq with update of priorities",
    "a 2x2 and 3x3 matrix class with addition, multiplication and determinant",
    "a word tokenizer that splits text into words, numbers and punctuation",
]


def tasks_file(path, model, max_tokens, speculation):
    with open(path, "w") as f:
        for i, subject in enumerate(SUBJECTS):
            spec = {"name": f"module-{i}", "model": model,
                    "prompt": f"Write a Python module implementing {subject}. Include docstrings and a short "
                              f"usage example at the end.",
                    "sampling": {"temperature": 0, "max_tokens": max_tokens},
                    "speculation": speculation}
            f.write(json.dumps({"id": f"t{i}", "spec": spec}) + "\n")


def model_turns(transcript):
    with open(transcript) as f:
        for line in f:
            e = json.loads(line)
            if e.get("type") == "model_turn":
                yield e.get("payload", e)


def run_batch(loza, tasks, out_dir, jobs, threads):
    out = os.path.join(out_dir, f"results-jobs{jobs}.jsonl")
    for p in [out] + glob.glob(out_dir + f"/results-jobs{jobs}.transcripts/*"):
        if os.path.exists(p):
            os.remove(p)
    summary = json.loads(subprocess.run([loza, "batch", tasks, "--out", out, "--jobs", str(jobs), "--threads",
                                         str(threads), "--json"], capture_output=True, text=True,
                                        check=True).stdout)
    answers, decode_tokens, prefill_s, generated = {}, 0, 0.0, 0
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            tokens = []
            for t in model_turns(r["transcript"]):
                tokens += t["tokens"]
                decode_tokens += max(0, len(t["tokens"]) - 1)
                prefill_s += t.get("prefill_s", 0.0)
            generated += len(tokens)
            answers[r["id"]] = (r["status"], r.get("answer"), tokens)
    wall = summary["wall_s"]
    return {"wall_s": wall, "generated": generated, "decode_tokens": decode_tokens, "prefill_s": prefill_s,
            "tok_s": generated / wall, "answers": answers}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loza", default=os.path.join(ROOT, ".build/release/loza"))
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--speculation", default="off", choices=["off", "lookup"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    runs = {1: [], a.jobs: []}
    mismatch = False
    with tempfile.TemporaryDirectory() as tmp:
        tasks = os.path.join(tmp, "tasks.jsonl")
        tasks_file(tasks, a.model, a.max_tokens, a.speculation)
        first = None
        for _ in range(a.repeats):
            for jobs in (1, a.jobs):
                r = run_batch(a.loza, tasks, tmp, jobs, a.threads)
                runs[jobs].append(r)
                if first is None:
                    first = r["answers"]
                elif r["answers"] != first:
                    mismatch = True
                    bad = [k for k in first if first[k] != r["answers"].get(k)]
                    print(f"jobs {jobs}: answers differ from the first run's on {bad}", file=sys.stderr)

    def med(jobs, key):
        return statistics.median(r[key] for r in runs[jobs])

    # Prefill runs one prompt at a time in both; the rest of the wall time is decoding (and sampling).
    def decode_rate(r, prefill):
        return r["decode_tokens"] / max(1e-9, r["wall_s"] - prefill)

    prefill_alone = statistics.median(r["prefill_s"] for r in runs[1])
    rows = []
    for jobs in (1, a.jobs):
        rows.append({"jobs": jobs, "wall_s": round(med(jobs, "wall_s"), 1), "generated": runs[jobs][0]["generated"],
                     "tok_s": round(med(jobs, "tok_s"), 2),
                     "decode_tok_s": round(statistics.median(decode_rate(r, prefill_alone) for r in runs[jobs]), 2),
                     "prefill_s": round(prefill_alone, 1)})
    ratio = rows[1]["tok_s"] / rows[0]["tok_s"]
    decode_ratio = rows[1]["decode_tok_s"] / rows[0]["decode_tok_s"]
    if a.json:
        print(json.dumps({"model": a.model, "threads": a.threads, "repeats": a.repeats, "speculation": a.speculation,
                          "rows": rows, "ratio": round(ratio, 3), "decode_ratio": round(decode_ratio, 3),
                          "identical": not mismatch}))
    else:
        print(f"model {a.model}, {a.threads} threads, {len(SUBJECTS)} tasks, max {a.max_tokens} tokens, "
              f"speculation {a.speculation}, medians of {a.repeats} alternating runs, temperature 0")
        print("| jobs | wall s | tokens | tokens/s (wall) | decode tokens/s | prefill s (one at a time) |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['jobs']} | {r['wall_s']} | {r['generated']} | {r['tok_s']} | {r['decode_tok_s']} | {r['prefill_s']} |")
        print(f"jobs {a.jobs} / jobs 1: {ratio:.2f}x tokens/s, {decode_ratio:.2f}x decode tokens/s")
        print("answers identical in every run" if not mismatch else "ANSWERS DIFFER")
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
