#!/usr/bin/env python3
"""Write Tests/EngineTests/Fixtures/arch-<name>.json: llama.cpp's greedy continuations on synthetic models
of the architectures loza checks without a real model file: `qwen3` (per-head Q/K RMSNorm, head size
from attention.key_length, no biases, NEOX RoPE) and `llama` with Llama 3 RoPE frequency factors
(`rope_freqs.weight`).

Each model has small random weights and a real tokenizer, so llama-server can run it:
- qwen3: the Qwen2.5 tokenizer (the Qwen3 vocabulary is the same), copied from the default model's GGUF;
- llama3: SmolLM2's byte-level BPE (vocabulary, merges, pre-tokenizer) with Llama 3's seven special
  tokens appended (<|begin_of_text|> ... <|python_tag|>), BOS added as Llama 3 files say. No Llama 3
  GGUF is at hand; the engine check does not depend on which BPE it is.
The GGUFs also carry a chat template (the Qwen3 / Llama 3.2 template, from TEMPLATES_DIR) so that
`loza generate --chat` can be tried on them end to end.

Weights are deterministic, so the Swift test (`ArchitectureFixtureTests`) writes the same tensors bit for
bit without Python: element i of the tensor with key k (its 1-based index in the fixture's tensor list) is
    z = mix64((k << 40 | i) + 0x9E3779B97F4A7C15)        (SplitMix64's output function)
    w = (float32(z >> 40) * 2^-24 * 2 - 1) * scale + offset   (each step rounded to float32)
stored as F32; `rope_freqs.weight` is listed by value. The fixture holds the model description, the
prompts as llama.cpp tokenizes them, and per prompt the greedy continuation with the top-5 log
probabilities at every step (log softmax of the logits: differences are logit differences), and the
same log probabilities computed in float64 with numpy (`f64`; `llamacpp_f64_deviation` is llama.cpp's
largest distance from them: its own rounding, e.g. of Q and the attention weights to f16).

usage: ~/.cache/loza/gguf-venv/bin/python scripts/make-arch-fixtures.py
    [--models DIR] [--templates DIR] [--server PATH] [--work DIR]
(gguf and numpy from PyPI; llama-server from scripts/setup-llama-server.sh; 2 threads.)
"""
import argparse, json, os, socket, subprocess, sys, time, urllib.request
import numpy as np
from gguf import GGUFReader, GGUFWriter, GGUFValueType

N_GEN = 24
N_PROBS = 5

PROMPTS = [
    ("code", 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n'),
    ("prose", "The history of the printing press begins in the fifteenth century, when"),
    ("numbers", "Numbers: 3.14159, 2,718, 1.41421 and 42."),
    ("unicode", "日本の首都は東京です。Привет, как дела? 😀"),
    ("long", " ".join(["The lighthouse keeper climbed the one hundred and twelve steps every evening,"
                       " trimmed the wick and wrote the weather in the log."] * 6)),
]

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                   "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"]


def mix64(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def synthetic(key, n, scale, offset):
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = mix64(((np.uint64(key) << np.uint64(40)) | i) + np.uint64(0x9E3779B97F4A7C15))
    u = (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)
    v = u * np.float32(2) - np.float32(1)
    return v * np.float32(scale) + np.float32(offset)


def llama3_rope_freqs(base, dims, factor, low_freq_factor, high_freq_factor, original_context):
    """The factors Meta's Llama 3.1 RoPE scaling divides each frequency by (as llama.cpp's converter)."""
    low_wavelen = original_context / low_freq_factor
    high_wavelen = original_context / high_freq_factor
    out = []
    for f in 1.0 / (base ** (np.arange(0, dims, 2, dtype=np.float32) / dims)):
        wavelen = 2 * np.pi / f
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return [float(np.float32(x)) for x in out]


def describe(arch, n_embd, n_layer, n_head, n_kv, head_dim, n_ff, vocab, tied, rope_base, eps, rope_freqs=None):
    """Metadata and tensor list of a synthetic model (what the fixture records)."""
    q_dim, kv_dim = n_head * head_dim, n_kv * head_dim
    meta = {f"{arch}.block_count": n_layer, f"{arch}.context_length": 1024, f"{arch}.embedding_length": n_embd,
            f"{arch}.feed_forward_length": n_ff, f"{arch}.attention.head_count": n_head,
            f"{arch}.attention.head_count_kv": n_kv, f"{arch}.rope.freq_base": rope_base,
            f"{arch}.attention.layer_norm_rms_epsilon": eps}
    if head_dim != n_embd // n_head:
        meta[f"{arch}.attention.key_length"] = head_dim
        meta[f"{arch}.attention.value_length"] = head_dim
    norm = dict(scale=0.2, offset=1.0)
    mat = dict(scale=0.3, offset=0.0)
    tensors = [dict(name="token_embd.weight", dims=[n_embd, vocab], scale=1.0, offset=0.0),
               dict(name="output_norm.weight", dims=[n_embd], **norm)]
    if not tied:
        tensors.append(dict(name="output.weight", dims=[n_embd, vocab], **mat))
    for l in range(n_layer):
        p = f"blk.{l}."
        tensors += [dict(name=p + "attn_norm.weight", dims=[n_embd], **norm),
                    dict(name=p + "attn_q.weight", dims=[n_embd, q_dim], **mat),
                    dict(name=p + "attn_k.weight", dims=[n_embd, kv_dim], **mat),
                    dict(name=p + "attn_v.weight", dims=[n_embd, kv_dim], **mat)]
        if arch == "qwen3":  # norms far from 1, so ignoring them shows
            tensors += [dict(name=p + "attn_q_norm.weight", dims=[head_dim], scale=1.2, offset=1.5),
                        dict(name=p + "attn_k_norm.weight", dims=[head_dim], scale=1.2, offset=1.5)]
        tensors += [dict(name=p + "attn_output.weight", dims=[q_dim, n_embd], **mat),
                    dict(name=p + "ffn_norm.weight", dims=[n_embd], **norm),
                    dict(name=p + "ffn_gate.weight", dims=[n_embd, n_ff], **mat),
                    dict(name=p + "ffn_up.weight", dims=[n_embd, n_ff], **mat),
                    dict(name=p + "ffn_down.weight", dims=[n_ff, n_embd], **mat)]
    if rope_freqs is not None:
        tensors.append(dict(name="rope_freqs.weight", dims=[head_dim // 2], values=rope_freqs))
    return dict(architecture=arch, metadata=meta, tensors=tensors)


def copy_tokenizer(w, src, extra_specials=None, bos_text=None, eos_text=None, eot_text=None):
    """Copy tokenizer.ggml.* from a GGUF; optionally append special tokens and point BOS/EOS/EOT at them."""
    r = GGUFReader(src)
    fields = {k: f for k, f in r.fields.items() if k.startswith("tokenizer.ggml.")}
    tokens = list(fields["tokenizer.ggml.tokens"].contents())
    types = list(fields["tokenizer.ggml.token_type"].contents())
    ids = {}
    for t in extra_specials or []:
        ids[t] = len(tokens)
        tokens.append(t)
        types.append(3)  # control
    for k, f in fields.items():
        if k in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type"):
            continue
        if extra_specials and k in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token"):
            continue
        sub = f.types[1] if len(f.types) > 1 else None
        w.add_key_value(k, f.contents(), f.types[0], sub_type=sub)
    w.add_key_value("tokenizer.ggml.tokens", tokens, GGUFValueType.ARRAY, sub_type=GGUFValueType.STRING)
    w.add_key_value("tokenizer.ggml.token_type", types, GGUFValueType.ARRAY, sub_type=GGUFValueType.INT32)
    if extra_specials:
        w.add_uint32("tokenizer.ggml.bos_token_id", ids[bos_text])
        w.add_uint32("tokenizer.ggml.eos_token_id", ids[eos_text])
        w.add_uint32("tokenizer.ggml.eot_token_id", ids[eot_text])
        w.add_uint32("tokenizer.ggml.padding_token_id", ids[eos_text])
        w.add_bool("tokenizer.ggml.add_bos_token", True)
    return len(tokens)


def vocab_size(src, extra=0):
    return len(GGUFReader(src).fields["tokenizer.ggml.tokens"].contents()) + extra


def write_gguf(path, desc, tokenizer_src, template, **specials):
    arch = desc["architecture"]
    w = GGUFWriter(path, arch)
    w.add_name(f"loza synthetic {arch}")
    for k, v in desc["metadata"].items():
        if isinstance(v, float):
            w.add_float32(k, v)
        else:
            w.add_uint32(k, v)
    copy_tokenizer(w, tokenizer_src, **specials)
    w.add_chat_template(template)
    for key, t in enumerate(desc["tensors"], start=1):
        n = int(np.prod(t["dims"]))
        if "values" in t:
            data = np.array(t["values"], dtype=np.float32)
        else:
            data = synthetic(key, n, t["scale"], t["offset"])
        w.add_tensor(t["name"], data.reshape(list(reversed(t["dims"]))))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, endpoint, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{endpoint}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def run_server(server, path):
    port = free_port()
    proc = subprocess.Popen([server, "-m", path, "--port", str(port), "-t", "2", "-tb", "2", "-c", "1024",
                             "-np", "1", "--no-warmup"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if json.loads(r.read()).get("status") == "ok":
                    return proc, port
        except Exception:
            pass
        if proc.poll() is not None:
            sys.exit(f"llama-server exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.5)
    proc.kill()
    sys.exit("llama-server did not come up")


def top_entries(step):
    """(id, logprob) of the top candidates of one generated step, whatever this server version calls them."""
    tops = step.get("top_logprobs") or step.get("probs") or []
    return [(int(t["id"]), float(t["logprob"])) for t in tops]


def cases_from_server(server, path, name):
    proc, port = run_server(server, path)
    cases = []
    try:
        for key, text in PROMPTS:
            toks = post(port, "/tokenize", {"content": text, "add_special": True})["tokens"]
            toks = [t if isinstance(t, int) else t["id"] for t in toks]
            res = post(port, "/completion", {"prompt": toks, "n_predict": N_GEN, "temperature": 0, "n_probs": N_PROBS,
                                             "cache_prompt": False, "ignore_eos": True, "seed": 0})
            steps = res["completion_probabilities"]
            gen, gaps, tops = [], [], []
            for s in steps:
                top = top_entries(s)
                tok = int(s["id"])
                if tok != top[0][0]:
                    sys.exit(f"{name} {key}: sampled {tok} is not the top candidate {top[0]}")
                gen.append(tok)
                gaps.append(round(top[0][1] - top[1][1], 5))
                tops.append(dict(ids=[t[0] for t in top], logprobs=[round(t[1], 5) for t in top]))
            cases.append(dict(name=key, prompt=text, prompt_tokens=toks, continuation=gen, top2_gaps=gaps, top=tops))
            print(f"{name} {key}: {len(toks)} prompt tokens, smallest top-2 gap {min(gaps):.4f} -> {res['content']!r}",
                  file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait()
    return cases


class F64Model:
    """Plain float64 forward pass of a synthetic model (full causal attention, no rounding of Q or K/V):
    how far llama.cpp's own rounding moves the log probabilities."""

    def __init__(self, desc):
        self.arch = desc["architecture"]
        m = {k.split(".", 1)[1]: v for k, v in desc["metadata"].items()}
        self.n_layer, self.n_head, self.n_kv = m["block_count"], m["attention.head_count"], m["attention.head_count_kv"]
        self.hd = m.get("attention.key_length", m["embedding_length"] // m["attention.head_count"])
        self.base, self.eps = m["rope.freq_base"], m["attention.layer_norm_rms_epsilon"]
        self.w = {}
        for key, t in enumerate(desc["tensors"], start=1):
            n = int(np.prod(t["dims"]))
            a = np.array(t["values"], dtype=np.float32) if "values" in t else synthetic(key, n, t["scale"], t["offset"])
            self.w[t["name"]] = a.astype(np.float64).reshape(list(reversed(t["dims"])))

    def norm(self, x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * w

    def rope(self, x, cos, sin):
        x = x.copy()
        h = self.hd // 2
        if self.arch == "llama":  # adjacent pairs (GGUF llama)
            a, b = x[..., 0::2].copy(), x[..., 1::2].copy()
            x[..., 0::2], x[..., 1::2] = a * cos - b * sin, a * sin + b * cos
        else:  # NEOX halves
            a, b = x[..., :h].copy(), x[..., h:].copy()
            x[..., :h], x[..., h:] = a * cos - b * sin, a * sin + b * cos
        return x

    def log_probs(self, toks):
        n, hd, nh, nkv, w = len(toks), self.hd, self.n_head, self.n_kv, self.w
        freqs = self.base ** (-np.arange(0, hd, 2) / hd)
        if "rope_freqs.weight" in w:
            freqs = freqs / w["rope_freqs.weight"]
        ang = np.arange(n)[:, None] * freqs[None, :]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        x = w["token_embd.weight"][toks]
        mask = np.triu(np.full((n, n), -np.inf), 1)
        for l in range(self.n_layer):
            p = f"blk.{l}."
            xn = self.norm(x, w[p + "attn_norm.weight"])
            q = (xn @ w[p + "attn_q.weight"].T).reshape(n, nh, hd)
            k = (xn @ w[p + "attn_k.weight"].T).reshape(n, nkv, hd)
            v = (xn @ w[p + "attn_v.weight"].T).reshape(n, nkv, hd)
            if p + "attn_q_norm.weight" in w:
                q, k = self.norm(q, w[p + "attn_q_norm.weight"]), self.norm(k, w[p + "attn_k_norm.weight"])
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            att = np.zeros((n, nh, hd))
            for h in range(nh):
                kh = h // (nh // nkv)
                s = q[:, h] @ k[:, kh].T / np.sqrt(hd) + mask
                s = np.exp(s - s.max(-1, keepdims=True))
                att[:, h] = (s / s.sum(-1, keepdims=True)) @ v[:, kh]
            x = x + att.reshape(n, -1) @ w[p + "attn_output.weight"].T
            xf = self.norm(x, w[p + "ffn_norm.weight"])
            g, u = xf @ w[p + "ffn_gate.weight"].T, xf @ w[p + "ffn_up.weight"].T
            x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "ffn_down.weight"].T
        out = w.get("output.weight", w["token_embd.weight"])
        logits = self.norm(x, w["output_norm.weight"]) @ out.T
        m = logits.max(-1, keepdims=True)
        return logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))


def add_f64(desc, cases, name):
    """Add the float64 log probabilities of each step's top ids; return llama.cpp's largest deviation."""
    ref = F64Model(desc)
    worst = 0.0
    for c in cases:
        toks = c["prompt_tokens"] + c["continuation"][:-1]
        lp = ref.log_probs(toks)
        for step, top in enumerate(c["top"]):
            row = lp[len(c["prompt_tokens"]) - 1 + step]
            top["f64"] = [round(float(row[i]), 5) for i in top["ids"]]
            worst = max(worst, max(abs(a - b) for a, b in zip(top["f64"], top["logprobs"])))
    print(f"{name}: largest |llama.cpp - f64| on top-{N_PROBS} log probabilities: {worst:.4f}", file=sys.stderr)
    return round(worst, 5)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.expanduser("~/.cache/loza")
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.environ.get("LOZA_MODELS", os.path.join(cache, "models")))
    ap.add_argument("--templates", default=os.path.join(cache, "templates"))
    ap.add_argument("--server", default=os.path.join(cache, "llama.cpp", "bin", "llama-server"))
    ap.add_argument("--work", default=os.path.join(cache, "arch-fixtures"))
    ap.add_argument("--out", default=os.path.join(here, "..", "Tests", "EngineTests", "Fixtures"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    qwen_src = os.path.join(args.models, "qwen2.5-coder-0.5b-instruct.gguf")
    smol_src = os.path.join(args.models, "smollm2-135m-instruct.gguf")
    read = lambda f: open(os.path.join(args.templates, f), encoding="utf-8").read()
    version = subprocess.run([args.server, "--version"], capture_output=True, text=True)
    version = (version.stdout + version.stderr).strip().splitlines()[0]

    models = [
        # Head size 32, not 96 / 4 = 24; GQA 4:2; tied output.
        ("qwen3", describe("qwen3", n_embd=96, n_layer=3, n_head=4, n_kv=2, head_dim=32, n_ff=160,
                           vocab=vocab_size(qwen_src), tied=True, rope_base=1_000_000.0, eps=1e-6),
         qwen_src, read("Qwen-Qwen3-0.6B.jinja"), {},
         "Qwen2.5 tokenizer (qwen2.5-coder-0.5b-instruct.gguf)"),
        # Llama 3.1 style RoPE scaling on a short original context, so that most frequencies are scaled
        # within the prompts; GQA 4:2; separate output head.
        ("llama3", describe("llama", n_embd=128, n_layer=3, n_head=4, n_kv=2, head_dim=32, n_ff=192,
                            vocab=vocab_size(smol_src, len(LLAMA3_SPECIALS)), tied=False, rope_base=10000.0,
                            eps=1e-5, rope_freqs=llama3_rope_freqs(10000.0, 32, 8.0, 1.0, 4.0, 256)),
         smol_src, read("meta-llama-Llama-3.2-3B-Instruct.jinja"),
         dict(extra_specials=LLAMA3_SPECIALS, bos_text="<|begin_of_text|>", eos_text="<|end_of_text|>",
              eot_text="<|eot_id|>"),
         "SmolLM2 BPE (smollm2-135m-instruct.gguf) + Llama 3 special tokens"),
    ]
    for name, desc, src, template, specials, tokenizer in models:
        path = os.path.join(args.work, f"{name}.gguf")
        write_gguf(path, desc, src, template, **specials)
        cases = cases_from_server(args.server, path, name)
        deviation = add_f64(desc, cases, name)
        doc = dict(name=name, reference=f"llama-server {version}, -t 2, temperature 0, n_probs {N_PROBS}",
                   tokenizer=tokenizer, weights="mix64((key << 40 | i) + 0x9E3779B97F4A7C15), see script",
                   n_gen=N_GEN, llamacpp_f64_deviation=deviation, model=desc, cases=cases)
        with open(os.path.join(args.out, f"arch-{name}.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{name}: wrote {path} and arch-{name}.json", file=sys.stderr)


if __name__ == "__main__":
    main()
