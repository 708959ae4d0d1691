#!/usr/bin/env python3
"""Decode speed against context depth: loza (full attention and LoZA) and llama.cpp side by side.

    /opt/refenv/bin/python scripts/bench-depths-vs-llamacpp.py [--loza .build/release/loza]
        [--model qwen2.5-coder-0.5b-instruct] [--threads 2] [--depths 1024,4096,8192,16384]
        [--tg 32] [--repeats 3] [--flash off,on]

One sweep per engine setting, in this order: loza LoZA and full together, llama.cpp flash off, llama.cpp
flash on. Each sweep prefills one random prompt incrementally (batches of 512) to every depth in turn; at
each depth it decodes `tg` tokens `repeats` times (rewinding to the depth in between) and keeps the median
milliseconds per token; prefill_s is the cumulative prefill time from 0 to that depth. loza is measured by
`loza bench --depths ... --attention loza --compare-full --json` (same protocol, in DepthBenchmark): one
process holds a LoZA and a full-attention session and alternates their decode runs, so the LoZA / full ratio
is not at the mercy of whatever else ran during one of two separate sweeps; llama.cpp by llama-cpp-python (compiled
on this machine, n_batch = n_ubatch = 512, same thread count for prompt and decode) timing `Llama.eval`.
llama.cpp's faster flash-attention setting at each depth is the one compared against. Prints a markdown table.
"""
import argparse, json, os, random, statistics, subprocess, sys, time
import llama_cpp


def sweep_llamacpp(path, threads, depths, tg, repeats, flash):
    llm = llama_cpp.Llama(model_path=path, n_ctx=max(depths) + tg + 16, n_batch=512, n_ubatch=512,
                          n_threads=threads, n_threads_batch=threads, flash_attn=flash, verbose=False)
    n_vocab = llm.n_vocab()
    rnd = random.Random(1234)
    prompt = [rnd.randrange(n_vocab) for _ in range(max(depths))]
    llm.eval(prompt[:16]); llm.n_tokens = 0  # warm-up
    rows, prefill, done = {}, 0.0, 0
    for d in sorted(depths):
        t0 = time.perf_counter()
        llm.eval(prompt[done:d])
        prefill += time.perf_counter() - t0
        done = d
        runs = []
        for _ in range(repeats):
            tok = prompt[d - 1]
            t0 = time.perf_counter()
            for _ in range(tg):
                llm.eval([tok])
                tok = (tok * 31 + 7) % n_vocab
            runs.append((time.perf_counter() - t0) * 1000 / tg)
            llm.n_tokens = d  # rewind: the next eval drops the decoded cells
        rows[d] = {"prefill_s": prefill, "decode_ms_per_token": statistics.median(runs), "runs": runs}
        print(f"  llama.cpp flash {'on' if flash else 'off'} depth {d}: prefill {prefill:.1f} s, "
              f"decode {rows[d]['decode_ms_per_token']:.2f} ms/token", file=sys.stderr)
    del llm
    return rows


def sweep_loza(binary, path, threads, depths, tg, repeats):
    """LoZA and full attention in one process, decode runs alternating: ({depth: row} full, {depth: row} LoZA, json)."""
    out = subprocess.run([binary, "bench", "--model", path, "--threads", str(threads), "--depths",
                          ",".join(map(str, depths)), "--gen-tokens", str(tg), "--repeats", str(repeats),
                          "--attention", "loza", "--compare-full", "--json"], check=True, capture_output=True, text=True)
    j = json.loads(out.stdout)
    by = {a: {r["depth"]: r for r in j["depths"] if r["attention"] == a} for a in ("full", "loza")}
    for a in ("full", "loza"):
        for d, r in sorted(by[a].items()):
            print(f"  loza {a} depth {d}: prefill {r['prefill_s']:.1f} s, decode {r['decode_ms_per_token']:.2f} ms/token "
                  f"(runs {', '.join(f'{x:.2f}' for x in r['decode_ms_runs'])})", file=sys.stderr)
    return by["full"], by["loza"], j


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loza", default=".build/release/loza")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depths", default="1024,4096,8192,16384")
    ap.add_argument("--tg", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--flash", default="off,on")
    args = ap.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    models_dir = os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models"))
    path = args.model if args.model.endswith(".gguf") else os.path.join(models_dir, args.model + ".gguf")
    flashes = [f == "on" for f in args.flash.split(",")]

    print("loza LoZA and full (one process, decode runs alternating)", file=sys.stderr)
    full, sparse, sparse_json = sweep_loza(args.loza, path, args.threads, depths, args.tg, args.repeats)
    full_json = sparse_json
    lc = {}
    if False in flashes:
        print("llama.cpp flash off", file=sys.stderr)
        lc[False] = sweep_llamacpp(path, args.threads, depths, args.tg, args.repeats, False)
    if True in flashes:
        print("llama.cpp flash on", file=sys.stderr)
        lc[True] = sweep_llamacpp(path, args.threads, depths, args.tg, args.repeats, True)

    tps = lambda ms: 1000 / ms
    print(f"{os.path.basename(path)}, {args.threads} threads, decode of {args.tg} tokens x {args.repeats} repeats "
          f"(median) after a random prompt of each depth; LoZA plan {sparse_json['plan']}; "
          f"memory read bandwidth {full_json['memory_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s\n")
    head = "| depth | loza full tok/s | loza LoZA tok/s |"
    for f in flashes:
        head += f" llama.cpp fa {'on' if f else 'off'} tok/s |"
    head += (" full / best llama.cpp | LoZA / best llama.cpp | LoZA / full ms | prefill s full / LoZA"
             + "".join(f" / llama.cpp fa {'on' if f else 'off'}" for f in flashes)
             + " | LoZA / full prefill | KV MiB full / LoZA | LoZA / full KV |")
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for d in sorted(depths):
        f, s = full[d], sparse[d]
        best = min(lc[k][d]["decode_ms_per_token"] for k in lc)
        line = f"| {d} | {tps(f['decode_ms_per_token']):.1f} | {tps(s['decode_ms_per_token']):.1f} |"
        for k in flashes:
            line += f" {tps(lc[k][d]['decode_ms_per_token']):.1f} |"
        line += (f" {best / f['decode_ms_per_token']:.2f} | {best / s['decode_ms_per_token']:.2f} |"
                 f" {s['decode_ms_per_token'] / f['decode_ms_per_token']:.2f} |"
                 f" {f['prefill_s']:.1f} / {s['prefill_s']:.1f}" + "".join(f" / {lc[k][d]['prefill_s']:.1f}" for k in flashes) +
                 f" | {s['prefill_s'] / f['prefill_s']:.2f} | {f['kv_bytes'] / 2**20:.1f} / {s['kv_bytes'] / 2**20:.1f} |"
                 f" {s['kv_bytes'] / f['kv_bytes']:.3f} |")
        print(line)
    print(f"\n(llama-cpp-python {llama_cpp.__version__}; prefill_s is cumulative from an empty cache to the depth)")


if __name__ == "__main__":
    main()
