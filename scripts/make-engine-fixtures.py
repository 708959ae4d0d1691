#!/usr/bin/env python3
"""Write Tests/EngineTests/Fixtures/<model>.json: greedy continuations and top logits from llama.cpp.

Independent reference for loza's engine. Run once, outside CI, with the reference venv:
    /opt/refenv/bin/python scripts/make-engine-fixtures.py [--models DIR]
(llama-cpp-python compiled from source; 2 threads). The JSON holds, per prompt: the prompt text, the
prompt token ids as llama.cpp tokenizes them (so engine tests do not depend on the tokenizer), the
32-token greedy continuation with the gap between the two best logits at every step (to tell a near-tie
from a systematic error), and the top-10 logits at a few prompt positions and generated steps.

A second, plain reference is added at the prompt positions: the same logits computed in float64 with
numpy from the dequantized GGUF weights (no activation quantization, no f16 KV). It tells how far
llama.cpp's own rounding moves the logits, which sets the near-tie threshold of the tests, and lets the
tests hold loza to a tight tolerance against exact arithmetic.
"""
import argparse, json, os, sys
import numpy as np
import llama_cpp
from gguf import GGUFReader
from gguf.quants import dequantize

MODELS = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
N_GEN = 32
TOP = 10

LONG = ("The lighthouse keeper had kept the lamp burning for forty-one years. Every evening he climbed the "
        "one hundred and twelve steps, trimmed the wick, polished the great lens and wrote a line in the log: "
        "the weather, the ships that passed, the birds that struck the glass. When the government finally "
        "sent a letter to say that the light would be automated, he read it twice, folded it into quarters "
        "and put it in the drawer with the others. Then he went up the stairs as usual. The sea was calm that "
        "night, and far out a tanker crawled along the horizon like a string of lanterns. He thought about "
        "his daughter in the city, about the radio that had stopped working in the winter, about the smell "
        "of paraffin that had soaked into his coat. In the morning the engineers arrived in a small grey boat. "
        "They were polite and young and they carried their equipment up the steps in silence. One of them "
        "asked him how many times he had climbed the tower. He did the arithmetic in his head and told them")

PROMPTS = [
    ("code_python", 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n'),
    ("code_swift", "func quicksort<T: Comparable>(_ a: [T]) -> [T] {\n"),
    ("chat", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
             "What is the capital of France?<|im_end|>\n<|im_start|>assistant\n"),
    ("prose", "The history of the printing press begins"),
    ("french", "La capitale de la France est Paris. La capitale de l'Allemagne est"),
    ("multilingual", "日本の首都は東京です。Привет, как дела? 😀 Numbers: 3.14159, 2,718,"),
    ("json", '{"name": "loza", "version": "0.1.0", "dependencies": {'),
    ("long_prose", LONG),
]


def top_of(row, k=TOP):
    idx = np.argsort(-row, kind="stable")[:k]
    return {"ids": [int(i) for i in idx], "logits": [round(float(row[i]), 5) for i in idx]}


def run_model(path, name):
    llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_batch=512, n_threads=2, n_threads_batch=2,
                          logits_all=True, verbose=False)
    cases = []
    for key, text in PROMPTS:
        toks = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        llm.reset()
        llm.eval(toks)
        n = len(toks)
        scores = np.array(llm.scores[:n], dtype=np.float32)
        positions = sorted(set([0, n // 2, n - 1]))
        prompt_top = [dict(position=p, **top_of(scores[p])) for p in positions]
        gen, gaps, step_top = [], [], []
        for step in range(N_GEN):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            order = np.argsort(-row, kind="stable")
            tok = int(order[0])
            gaps.append(round(float(row[order[0]] - row[order[1]]), 5))
            if step in (0, 1, N_GEN - 1):
                step_top.append(dict(step=step, **top_of(row)))
            gen.append(tok)
            llm.eval([tok])
        cases.append(dict(name=key, prompt=text, prompt_tokens=[int(t) for t in toks],
                          continuation=gen, top2_gaps=gaps, prompt_top_logits=prompt_top,
                          step_top_logits=step_top))
        print(f"{name} {key}: {n} prompt tokens -> {llm.detokenize(gen).decode('utf-8', 'replace')!r}",
              file=sys.stderr)
    return cases


class F64Model:
    """Plain float64 forward pass of a llama/qwen2 GGUF (dequantized weights, full causal attention)."""

    def __init__(self, path):
        r = GGUFReader(path)
        self.t = {t.name: t for t in r.tensors}
        self.arch = str(r.fields["general.architecture"].contents())
        f = lambda k: r.fields[f"{self.arch}.{k}"].contents()
        self.n_embd, self.n_layer = f("embedding_length"), f("block_count")
        self.n_head, self.n_kv = f("attention.head_count"), f("attention.head_count_kv")
        self.base, self.eps = f("rope.freq_base"), f("attention.layer_norm_rms_epsilon")
        self.hd = self.n_embd // self.n_head
        self.cache = {}

    def w(self, name):
        if name not in self.cache:
            t = self.t[name]
            a = dequantize(t.data, t.tensor_type).astype(np.float32)
            shape = [int(x) for x in reversed(t.shape)]
            self.cache[name] = a.reshape(shape)
        return self.cache[name]

    def norm(self, x, name):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * self.w(name)

    def rope(self, x, heads, cos, sin):
        n, hd = x.shape[0], self.hd
        x = x.reshape(n, heads, hd).copy()
        if self.arch == "qwen2":  # NEOX: halves
            a, b = x[..., : hd // 2].copy(), x[..., hd // 2 :].copy()
            x[..., : hd // 2] = a * cos[:, None] - b * sin[:, None]
            x[..., hd // 2 :] = a * sin[:, None] + b * cos[:, None]
        else:  # llama GGUF: adjacent pairs (Q/K permuted at conversion)
            a, b = x[..., 0::2].copy(), x[..., 1::2].copy()
            x[..., 0::2] = a * cos[:, None] - b * sin[:, None]
            x[..., 1::2] = a * sin[:, None] + b * cos[:, None]
        return x

    def logits(self, toks):
        n, hd, nh, nkv = len(toks), self.hd, self.n_head, self.n_kv
        ang = np.arange(n)[:, None] * (self.base ** (-np.arange(0, hd, 2) / hd))[None, :]
        cos, sin = np.cos(ang), np.sin(ang)
        x = self.w("token_embd.weight")[toks].astype(np.float64)
        mask = np.triu(np.full((n, n), -np.inf), 1)
        for l in range(self.n_layer):
            p = f"blk.{l}."
            xn = self.norm(x, p + "attn_norm.weight")
            q, k, v = (xn @ self.w(p + f"attn_{m}.weight").T for m in "qkv")
            if self.arch == "qwen2":
                q, k, v = q + self.w(p + "attn_q.bias"), k + self.w(p + "attn_k.bias"), v + self.w(p + "attn_v.bias")
            q, k, v = self.rope(q, nh, cos, sin), self.rope(k, nkv, cos, sin), v.reshape(n, nkv, hd)
            att = np.zeros((n, nh, hd))
            for h in range(nh):
                kh = h // (nh // nkv)
                s = q[:, h] @ k[:, kh].T / np.sqrt(hd) + mask
                s = np.exp(s - s.max(-1, keepdims=True))
                att[:, h] = (s / s.sum(-1, keepdims=True)) @ v[:, kh]
            x = x + att.reshape(n, -1) @ self.w(p + "attn_output.weight").T
            xf = self.norm(x, p + "ffn_norm.weight")
            g, u = xf @ self.w(p + "ffn_gate.weight").T, xf @ self.w(p + "ffn_up.weight").T
            x = x + (g / (1 + np.exp(-g)) * u) @ self.w(p + "ffn_down.weight").T
        out = self.w("output.weight") if "output.weight" in self.t else self.w("token_embd.weight")
        return self.norm(x, "output_norm.weight") @ out.T


def add_f64(path, cases, name):
    ref = F64Model(path)
    worst = 0.0
    for c in cases:
        lg = ref.logits(c["prompt_tokens"])
        for top in c["prompt_top_logits"]:
            row = lg[top["position"]]
            top["f64"] = [round(float(row[i]), 5) for i in top["ids"]]
            worst = max(worst, max(abs(a - b) for a, b in zip(top["f64"], top["logits"])))
    print(f"{name}: largest |llama.cpp - f64| on top-10 logits: {worst:.4f}", file=sys.stderr)
    return round(worst, 5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models")))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "EngineTests", "Fixtures"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for m in MODELS:
        path = os.path.join(args.models, m + ".gguf")
        cases = run_model(path, m)
        deviation = add_f64(path, cases, m)
        doc = dict(model=m, reference=f"llama-cpp-python {llama_cpp.__version__}, n_threads=2, logits_all",
                   n_gen=N_GEN, llamacpp_f64_deviation=deviation, cases=cases)
        with open(os.path.join(args.out, m + ".json"), "w") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
