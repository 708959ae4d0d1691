#!/usr/bin/env python3
"""GSM-Symbolic (reasoning-gym 0.1.25) through `loza batch`, with the calculator plugin as the one tool.

Tooling only: runs in the venv made by scripts/setup-workloads.sh. The questions and answers are
reasoning-gym's own: its GSM-Symbolic dataset class (`GSMSymbolicDataset`, seeded generators built from
GSM8K test problems), of which only the 85 generators it lists as working (`tasks_ok`) are used. The
module is imported directly, not through the `reasoning_gym` package `__init__` (which pulls in heavy
dependencies the generators do not need). Report results as "GSM-Symbolic (reasoning-gym 0.1.25, seed N)".

  prepare --count 200 --seed S [--reasoning off|think] [--model M] --out TASKS.jsonl
          task i is item i of GSMSymbolicDataset(seed=S, size=COUNT) with its generator set to
          tasks_ok[i % 85] instead of a random choice, so the tasks spread evenly over the working
          generators (200 tasks: every generator twice, the first 30 three times); the question (with the
          dataset's own suffix "Give the result as your final answer. Do not include units.") is the
          prompt, Tools/calculator the one tool, and one generic system prompt is the same for every task.
  score   --tasks TASKS.jsonl --results RESULTS.jsonl [--json] [--failures FILE]
          correct = the final number of the answer equals the expected answer (see `final_number`).

The same tasks run on a llama.cpp server with `--model http://127.0.0.1:PORT/v1` (loza drives it as a
remote model: `model: {url, name}`).
"""
import argparse
import importlib
import importlib.util
import json
import os
import re
import sys
import types
from decimal import Decimal, InvalidOperation
from pathlib import Path
import jsonl_io  # scripts/jsonl_io.py, next to this one

HERE = Path(__file__).resolve().parent
CALCULATOR = HERE.parent / "Tools" / "calculator"
SYSTEM = ("You are a careful assistant who solves math word problems. Use the calculator tool for the "
          "arithmetic. When you are done, state the final answer as a single number.")
REASONING_BUDGET = 512


def gsm_symbolic():
    """reasoning_gym.arithmetic.gsm_symbolic.gsm_symbolic, loaded without running the package __init__
    files: stand-in package modules whose __path__ is the real folder, so only the submodules the dataset
    imports (utils, factory, dataset, coaching.*, the generators) are executed."""
    try:
        found = importlib.util.find_spec("reasoning_gym")
    except ValueError:
        found = None
    if found is None or not found.submodule_search_locations:
        sys.exit("gsm.py: reasoning-gym is not installed; run with the python that scripts/setup-workloads.sh prints")
    root = Path(list(found.submodule_search_locations)[0])
    for name, folder in [("reasoning_gym", root), ("reasoning_gym.coaching", root / "coaching"),
                         ("reasoning_gym.arithmetic", root / "arithmetic"),
                         ("reasoning_gym.arithmetic.gsm_symbolic", root / "arithmetic" / "gsm_symbolic")]:
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(folder)]
            sys.modules[name] = module
    return importlib.import_module("reasoning_gym.arithmetic.gsm_symbolic.gsm_symbolic")


def model_setting(model):
    if model.startswith("http://") or model.startswith("https://"):
        return {"url": model, "name": "default"}
    if model.endswith(".gguf"):
        return os.path.abspath(model)
    return model


# ---------------------------------------------------------------------------------------------- prepare

def items(count, seed):
    """(generator index, item) for items 0..count-1, generators spread round-robin over tasks_ok."""
    g = gsm_symbolic()
    dataset = g.GSMSymbolicDataset(g.GSMSymbolicDatasetConfig(seed=seed, size=count))
    dataset.task_indices = [g.tasks_ok[i % len(g.tasks_ok)] for i in range(count)]
    return [(dataset.task_indices[i], dataset[i]) for i in range(count)]


def task_for(index, generator, item, args):
    spec = {
        "name": f"gsm-{index:04d}",
        "model": model_setting(args.model),
        "sampling": {"temperature": 0, "seed": 1, "max_tokens": args.max_tokens},
        "system": SYSTEM,
        "prompt": item["question"],
        "tools": [{"exec": str(CALCULATOR)}],
        "limits": {"steps": args.steps, "tokens": args.tokens, "wall": "10m"},
    }
    if args.reasoning == "think":
        spec["reasoning"] = {"mode": "think", "budget": REASONING_BUDGET}
    return {"id": f"gsm-{index:04d}", "spec": spec, "params": {},
            "expected": item["answer"], "generator": generator}


def cmd_prepare(args):
    if args.count < 1:
        sys.exit("gsm.py: --count must be at least 1")
    with open(args.out, "w") as out:
        for i, (generator, item) in enumerate(items(args.count, args.seed)):
            out.write(json.dumps(task_for(i, generator, item, args)) + "\n")
    print(f"{args.count} GSM-Symbolic tasks (reasoning-gym 0.1.25, seed {args.seed}) -> {args.out}",
          file=sys.stderr)


# ----------------------------------------------------------------------------------------------- score

# A number as written in text: optional minus sign, digits with optional thousands commas, optional
# decimal part (or a bare decimal part such as .5).
NUMBER = re.compile(r"-?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")


def final_number(answer):
    """The last number in the answer text, commas removed, as a Decimal (None if there is none).

    Rules: the final answer is the run's answer text (the last model turn, which has no tool call);
    numbers are matched by NUMBER left to right and the last match is taken; commas are removed (a
    thousands separator: "1,234" is 1234); a trailing period is a full stop ("is 12." is 12); "-"
    directly before the digits is a minus sign, so a range "3-5" reads as 3 and -5 and gives -5 (such
    answers count as wrong unless -5 is the answer). LaTeX \\frac and words ("twelve") are not read."""
    if not answer:
        return None
    matches = NUMBER.findall(answer)
    while matches:
        text = matches.pop().replace(",", "")
        if text in ("", "-"):
            continue
        try:
            return Decimal(text)
        except InvalidOperation:
            continue
    return None


def equal(found, expected):
    """Numeric equality: Decimal comparison, so 18, 18.0 and 18.00 are all equal to "18"."""
    try:
        return found is not None and found == Decimal(str(expected).replace(",", ""))
    except InvalidOperation:
        return False


def read_jsonl(path, what):
    return jsonl_io.read_jsonl(path, what, "gsm.py")


def cmd_score(args):
    tasks = {t["id"]: t for t in read_jsonl(args.tasks, "task")}
    results = {}
    for r in read_jsonl(args.results, "result"):
        if r.get("id") not in tasks:
            sys.exit(f"gsm.py: result id {r.get('id')!r} is not in {args.tasks}")
        results[r["id"]] = r
    correct, package_correct, tokens, statuses, failures = 0, 0, [], {}, []
    no_number, calls = 0, 0
    g = gsm_symbolic()
    scorer = g.GSMSymbolicDataset(g.GSMSymbolicDatasetConfig(seed=0, size=1))
    for task_id, result in results.items():
        expected = tasks[task_id]["expected"]
        answer = result.get("answer") or ""
        found = final_number(answer)
        ok = equal(found, expected)
        correct += ok
        # reasoning-gym's own score_answer (first number in the answer, float equality) as a cross-check.
        package_correct += scorer.score_answer(answer, {"answer": expected}) == 1.0
        no_number += found is None
        tokens.append(result.get("tokens", 0))
        calls += len(result.get("calls") or [])
        statuses[result.get("status", "?")] = statuses.get(result.get("status", "?"), 0) + 1
        if not ok:
            failures.append({"id": task_id, "generator": tasks[task_id]["generator"], "expected": expected,
                             "found": None if found is None else str(found), "status": result.get("status"),
                             "reason": result.get("reason"), "answer": answer[-400:]})
    total = len(results)
    summary = {"total": total, "correct": correct, "accuracy": round(correct / total, 4) if total else 0.0,
               "missing": len(tasks) - total, "no_number": no_number,
               "package_score_correct": package_correct, "by_status": statuses,
               "mean_tokens": round(sum(tokens) / total, 1) if total else 0.0,
               "mean_calls": round(calls / total, 2) if total else 0.0}
    if args.failures:
        with open(args.failures, "w") as f:
            for item in failures:
                f.write(json.dumps(item) + "\n")
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"GSM-Symbolic: {correct}/{total} ({summary['accuracy'] * 100:.1f}%)  "
              f"mean tokens {summary['mean_tokens']}  statuses {statuses}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--reasoning", choices=["off", "think"], default="off")
    p.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    p.add_argument("--max-tokens", type=int, default=1024, help="per model turn")
    p.add_argument("--steps", type=int, default=12, help="model turns per task")
    p.add_argument("--tokens", type=int, default=4096, help="generated tokens per task")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_prepare)
    p = sub.add_parser("score")
    p.add_argument("--tasks", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--failures")
    p.set_defaults(func=cmd_score)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
