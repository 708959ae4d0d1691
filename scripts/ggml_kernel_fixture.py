#!/usr/bin/env python3
"""Writes Tests/GGUFTests/Fixtures/ggml.json: ggml's own numbers for the scalar reference kernels,
from the libggml-base / libggml-cpu shared libraries that llama-cpp-python builds (ctypes).

For each weight type loza supports: random weight blocks (sane f16 scales), a seeded activation
vector, and what ggml makes of them:
  - act_hex:     quantize_row_q8_{0,1,K}_ref(x), the activation blocks (loza must match byte for byte)
  - dot_generic: ggml_vec_dot_<w>_<act>_generic, the scalar dot (loza's reference follows its order)
  - dot_cpu:     ggml_vec_dot_<w>_<act>, the variant llama.cpp runs on this CPU (AVX2/AVX-512)
plus quantize_row_<w>_ref for the 32-element types (round-to-nearest quantizers).

Run with /opt/refenv/bin/python (llama-cpp-python installed); never at test time or in CI.
"""
import ctypes
import json
import os

import numpy as np
import llama_cpp

LIB = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
base = ctypes.CDLL(os.path.join(LIB, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
cpu = ctypes.CDLL(os.path.join(LIB, "libggml-cpu.so"), mode=ctypes.RTLD_GLOBAL)
cpu.ggml_cpu_init()

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "GGUFTests", "Fixtures", "ggml.json")

# type name, ggml type number, block elems, block bytes, f16 scale offsets, activation type, act block bytes
TYPES = [
    ("Q4_0", 2, 32, 18, [0], "q8_0", 34),
    ("Q4_1", 3, 32, 20, [0, 2], "q8_1", 36),
    ("Q5_0", 6, 32, 22, [0], "q8_0", 34),
    ("Q5_1", 7, 32, 24, [0, 2], "q8_1", 36),
    ("Q8_0", 8, 32, 34, [0], "q8_0", 34),
    ("Q4_K", 12, 256, 144, [0, 2], "q8_K", 292),
    ("Q5_K", 13, 256, 176, [0, 2], "q8_K", 292),
    ("Q6_K", 14, 256, 210, [208], "q8_K", 292),
]
ACT_BE = {"q8_0": 32, "q8_1": 32, "q8_K": 256}

f32p = ctypes.POINTER(ctypes.c_float)


def ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def vec_dot(fn, n, w, act):
    s = ctypes.c_float(0)
    fn.restype = None
    fn(ctypes.c_int(n), ctypes.byref(s), ctypes.c_size_t(0), ptr(w), ctypes.c_size_t(0), ptr(act),
       ctypes.c_size_t(0), ctypes.c_int(1))
    return int(np.array([s.value], dtype=np.float32).view(np.uint32)[0])


def main():
    rng = np.random.default_rng(4242)
    n = 512
    xs = [(rng.standard_normal(n) * scale).astype(np.float32) for scale in (3.0, 0.5, 0.05)]
    xs[2][:256] = 0.0  # an all-zero activation block / super-block
    cases = []
    for name, tnum, be, bb, scale_offs, act, abb in TYPES:
        for trial, x in enumerate(xs):
            nb = n // be
            w = rng.integers(0, 256, size=(nb, bb), dtype=np.uint8)
            for off in scale_offs:
                w[:, off:off + 2] = rng.uniform(-0.02, 0.02, size=(nb, 1)).astype(np.float16).view(np.uint8)
            w = np.ascontiguousarray(w.reshape(-1))
            a = np.zeros((n // ACT_BE[act]) * abb, dtype=np.uint8)
            getattr(base, f"quantize_row_{act}_ref")(ptr(x), ptr(a), ctypes.c_int64(n))
            wl = name.lower().replace("_k", "_K")
            generic = getattr(cpu, f"ggml_vec_dot_{wl}_{act}_generic")
            simd = getattr(cpu, f"ggml_vec_dot_{wl}_{act}")
            cases.append({
                "type": name, "x": trial, "w_hex": w.tobytes().hex(), "act_hex": a.tobytes().hex(),
                "dot_generic": vec_dot(generic, n, w, a), "dot_cpu": vec_dot(simd, n, w, a),
            })
    quant = []
    x = (rng.standard_normal(512) * 0.1).astype(np.float32)
    x[64:96] = 0.0
    for name, tnum, be, bb, _, _, _ in TYPES[:5]:
        q = np.zeros((512 // be) * bb, dtype=np.uint8)
        getattr(base, f"quantize_row_{name.lower().replace('_k', '_K')}_ref")(ptr(x), ptr(q), ctypes.c_int64(512))
        quant.append({"type": name, "n": 512, "hex": q.tobytes().hex()})
    fixture = {
        "generator": "scripts/ggml_kernel_fixture.py with llama-cpp-python " + llama_cpp.__version__,
        "n": n,
        "x_bits": [x.view(np.uint32).tolist() for x in xs],
        "dots": cases,
        "quantize": {"x_bits": x.view(np.uint32).tolist(), "cases": quant},
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} dot cases, {len(quant)} quantize cases")


if __name__ == "__main__":
    main()
