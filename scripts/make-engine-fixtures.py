#!/usr/bin/env python3
"""Write Tests/EngineTests/Fixtures/<model>.json: greedy continuations and top logits from llama.cpp.

Independent reference for loza's engine. Run once, outside CI, with the reference venv:
    /opt/refenv/bin/python scripts/make-engine-fixtures.py [--models DIR]
(llama-cpp-python compiled from source; 2 threads). The JSON holds, per prompt: the prompt text, the
prompt token ids as llama.cpp tokenizes them (so engine tests do not depend on the tokenizer), the
32-token greedy continuation with the gap between the two best logits at every step (to tell a near-tie
from a systematic error), and the top-10 logits at a few prompt positions and generated steps.
"""
import argparse, json, os, sys
import numpy as np
import llama_cpp

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.environ.get("LOZA_MODELS", os.path.expanduser("~/.cache/loza/models")))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "EngineTests", "Fixtures"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for m in MODELS:
        path = os.path.join(args.models, m + ".gguf")
        doc = dict(model=m, reference=f"llama-cpp-python {llama_cpp.__version__}, n_threads=2, logits_all",
                   n_gen=N_GEN, cases=run_model(path, m))
        with open(os.path.join(args.out, m + ".json"), "w") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
