#!/usr/bin/env python3
"""BFCL (bfcl-eval 2026.3.23) through loza's own loop, side by side with an OpenAI-compatible server.

Tooling only: runs in the venv made by scripts/setup-bfcl.sh (never used by loza at run time). The data,
the function-doc conversion and the checkers are bfcl-eval's own; this file only moves entries in and
results out.

  prepare    --category CAT [--limit N [--offset F]] [--model M] [--declared-calls end|collect] --out TASKS.jsonl
             one `loza batch` task per entry: declared tools (single-turn) or the entry's BFCL classes behind
             a stateful MCP server over stdio (multi-turn), user turns as `prompt` / `prompts`.
  run-server --url URL --tasks TASKS.jsonl --out RESULTS.jsonl [--lenient] [--model-name NAME]
             the same tasks through /chat/completions of an OpenAI-compatible server (llama.cpp's
             llama-server --jinja): calls from the response's `tool_calls`, or with --lenient also every JSON
             call object in the reply text; multi-turn tools executed by bfcl-eval's own executor.
  score      --category CAT --results RESULTS.jsonl [--json] [--failures FILE] [--plain]
             bfcl-eval's AST checker (single-turn), its relevance rule (irrelevance: right = no call) or its
             multi-turn checker, over the entries present in RESULTS; --plain scores a --lenient server run as
             its plain `tool_calls` (the calls it read from reply text, marked `from_text`, dropped).

Result lines (the same for `loza batch` and run-server): {"id", "status", "answer", "calls": [{"name",
"arguments", "turn", "step"}], "steps", "tokens", "wall_s", ...}. `turn` is the index of the user turn the
call answered (0 for single-turn), `step` the model turn that made it (1-based over the whole run).
"""
import argparse
import json
import os
import re
import sys
import time
import types
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUPPORTED = {
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
    "irrelevance", "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
    "live_irrelevance", "live_relevance", "multi_turn_base", "multi_turn_long_context",
    "multi_turn_miss_param",
}
MULTI_TURN_STEPS_PER_TURN = 20  # bfcl-eval's MAXIMUM_STEP_LIMIT
COLLECT_STEPS = 5  # single-turn tasks with --declared-calls collect: the first call and up to four more turns


def install_model_config_standin():
    """bfcl_eval.constants.model_config imports every vendor client; the checkers need only
    MODEL_CONFIG_MAPPING[name].underscore_to_dot, False for us (names are passed with their dots restored)."""
    if "bfcl_eval.constants.model_config" in sys.modules:
        return
    standin = types.ModuleType("bfcl_eval.constants.model_config")

    class Config:
        underscore_to_dot = False
        is_fc_model = True

    class Mapping(dict):
        def __missing__(self, key):
            return Config()

    standin.MODEL_CONFIG_MAPPING = Mapping()
    sys.modules["bfcl_eval.constants.model_config"] = standin


install_model_config_standin()
from bfcl_eval.constants.enums import Language, ModelStyle  # noqa: E402
from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI  # noqa: E402
from bfcl_eval.model_handler.utils import convert_to_function_call, convert_to_tool  # noqa: E402
from bfcl_eval.utils import load_dataset_entry, load_ground_truth_entry  # noqa: E402


# ----------------------------------------------------------------------------------------------- data

def category_of(entry_id):
    return entry_id.rsplit("_", 1)[0]


def is_multi_turn(category):
    return category.startswith("multi_turn")


def entries(category):
    if category not in SUPPORTED:
        sys.exit(f"bfcl.py: unsupported category '{category}' (supported: {', '.join(sorted(SUPPORTED))})")
    return load_dataset_entry(category)


def spread(items, limit, offset=0.0):
    """`limit` entries spread evenly over the file (all of them without a limit); `offset` (0 to 1) shifts
    each pick by that fraction of the spacing, so --offset 0.5 picks entries between those of the default."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int((i + offset) * step)] for i in range(limit)]


def openai_tools(functions):
    """The entry's functions as OpenAI tools, the way bfcl-eval's own OpenAI function-calling handler
    compiles them (dots in names become underscores; BFCL types mapped to JSON Schema)."""
    return convert_to_tool(functions, GORILLA_TO_OPENAPI, ModelStyle.OPENAI_COMPLETIONS)


def name_map(functions):
    """OpenAI-style name -> BFCL name (with its dots)."""
    return {re.sub(r"\.", "_", f["name"]): f["name"] for f in functions}


def model_setting(model):
    if model.startswith("http://") or model.startswith("https://"):
        return {"url": model, "name": "default"}
    if model.endswith(".gguf"):
        return os.path.abspath(model)
    return model


def bfcl_python():
    return str(Path(sys.executable).absolute())


# ---------------------------------------------------------------------------------------------- prepare

def split_first_turn(messages):
    """system text, earlier messages, and the last user message of an entry's first turn."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system") or None
    rest = [m for m in messages if m["role"] != "system"]
    return system, rest[:-1], rest[-1]["content"] if rest else ""


def task_for(entry, model, max_tokens, declared_calls="end"):
    category = category_of(entry["id"])
    tools = openai_tools(entry["function"])
    spec = {
        "name": entry["id"],
        "model": model_setting(model),
        "sampling": {"temperature": 0, "seed": 1, "max_tokens": max_tokens},
        # BFCL has parallel categories and its checkers accept several calls: let a turn hold them.
        "parallel_calls": True,
    }
    if is_multi_turn(category):
        turns = entry["question"]
        system, history, _ = split_first_turn(turns[0])
        if system:
            spec["system"] = system
        spec["prompts"] = ["\n\n".join(m["content"] for m in turn if m["role"] == "user") for turn in turns]
        spec["tools"] = [{"mcp": {
            "command": [bfcl_python(), "-m", "loza_bfcl_mcp", "--id", entry["id"]],
            "timeout": 60,
        }}]
        spec["limits"] = {"steps": MULTI_TURN_STEPS_PER_TURN * len(turns), "tokens": 32768, "wall": "20m"}
    else:
        system, history, prompt = split_first_turn(entry["question"][0])
        if system:
            spec["system"] = system
        if history:
            spec["history"] = [{"role": m["role"], "content": m["content"]} for m in history]
        spec["prompt"] = prompt
        spec["tools"] = [{"declare": t["function"]} for t in tools]
        if declared_calls == "collect":
            # Each call is answered "OK" and the model goes on until it makes no new call (see loza's
            # `declared_calls`); the result lists the calls collected.
            spec["declared_calls"] = "collect"
            spec["limits"] = {"steps": COLLECT_STEPS, "tokens": 2 * max_tokens, "wall": "5m"}
        else:
            spec["limits"] = {"steps": 1, "tokens": max_tokens, "wall": "5m"}
    return {"id": entry["id"], "spec": spec, "params": {}}


def cmd_prepare(args):
    if not 0 <= args.offset < 1:
        sys.exit(f"bfcl.py: --offset must be at least 0 and below 1, got {args.offset}")
    chosen = spread(entries(args.category), args.limit, args.offset)
    with open(args.out, "w") as out:
        for entry in chosen:
            out.write(json.dumps(task_for(entry, args.model, args.max_tokens, args.declared_calls)) + "\n")
    print(f"{len(chosen)} tasks of {args.category} -> {args.out}", file=sys.stderr)


# ------------------------------------------------------------------------------------------ run-server

def find_json_values(text):
    """Every JSON object or array that starts at a '{' or '[' in text and parses (outermost first)."""
    decoder = json.JSONDecoder()
    found, i = [], 0
    while i < len(text):
        if text[i] in "{[":
            try:
                value, end = decoder.raw_decode(text, i)
                found.append(value)
                i = end
                continue
            except ValueError:
                pass
        i += 1
    return found


def calls_in_text(text):
    """Calls written in a reply's text: {"name", "arguments"|"parameters"} objects, alone, in a list, in a
    ```json fence or in <tool_call> tags (lenient reading, as a careful user of the server would)."""
    calls = []

    def take(value):
        if isinstance(value, list):
            for v in value:
                take(v)
        elif isinstance(value, dict) and isinstance(value.get("name"), str):
            arguments = value.get("arguments", value.get("parameters", {}))
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    return
            if isinstance(arguments, dict):
                calls.append({"name": value["name"], "arguments": arguments})

    for value in find_json_values(text or ""):
        take(value)
    return calls


def post(url, body, timeout=600):
    request = urllib.request.Request(url.rstrip("/") + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def server_turn(args, messages, tools, max_tokens):
    body = {"model": args.model_name, "messages": messages, "temperature": 0, "seed": 1,
            "max_tokens": max_tokens}
    if tools:
        body["tools"] = tools
    reply = post(args.url, body)
    message = reply["choices"][0]["message"]
    tokens = (reply.get("usage") or {}).get("completion_tokens", 0)
    calls = []
    for tc in message.get("tool_calls") or []:
        fn = tc.get("function", {})
        try:
            arguments = json.loads(fn.get("arguments") or "{}")
        except ValueError:
            arguments = None
        calls.append({"name": fn.get("name", ""), "arguments": arguments, "id": tc.get("id")})
    if not calls and args.lenient:
        calls = [dict(c, from_text=True) for c in calls_in_text(message.get("content") or "")]
    return message, calls, tokens


def run_server_task(args, task):
    spec = task["spec"]
    tools = [{"type": "function", "function": t["declare"]} for t in spec.get("tools", []) if "declare" in t]
    start = time.time()
    result = {"id": task["id"], "status": "final", "answer": None, "calls": [], "steps": 0, "tokens": 0}
    messages = [{"role": "system", "content": spec["system"]}] if spec.get("system") else []
    messages += spec.get("history", [])
    max_tokens = spec["sampling"]["max_tokens"]
    if "prompts" not in spec:
        messages.append({"role": "user", "content": spec["prompt"]})
        message, calls, tokens = server_turn(args, messages, tools, max_tokens)
        result["steps"], result["tokens"] = 1, tokens
        result["answer"] = message.get("content")
        result["calls"] = [dict({"name": c["name"], "arguments": c["arguments"], "turn": 0, "step": 1},
                                **({"from_text": True} if c.get("from_text") else {})) for c in calls]
        if calls:
            result["status"] = "calls"
    else:
        from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call
        entry = {e["id"]: e for e in entries(category_of(task["id"]))}[task["id"]]
        tools = openai_tools(entry["function"])
        names = name_map(entry["function"])
        for turn, prompt in enumerate(spec["prompts"]):
            messages.append({"role": "user", "content": prompt})
            for _ in range(MULTI_TURN_STEPS_PER_TURN):
                message, calls, tokens = server_turn(args, messages, tools, max_tokens)
                result["steps"] += 1
                result["tokens"] += tokens
                if not calls:
                    messages.append({"role": "assistant", "content": message.get("content") or ""})
                    result["answer"] = message.get("content")
                    break
                ids = [c.get("id") or f"call_{result['steps']}_{i}" for i, c in enumerate(calls)]
                messages.append({"role": "assistant", "content": message.get("content") or "", "tool_calls": [
                    {"id": i, "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                    for i, c in zip(ids, calls)]})
                for c in calls:
                    result["calls"].append({"name": c["name"], "arguments": c["arguments"], "turn": turn,
                                            "step": result["steps"]})
                decoded = [convert_to_function_call({names.get(c["name"], c["name"]): c["arguments"] or {}})[0]
                           for c in calls]
                outputs, _ = execute_multi_turn_func_call(
                    decoded, entry["initial_config"], entry["involved_classes"], "loza_run_server", task["id"],
                    long_context="long_context" in task["id"], is_evaL_run=False)
                for i, output in zip(ids, outputs):
                    messages.append({"role": "tool", "tool_call_id": i, "content": str(output)})
    result["wall_s"] = round(time.time() - start, 3)
    return result


def done_ids(path):
    if not os.path.exists(path):
        return set()
    ids = set()
    with open(path) as f:
        for line in f:
            try:
                ids.add(json.loads(line)["id"])
            except (ValueError, KeyError):
                pass
    return ids


def cmd_run_server(args):
    tasks = [json.loads(l) for l in open(args.tasks) if l.strip()]
    skip = done_ids(args.out)
    todo = [t for t in tasks if t["id"] not in skip]
    with open(args.out, "a") as out:
        for n, task in enumerate(todo, 1):
            try:
                result = run_server_task(args, task)
            except Exception as error:  # a failed task is a result, never the end of the run
                result = {"id": task["id"], "status": "failed", "reason": f"{type(error).__name__}: {error}",
                          "answer": None, "calls": [], "steps": 0, "tokens": 0, "wall_s": 0}
            out.write(json.dumps(result) + "\n")
            out.flush()
            print(f"\r{n}/{len(todo)} {task['id']}", end="", file=sys.stderr)
    print(file=sys.stderr)


# ----------------------------------------------------------------------------------------------- score

def language(category):
    if category == "simple_java":
        return Language.JAVA
    if category == "simple_javascript":
        return Language.JAVASCRIPT
    return Language.PYTHON


def failure_kind(check, calls, expected_count):
    """A coarse failure class from the checker's error type and the calls made."""
    kind = check.get("error_type", "")
    if not calls:
        return "no call"
    if any(c.get("arguments") is None for c in calls):
        return "malformed"
    if "wrong_count" in kind:
        return "too many calls" if len(calls) > expected_count else "too few calls"
    if "wrong_func_name" in kind:
        return "wrong function"
    if "unexpected_param" in kind:
        return "invented argument"
    if "missing_required" in kind:
        return "missing argument"
    if kind.startswith("type_error") or kind.startswith("value_error") or "cannot_find_match" in kind:
        return "wrong argument value"
    return kind or "other"


def score_single(category, entry, answer, result):
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    calls = result.get("calls", [])
    if result.get("status") == "failed" and not calls:
        return {"valid": "irrelevance" in category, "kind": "run failed: " + str(result.get("reason", ""))[:80]}
    if "irrelevance" in category:
        return {"valid": not calls, "kind": None if not calls else "called a tool"}
    if category == "live_relevance":
        return {"valid": bool(calls), "kind": None if calls else "no call"}
    names = name_map(entry["function"])
    output = [{names.get(c["name"], c["name"]): c.get("arguments") or {}} for c in calls]
    check = ast_checker(entry["function"], output, answer["ground_truth"], language(category), category,
                        "loza")
    if check["valid"]:
        return {"valid": True, "kind": None}
    return {"valid": False, "kind": failure_kind(check, calls, len(answer["ground_truth"])),
            "error": check.get("error")}


def score_multi(category, entry, answer, result):
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker
    turns = len(entry["question"])
    names = name_map(entry["function"])
    decoded = [[] for _ in range(turns)]
    steps = {}
    for c in result.get("calls", []):
        turn = c.get("turn", 0)
        if not 0 <= turn < turns:
            continue
        key = (turn, c.get("step", 0))
        if key not in steps:
            steps[key] = []
            decoded[turn].append(steps[key])
        steps[key].append(convert_to_function_call({names.get(c["name"], c["name"]): c.get("arguments") or {}})[0])
    check = multi_turn_checker(decoded, answer["ground_truth"], entry, category, "loza_score")
    if check["valid"]:
        return {"valid": True, "kind": None}
    return {"valid": False, "kind": check.get("error_type", "other"), "error": check.get("error_message")}


def plain_result(result):
    """The result as a user of the server's `tool_calls` alone gets it: calls read from the reply text
    (run-server --lenient marks them `from_text`) taken out. Single-turn only: in a multi-turn run those
    calls were executed and changed what followed."""
    calls = [c for c in result.get("calls", []) if not c.get("from_text")]
    status = result.get("status")
    if status == "calls" and not calls:
        status = "final"
    return dict(result, calls=calls, status=status)


def cmd_score(args):
    if args.plain and is_multi_turn(args.category):
        sys.exit("score: --plain is for single-turn categories (a multi-turn run executed its text calls)")
    category = args.category
    by_id = {e["id"]: e for e in entries(category)}
    answers = {}
    if "irrelevance" not in category and category != "live_relevance":
        answers = {a["id"]: a for a in load_ground_truth_entry(category)}
    results = {}
    for line in open(args.results):
        if line.strip():
            r = json.loads(line)
            if r["id"] in by_id:
                if args.plain:
                    r = plain_result(r)
                results[r["id"]] = r
    correct, kinds, failures = 0, {}, []
    for entry_id, result in results.items():
        entry = by_id[entry_id]
        scorer = score_multi if is_multi_turn(category) else score_single
        verdict = scorer(category, entry, answers.get(entry_id), result)
        if verdict["valid"]:
            correct += 1
        else:
            kinds[verdict["kind"]] = kinds.get(verdict["kind"], 0) + 1
            failures.append({"id": entry_id, "kind": verdict["kind"], "error": verdict.get("error"),
                             "calls": result.get("calls"), "answer": result.get("answer")})
    total = len(results)
    summary = {"category": category, "total": total, "correct": correct,
               "accuracy": round(correct / total, 4) if total else 0.0, "failures": kinds}
    if is_multi_turn(category) and total:
        summary["mean_tokens"] = round(sum(r.get("tokens", 0) for r in results.values()) / total, 1)
    if args.failures:
        with open(args.failures, "w") as f:
            for item in failures:
                f.write(json.dumps(item, default=str) + "\n")
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{category}: {correct}/{total} ({summary['accuracy'] * 100:.1f}%)  failures: {kinds}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--category", required=True)
    p.add_argument("--limit", type=int)
    p.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    p.add_argument("--offset", type=float, default=0.0,
                   help="with --limit: shift the picks by this fraction of their spacing (0.5: the entries between)")
    p.add_argument("--max-tokens", type=int, default=1024)
    p.add_argument("--declared-calls", choices=["end", "collect"], default="end",
                   help="single-turn tasks: end the run at the first call (default) or collect calls while the "
                        "model makes new ones")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_prepare)
    p = sub.add_parser("run-server")
    p.add_argument("--url", required=True)
    p.add_argument("--tasks", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--lenient", action="store_true")
    p.add_argument("--model-name", default="default")
    p.set_defaults(func=cmd_run_server)
    p = sub.add_parser("score")
    p.add_argument("--category", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--failures")
    p.add_argument("--plain", action="store_true",
                   help="score run-server --lenient results as plain `tool_calls` (calls read from text dropped)")
    p.set_defaults(func=cmd_score)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
