#!/usr/bin/env python3
"""Prompt processing and decode speed of loza and llama.cpp side by side, on the same GGUF files.

    /opt/refenv/bin/python scripts/bench-vs-llamacpp.py [--loza .build/release/loza] [--runs 3]
        [--threads 1,2] [--models smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct] [--pp 512] [--tg 128]

For each model and thread count, runs alternate (loza, llama.cpp, loza, llama.cpp, ...) so that both see
the same machine load. One run = `pp` prompt tokens from an empty cache (one batch of 512) then `tg`
single-token decode steps. loza is measured by `loza bench --repeats 1 --json` (a fresh process per
run); llama.cpp by llama-cpp-python (compiled from source, n_batch 512, flash attention off, the same
thread count for prompt and decode) timing `Llama.eval` on the same numbers of tokens. Prints the median
tokens/s of each and the ratio loza / llama.cpp.
"""
import argparse, json, os, random, statistics, subprocess, sys, time
import llama_cpp


def bench_llamacpp(llm, n_vocab, pp, tg, seed):
    rnd = random.Random(seed)
    prompt = [rnd.randrange(n_vocab) for _ in range(pp)]
    llm.reset()
    t0, c0 = time.perf_counter(), time.process_time()
    llm.eval(prompt)
    t_pp, c_pp = time.perf_counter() - t0, time.process_time() - c0
    tok = prompt[-1]
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(tg):
        llm.eval([tok])
        tok = (tok * 31 + 7) % n_vocab
    t_tg, c_tg = time.perf_counter() - t0, time.process_time() - c0
    return pp / t_pp, tg / t_tg, pp / c_pp, tg / c_tg


def bench_loza(binary, model, threads, pp, tg):
    out = subprocess.run([binary, "bench", "--model", model, "--threads", str(threads), "--prompt-tokens", str(pp),
                          "--gen-tokens", str(tg), "--repeats", "1", "--json"],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    return (j["prefill_tokens_per_s"], j["decode_tokens_per_s"], pp / max(j["prefill_cpu_s"][0], 1e-9),
            tg / max(j["decode_cpu_s"][0], 1e-9))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loza", default=".build/release/loza")
    ap.add_argument("--models", default="smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pp", type=int, default=512)
    ap.add_argument("--tg", type=int, default=128)
    args = ap.parse_args()
    models_dir = os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models"))
    rows = []
    for alias in args.models.split(","):
        path = os.path.join(models_dir, alias + ".gguf")
        for threads in [int(t) for t in args.threads.split(",")]:
            llm = llama_cpp.Llama(model_path=path, n_ctx=args.pp + args.tg + 16, n_batch=512, n_ubatch=512,
                                  n_threads=threads, n_threads_batch=threads, flash_attn=False, verbose=False)
            n_vocab = llm.n_vocab()
            bench_llamacpp(llm, n_vocab, 16, 4, 0)  # warm-up
            lz, lc = [], []
            for r in range(args.runs):
                lz.append(bench_loza(args.loza, path, threads, args.pp, args.tg))
                lc.append(bench_llamacpp(llm, n_vocab, args.pp, args.tg, r))
                print(f"{alias} t={threads} run {r + 1}: loza pp {lz[-1][0]:.1f} tg {lz[-1][1]:.1f} | "
                      f"llama.cpp pp {lc[-1][0]:.1f} tg {lc[-1][1]:.1f}", file=sys.stderr)
            del llm
            med = lambda runs, i: statistics.median(x[i] for x in runs)
            rows.append((alias, threads, [med(lz, i) for i in range(4)], [med(lc, i) for i in range(4)]))
    print(f"| model | threads | pp{args.pp} loza | pp{args.pp} llama.cpp | ratio | tg{args.tg} loza | tg{args.tg} llama.cpp | ratio |"
          f" pp per CPU-s loza / llama.cpp | tg per CPU-s loza / llama.cpp |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for alias, t, a, b in rows:
        print(f"| {alias} | {t} | {a[0]:.1f} | {b[0]:.1f} | {a[0] / b[0]:.2f} | {a[1]:.1f} | {b[1]:.1f} | {a[1] / b[1]:.2f} |"
              f" {a[2]:.1f} / {b[2]:.1f} | {a[3]:.1f} / {b[3]:.1f} |")
    print(f"\n(tokens/s of wall time, median of {args.runs} alternating runs; 'per CPU-s' = tokens per second of process"
          f" CPU time, which does not depend on machine load but counts spinning threads; llama-cpp-python {llama_cpp.__version__})")


if __name__ == "__main__":
    main()
