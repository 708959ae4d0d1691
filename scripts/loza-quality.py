#!/usr/bin/env python3
"""LoZA quality table: passkey retrieval accuracy and NLL past position 1024 for full attention, the
calibrated (shipped) plan, an alternating plan (FSFS...) and a random plan with as many S layers as the
calibrated one (random.Random(SEED).sample of the layers), at each context asked for.

Every number comes from `loza eval passkey|nll ... --json` (release binary). Results are appended to a JSON
lines file (one line per eval) and an existing line with the same (model, task, context, plan name) is
reused, so an interrupted run resumes; --table prints the markdown table from that file.

  scripts/loza-quality.py --model qwen2.5-coder-0.5b-instruct --contexts 4096,8192,16384 --out q.jsonl
  scripts/loza-quality.py --table q.jsonl

NLL text: scripts/loza-heldout.txt (held out: never calibration text, see scripts/make-loza-heldout.py),
from its first character (--seed 0). Passkey: --docs documents per context, each with one key at each of
the --depths (fractions of the document; default 0.1,0.3,0.5,0.7,0.9), so trials = docs x depths; the keys
of a document share its prefill (each question is appended to the cached document)."""
import argparse, json, os, random, struct, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models"))


def layer_count(gguf):
    """block_count from the GGUF header (metadata only)."""
    with open(gguf, "rb") as f:
        def rd(fmt):
            return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]
        def rstr():
            return f.read(rd("Q")).decode("utf-8", "replace")
        sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
        def value(t):
            if t == 8:
                return rstr()
            if t == 9:
                et, n = rd("I"), rd("Q")
                if et in sizes:
                    f.seek(n * struct.calcsize("<" + sizes[et]), 1); return None
                for _ in range(n):
                    value(et)
                return None
            return rd(sizes[t])
        assert f.read(4) == b"GGUF", gguf + ": not a GGUF file"
        rd("I"); rd("Q"); kvs = rd("Q")
        for _ in range(kvs):
            k = rstr(); v = value(rd("I"))
            if k.endswith(".block_count"):
                return int(v)
    raise SystemExit(gguf + ": no block_count")


def plans(model_path, calibrated, seed):
    n = layer_count(model_path)
    sparse = calibrated.count("S") if calibrated else n // 2
    rnd = set(random.Random(seed).sample(range(n), sparse))
    return {
        "full": ["--attention", "full"],
        "calibrated": ["--attention", "loza"] + (["--plan", calibrated] if calibrated else []),
        "alternating": ["--attention", "loza", "--plan", "".join("FS"[i % 2] for i in range(n))],
        f"random(seed {seed})": ["--attention", "loza", "--plan", "".join("S" if i in rnd else "F" for i in range(n))],
    }


def run(args):
    model_path = args.model if args.model.endswith(".gguf") else os.path.join(MODELS, args.model + ".gguf")
    done = {}
    if os.path.exists(args.out):
        for line in open(args.out):
            if line.strip():
                r = json.loads(line); done[(r["model"], r["task"], r["context"], r["plan_name"])] = r
    ps = plans(model_path, args.calibrated, args.seed)
    names = [p for p in ps if any(p.startswith(w) for w in args.plans.split(","))]
    for ctx in [int(c) for c in args.contexts.split(",")]:
        docs = args.docs_16k if ctx > 8192 else args.docs
        for task in args.tasks.split(","):
            for name in names:
                key = (os.path.basename(model_path), task, ctx, name)
                if key in done:
                    continue
                cmd = [args.loza, "eval", task, "--model", model_path, "--context", str(ctx),
                       "--threads", str(args.threads), "--json"] + ps[name]
                cmd += ["--text-file", os.path.join(ROOT, "scripts/loza-heldout.txt"), "--seed", "0"] if task == "nll" \
                    else ["--docs", str(docs), "--depths", args.depths]
                t0 = time.time()
                print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr); raise SystemExit(f"eval failed: {key}")
                r = json.loads(out.stdout.strip().splitlines()[-1])
                r.update(plan_name=name, threads=args.threads, wall_s=round(time.time() - t0, 1),
                         load=os.getloadavg()[0], date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
                print(json.dumps(r), file=sys.stderr, flush=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(r) + "\n")


def table(paths):
    rows = [json.loads(l) for path in paths for l in open(path) if l.strip()]
    order = ["full", "calibrated", "alternating", "random"]
    for model in sorted({r["model"] for r in rows}):
        rs = [r for r in rows if r["model"] == model]
        ctxs = sorted({r["context"] for r in rs})
        names = sorted({r["plan_name"] for r in rs}, key=lambda n: [n.startswith(o) for o in order].index(True))
        ps = {(r["plan_name"]): r["plan"] for r in rs}
        print(f"\n**{model}**\n")
        print("| plan | layers | " + " | ".join(f"passkey {c // 1024}K" for c in ctxs) + " | "
              + " | ".join(f"NLL {c // 1024}K" for c in ctxs) + " |")
        print("|---|---|" + "---|" * (2 * len(ctxs)))
        full = {(r["task"], r["context"]): r for r in rs if r["plan_name"] == "full"}
        for n in names:
            get = {(r["task"], r["context"]): r for r in rs if r["plan_name"] == n}
            plan = ps[n]
            cells = []
            for c in ctxs:
                r = get.get(("passkey", c))
                cells.append(f"{100 * r['accuracy']:.0f}% ({round(r['accuracy'] * r['trials'])}/{r['trials']})" if r else "-")
            for c in ctxs:
                r, f = get.get(("nll", c)), full.get(("nll", c))
                d = f" ({100 * (r['nll'] / f['nll'] - 1):+.2f}%)" if r and f and n != "full" else ""
                cells.append(f"{r['nll']:.4f}{d}" if r else "-")
            print(f"| {n} | `{plan}` | " + " | ".join(cells) + " |")
        depth_rows = [r for r in rs if r["task"] == "passkey"]
        if depth_rows:
            print("\npasskey accuracy by insertion depth (fraction of the document):\n")
            for r in sorted(depth_rows, key=lambda r: (r["context"], [r["plan_name"].startswith(o) for o in order].index(True))):
                print(f"- {r['context'] // 1024}K {r['plan_name']}: "
                      + ", ".join(f"{d}: {100 * v:.0f}%" for d, v in r["by_depth"].items()))
        print("\nwall seconds per eval: " + ", ".join(f"{r['task']} {r['context'] // 1024}K {r['plan_name']} {r['wall_s']}"
                                                     for r in rs))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="alias in $LOZA_MODELS or a .gguf path")
    ap.add_argument("--contexts", default="4096,8192")
    ap.add_argument("--tasks", default="passkey,nll")
    ap.add_argument("--plans", default="full,calibrated,alternating,random")
    ap.add_argument("--calibrated", help="plan string (default: the plan loza ships for the model)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the random plan")
    ap.add_argument("--docs", type=int, default=4, help="passkey documents per context up to 8K (x5 depths)")
    ap.add_argument("--docs-16k", type=int, default=2, help="passkey documents above 8K")
    ap.add_argument("--depths", default="0.1,0.3,0.5,0.7,0.9", help="passkey insertion depths (at most 8: one label each)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--loza", default=os.path.join(ROOT, ".build/release/loza"))
    ap.add_argument("--out", default="loza-quality.jsonl")
    ap.add_argument("--table", metavar="JSONL", nargs="+", help="print the markdown table of results files and exit")
    a = ap.parse_args()
    if a.table:
        table(a.table)
    else:
        if not a.model:
            ap.error("--model is required")
        run(a)
