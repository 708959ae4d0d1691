#!/usr/bin/env python3
"""Writes Tests/GGUFTests/Fixtures/dequant.json: reference numbers from the python `gguf` package
(an implementation independent of loza's C kernels).

- rows: a few rows of real tensors of every type in the two models, dequantized by gguf.quants
  (float32 bit patterns), plus each tensor's shape/type/absolute data offset as GGUFReader reads them.
- random_blocks: random bytes of every supported block type (sane f16 scales), dequantized by gguf-py.
- quantize: seeded inputs quantized by gguf.quants for the types whose python quantizer follows
  ggml's reference step for step (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16, BF16), as hex bytes.

Run with /opt/refenv/bin/python (has `gguf` + numpy); never needed at test time or in CI.
Models come from $LOZA_MODELS (default ~/.cache/loza/models).
"""
import importlib.metadata
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import dequantize, quantize

MODELS = os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models"))
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "GGUFTests", "Fixtures", "dequant.json")

# (model file, tensor name, rows to dump)
PICKS = [
    ("qwen2.5-coder-0.5b-instruct.gguf", "output.weight", [0, 151935]),               # Q8_0
    ("qwen2.5-coder-0.5b-instruct.gguf", "token_embd.weight", [0, 12345]),            # Q5_0
    ("qwen2.5-coder-0.5b-instruct.gguf", "blk.0.ffn_down.weight", [7]),               # Q6_K
    ("qwen2.5-coder-0.5b-instruct.gguf", "@Q4_K", [0, 100]),                          # first Q4_K tensor
    ("qwen2.5-coder-0.5b-instruct.gguf", "blk.0.attn_q.bias", [0]),                   # F32
    ("smollm2-135m-instruct.gguf", "token_embd.weight", [1, 49151]),                  # Q8_0
    ("smollm2-135m-instruct.gguf", "blk.0.ffn_down.weight", [3]),                     # Q4_1
    ("smollm2-135m-instruct.gguf", "blk.29.attn_k.weight", [0, 191]),                 # Q4_1
    ("smollm2-135m-instruct.gguf", "output_norm.weight", [0]),                        # F32
]


def rows_fixture():
    out = []
    readers = {}
    for model, name, rows in PICKS:
        path = os.path.join(MODELS, model)
        if not os.path.exists(path):
            sys.exit(f"missing model {path}")
        r = readers.setdefault(model, gguf.GGUFReader(path))
        if name.startswith("@"):
            t = next(t for t in r.tensors if t.tensor_type.name == name[1:])
        else:
            t = next(t for t in r.tensors if t.name == name)
        ne0 = int(t.shape[0])
        nrows = int(np.prod([int(d) for d in t.shape[1:]], dtype=np.int64)) if len(t.shape) > 1 else 1
        data = np.asarray(t.data).reshape(nrows, -1)  # (rows, row bytes) quantized, (rows, ne0) float
        for row in rows:
            vals = dequantize(data[row].reshape(1, -1), t.tensor_type).reshape(-1).astype(np.float32)
            assert vals.shape[0] == ne0
            out.append({
                "model": model, "tensor": t.name, "type": t.tensor_type.name,
                "dims": [int(d) for d in t.shape], "offset": int(t.data_offset), "row": row,
                "bits": vals.view(np.uint32).tolist(),
            })
    return out


def quantize_fixture():
    rng = np.random.default_rng(20261126)
    x = (rng.standard_normal(512) * 0.05).astype(np.float32)
    x[5] = 0.4   # an outlier
    x[300:332] = 0.0  # an all-zero block
    out = []
    for qt in (Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0, Q.F16, Q.BF16):
        q = quantize(x.reshape(2, 256), qt)
        out.append({"type": qt.name, "n": 256, "rows": 2, "hex": q.tobytes().hex()})
    return {"input_bits": x.view(np.uint32).tolist(), "cases": out}


# Byte offsets of the f16 scale fields in one block (set to sane values so no NaN/inf scales).
SCALE_FIELDS = {Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
                Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208]}


def random_blocks_fixture():
    """Random block bytes of every supported type, dequantized by gguf-py: checks every bit of
    every layout, including types absent from the two models (Q4_0, Q5_1, Q5_K, F16, BF16)."""
    rng = np.random.default_rng(7)
    out = []
    for qt, (be, bb) in ((qt, gguf.GGML_QUANT_SIZES[qt]) for qt in SCALE_FIELDS):
        nb = 4
        raw = rng.integers(0, 256, size=(nb, bb), dtype=np.uint8)
        for off in SCALE_FIELDS[qt]:
            raw[:, off:off + 2] = (rng.uniform(-0.05, 0.05, size=(nb, 1)).astype(np.float16)).view(np.uint8)
        vals = dequantize(raw.reshape(-1), qt).reshape(-1).astype(np.float32)
        out.append({"type": qt.name, "n": nb * be, "hex": raw.tobytes().hex(), "bits": vals.view(np.uint32).tolist()})
    for qt in (Q.F16, Q.BF16):
        raw = rng.integers(0, 1 << 16, size=512, dtype=np.uint16)
        raw = raw[(raw & 0x7F80 if qt == Q.BF16 else raw & 0x7C00) != (0x7F80 if qt == Q.BF16 else 0x7C00)][:256]
        vals = dequantize(raw.view(np.uint8), qt).reshape(-1).astype(np.float32)
        out.append({"type": qt.name, "n": 256, "hex": raw.tobytes().hex(), "bits": vals.view(np.uint32).tolist()})
    return out


def main():
    fixture = {
        "generator": "scripts/gguf_dequant_fixture.py with gguf " + importlib.metadata.version("gguf"),
        "rows": rows_fixture(),
        "quantize": quantize_fixture(),
        "random_blocks": random_blocks_fixture(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(fixture['rows'])} rows, {len(fixture['quantize']['cases'])} quantize cases")


if __name__ == "__main__":
    main()
