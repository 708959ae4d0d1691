#!/usr/bin/env python3
"""Reference tokenizer fixtures for Tests/TokenizerTests, from an independent implementation.

Tokenizes a varied text set with llama.cpp (through llama-cpp-python, vocabulary only) for both
models, and writes one JSON file per model into Tests/TokenizerTests/Fixtures. It also writes
fixtures for the pre-tokenizers the two models do not use (gpt-2, default, llama3, qwen2 on the
SmolLM vocabulary), from copies of the SmolLM file whose only change is `tokenizer.ggml.pre`
(made with gguf-py's gguf_new_metadata script in a temporary directory).

Run by hand, never in CI:   /opt/refenv/bin/python scripts/make-tokenizer-fixtures.py
Models are read from $LOZA_MODELS (default ~/.cache/loza/models).
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import llama_cpp
from llama_cpp import Llama

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "TokenizerTests" / "Fixtures"
MODELS = Path(os.environ.get("LOZA_MODELS", str(Path.home() / ".cache" / "loza" / "models")))

LONG_PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog. " * 3
    + "In 1969, Apollo 11 landed on the Moon; the crew's flight lasted 8 days, 3 hours, 18 minutes and 35 seconds. "
    "Tokenizers split text into pre-tokens first (words, numbers, punctuation, runs of whitespace), and only then "
    "apply byte-pair merges inside each pre-token, so that a merge never crosses a word boundary. They're fast, "
    "but they've got many corner cases: don't forget CAPITALIZED CONTRACTIONS LIKE WE'LL, WE'RE and I'D, "
    "or numbers such as 3.14159, 1,000,000, 0x7fff_ffff, 1e-9 and -42.\n\n"
    "Second paragraph:\tit has tabs,   several   spaces, trailing spaces   \n"
    "and a Windows line ending.\r\nThe end."
)

TEXTS = [
    ("empty", ""),
    ("single_space", " "),
    ("single_letter", "a"),
    ("hello", "Hello world"),
    ("hello_bang", "Hello, world! How are you today?"),
    ("leading_spaces", "   leading spaces"),
    ("trailing_spaces", "trailing spaces    "),
    ("space_runs", "a  b   c    d     e\t\tf \t g"),
    ("only_spaces", "        "),
    ("tabs", "\tindented\n\t\tdouble\n\t \t mixed"),
    ("newlines", "line1\nline2\n\nline4\n\n\n\nline8\n"),
    ("crlf", "first\r\nsecond\r\n\r\nthird\r\r\n \r\n  x"),
    ("newline_space_mix", "a \n b  \n\n  c\n \n d"),
    ("numbers_short", "0 1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890"),
    ("numbers_long", "31415926535897932384626433832795028841971693993751058209749445923078164062862089986280"),
    ("numbers_mixed", "v1.2.3 x86_64 3.14 -7 +8 1e10 0xFF 2024-06-01 12:30:45 $1,299.99 50% #1 a1b2c3"),
    ("unicode_digits", "٠١٢٣٤٥٦٧٨٩ ० १ २ ३ ½ ² Ⅻ ①②③"),
    ("contractions", "it's don't we're I've I'm we'll he'd 's 't 're"),
    ("contractions_upper", "IT'S DON'T WE'RE I'VE I'M WE'LL HE'D 'S 'T 'RE 'Ll 'vE"),
    ("apostrophes", "rock 'n' roll, the '90s, 'quoted', O'Neil ’curly’ ‘quotes’"),
    ("punctuation", "!!! ??? ... --- *** ((())) [[]] {{}} <<>> ;;; ::: ,,, ''' \"\"\" ``` ~~~ ^^^ ||| \\\\"),
    ("symbols_words", "(foo) [bar] {baz} <qux> \"quoted\" #tag @user $var %mod &and *ptr +plus =eq"),
    ("swift", "import Foundation\n\nstruct Point: Hashable {\n    var x: Double\n    var y: Double\n\n    func distance(to other: Point) -> Double {\n        let dx = x - other.x, dy = y - other.y\n        return (dx * dx + dy * dy).squareRoot()\n    }\n}\n"),
    ("python", "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\nif __name__ == '__main__':\n    print([fib(i) for i in range(20)])\n"),
    ("c", "#include <stdio.h>\n\nint main(int argc, char **argv) {\n\tfor (int i = 0; i < argc; ++i) {\n\t\tprintf(\"%d: %s\\n\", i, argv[i]);\n\t}\n\treturn 0;\n}\n"),
    ("rust", "fn main() {\n    let v: Vec<u64> = (1..=10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n    if let Some(&m) = v.iter().max() { assert_eq!(m, 100); }\n}\n"),
    ("javascript", "const add = (a, b) => a + b;\nexport default async function* gen() {\n  yield* [1, 2, 3].map(n => `${n}px`);\n}\n// TODO: handle null ?? undefined !== false\n"),
    ("html", "<!DOCTYPE html>\n<html lang=\"en\">\n<body><div class='x'>&nbsp;&lt;tag&gt; <b>bold</b> <s>old</s></div></body>\n</html>"),
    ("sql", "SELECT u.id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.created_at >= '2024-01-01' GROUP BY u.id HAVING n > 5;"),
    ("shell", "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do\n  wc -l \"$f\" | awk '{print $1}' >> out.log 2>&1\ndone\n"),
    ("json", "{\"name\": \"loza\", \"version\": 1, \"tags\": [\"agent\", \"llm\"], \"nested\": {\"ok\": true, \"pi\": 3.14159, \"none\": null}, \"empty\": {}, \"list\": []}"),
    ("english", "Our agent runtime loads a GGUF file, tokenizes the prompt and streams tokens back to the terminal."),
    ("german", "Größenwahnsinnige Straßenbahnführer übernehmen Verantwortung für die Überprüfung äußerst schwieriger Aufgaben."),
    ("french", "L'été dernier, nous sommes allés à Montréal ; c'était très agréable — n'est-ce pas ? « Oui ! »"),
    ("spanish", "¿Dónde está la biblioteca? ¡Mañana será otro día, señor Muñoz!"),
    ("chinese", "我们正在测试分词器。这是一个很长的中文句子，没有空格，用来检查预分词是否正确处理汉字。"),
    ("japanese", "東京は日本の首都です。ひらがな、カタカナ、漢字を混ぜた文章をトークン化します。ｶﾀｶﾅも。"),
    ("korean", "안녕하세요! 저는 토크나이저를 테스트하고 있습니다. 한국어 문장입니다."),
    ("arabic", "مرحبا بالعالم! هذه جملة عربية لاختبار المحلل، مع أرقام ١٢٣ و 456."),
    ("hindi", "नमस्ते दुनिया! यह हिंदी में एक परीक्षण वाक्य है। क्षत्रिय ज्ञान"),
    ("russian", "Съешь же ещё этих мягких французских булок, да выпей чаю. ПРОВЕРКА регистра."),
    ("greek_hebrew_thai", "Καλημέρα κόσμε שלום עולם สวัสดีชาวโลก"),
    ("emoji", "I ❤️ emoji 😀😃😄 👍🏽 🚀 ✨ 🎉🎉🎉"),
    ("emoji_zwj", "family 👨‍👩‍👧‍👦 couple 👩‍❤️‍👨 rainbow 🏳️‍🌈 pirate 🏴‍☠️ technologist 🧑🏿‍💻"),
    ("flags", "flags 🇺🇸🇩🇪🇫🇷🇯🇵🇨🇳 🏴󠁧󠁢󠁳󠁣󠁴󠁿 end"),
    ("combining", "e\u0301 a\u0308 n\u0303 Z\u0351\u0308\u0352a\u036b\u0300l\u0350\u0357g\u033e\u0314o (NFD) vs é ä ñ (NFC)"),
    ("special_spaces", "nbsp\u00a0here, em\u2003space, ideographic\u3000space, zero\u200bwidth, line\u2028sep, nel\u0085x"),
    ("control_chars", "bell\u0007 null\u0000 esc\u001b[31m del\u007f unit\u001f end"),
    ("chat_markup", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWrite hello world in C.<|im_end|>\n<|im_start|>assistant\n"),
    ("chat_markup_tight", "<|im_start|><|im_end|><|endoftext|>x<|im_start|>y<|im_end|>"),
    ("tool_call", "<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"README.md\"}}\n</tool_call>"),
    ("fake_special", "<|im_start |> <|im_start <|not_a_token|> <im_start> <|IM_START|> |im_end|>"),
    ("special_words", "<repo_name>loza<file_sep>main.swift<filename>x<gh_stars>10<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"),
    ("long_paragraph", LONG_PARAGRAPH),
]

# Subset used for the pre-tokenizers the two models do not use.
VARIANT_TEXTS = [
    "hello", "hello_bang", "space_runs", "tabs", "newlines", "crlf", "newline_space_mix", "numbers_short",
    "numbers_long", "numbers_mixed", "unicode_digits", "contractions", "contractions_upper", "punctuation",
    "symbols_words", "python", "c", "json", "french", "chinese", "hindi", "emoji_zwj", "special_spaces",
    "combining", "chat_markup", "long_paragraph",
]

VARIANTS = [  # (name, base model file, tokenizer.ggml.pre)
    ("smollm2-pre-gpt-2", "smollm2-135m-instruct.gguf", "gpt-2"),
    ("smollm2-pre-default", "smollm2-135m-instruct.gguf", "default"),
    ("smollm2-pre-llama3", "smollm2-135m-instruct.gguf", "llama3"),
    ("smollm2-pre-qwen2", "smollm2-135m-instruct.gguf", "qwen2"),
]


class SplitMix:
    """SplitMix64, the generator TokenizerTests uses for its pseudo-word corpus."""
    M = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.M
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.M
        return z ^ (z >> 31)


POOLS = ["etaoinshrdlucmfwypvbgkqjxz", "ETAOINSHRDLU", "0123456789", ".,;:!?()[]{}<>=+-*/\"'",
         "абвгдежзиклмнопрст", "的一是不了人我在有他这为之"]


def pseudo_words(seed, size):
    """Random words (mostly lowercase Latin, some capitals, digits, punctuation, Cyrillic, Chinese):
    must stay identical to PerformanceTests.pseudoWords in Swift."""
    rng = SplitMix(seed)
    parts, n = [], 0
    while n < size:
        pool = POOLS[0 if rng.next() % 100 < 70 else rng.next() % len(POOLS)]
        word = "".join(pool[rng.next() % len(pool)] for _ in range(1 + rng.next() % 9))
        word += "\n" if rng.next() % 12 == 0 else " "
        parts.append(word)
        n += len(word.encode())
    return "".join(parts)


def fnv64(ids):
    h = 0xCBF29CE484222325
    for i in ids:
        h = ((h ^ (i & 0xFFFFFFFF)) * 0x100000001B3) & SplitMix.M
    return h


def vocab_of(llm):
    return llama_cpp.llama_model_get_vocab(llm.model)


def opt(v):
    return None if v < 0 else int(v)


def piece(llm, tid):
    # llama_token_to_piece with a buffer large enough for any token (Llama.detokenize uses 32 bytes
    # per token and returns nothing for longer pieces)
    import ctypes
    buf = ctypes.create_string_buffer(1024)
    n = llama_cpp.llama_token_to_piece(vocab_of(llm), tid, buf, len(buf), 0, True)
    if n < 0:
        raise RuntimeError(f"token {tid}: piece longer than {len(buf)} bytes")
    return buf.raw[:n]


def describe(llm, texts, with_pieces):
    v = vocab_of(llm)
    n = llama_cpp.llama_vocab_n_tokens(v)
    out = {
        "vocab_size": n,
        "bos": opt(llama_cpp.llama_vocab_bos(v)),
        "eos": opt(llama_cpp.llama_vocab_eos(v)),
        "eot": opt(llama_cpp.llama_vocab_eot(v)),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(v)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(v)),
        "eog": [i for i in range(n) if llama_cpp.llama_vocab_is_eog(v, i)],
        "cases": [],
    }
    for name, text in texts:
        raw = text.encode("utf-8")
        ids = llm.tokenize(raw, add_bos=True, special=True)
        plain = llm.tokenize(raw, add_bos=False, special=False)
        back = llm.detokenize(ids, special=True)
        case = {"name": name, "text": text, "ids": ids}
        if plain != ids:
            case["ids_no_special"] = plain
        if back != raw:
            case["detokenized_hex"] = back.hex()
        out["cases"].append(case)
    if with_pieces:
        # a bulk check: 1 MB of pseudo-words, compared by count and hash of the ids
        text = pseudo_words(42, 1 << 20)
        ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        out["bulk"] = {"seed": 42, "bytes": 1 << 20, "count": len(ids), "fnv64": f"{fnv64(ids):016x}"}
        # bytes of single tokens (llama_token_to_piece, special rendered): every non-normal token,
        # plus a spread of normal ones
        sample = sorted(set(list(range(0, n, 97)) + [i for i in range(n) if not
                        (llama_cpp.llama_vocab_get_attr(v, i) & llama_cpp.LLAMA_TOKEN_ATTR_NORMAL)]))
        out["pieces"] = [[i, piece(llm, i).hex()] for i in sample]
    return out


def load(path):
    return Llama(model_path=str(path), vocab_only=True, verbose=False)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for fname, label in [("qwen2.5-coder-0.5b-instruct.gguf", "qwen2.5-coder-0.5b-instruct"),
                         ("smollm2-135m-instruct.gguf", "smollm2-135m-instruct")]:
        path = MODELS / fname
        if not path.exists():
            sys.exit(f"missing model {path}")
        d = describe(load(path), TEXTS, with_pieces=True)
        d = {"model": fname, "reference": f"llama-cpp-python {llama_cpp.__version__}", **d}
        dst = OUT / f"tokenizer-{label}.json"
        dst.write_text(json.dumps(d, ensure_ascii=False, indent=1) + "\n")
        print(f"wrote {dst} ({len(d['cases'])} cases)")

    by_name = dict(TEXTS)
    with tempfile.TemporaryDirectory() as tmp:
        for label, base, pre in VARIANTS:
            dst_model = Path(tmp) / f"{label}.gguf"
            subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(MODELS / base),
                            str(dst_model), "--pre-tokenizer", pre, "--force"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            d = describe(load(dst_model), [(t, by_name[t]) for t in VARIANT_TEXTS], with_pieces=False)
            d = {"model": base, "pre": pre, "reference": f"llama-cpp-python {llama_cpp.__version__}", **d}
            dst = OUT / f"tokenizer-{label}.json"
            dst.write_text(json.dumps(d, ensure_ascii=False, indent=1) + "\n")
            print(f"wrote {dst} ({len(d['cases'])} cases)")


if __name__ == "__main__":
    main()
