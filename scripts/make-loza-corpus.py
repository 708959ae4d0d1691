#!/usr/bin/env python3
"""Writes Sources/LoZACalibration/Texts/python-docs.txt (read as LoZACorpus.naturalText; exactly the
text, no trailing newline): a modest natural-text corpus for `loza calibrate` and
`loza eval nll` (built-in long text), taken from the Python documentation topics that ship with
CPython (pydoc_data.topics, PSF documentation licence). Prose paragraphs only (grammar and code
blocks dropped), in a fixed order, so the corpus is the same on every run. Nothing is downloaded."""
import re, sys
from pydoc_data.topics import topics

LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 150_000
out, total = [], 0
for key in sorted(topics):
    for para in re.split(r"\n\s*\n", topics[key]):
        lines = para.split("\n")
        if any(l.startswith(" ") for l in lines):       # code, grammar, tables
            continue
        if set(lines[-1]) <= set("*=-^~"):              # heading underline
            continue
        text = " ".join(l.strip() for l in lines).strip()
        if len(text) < 120 or '"""' in text or "\\" in text:
            continue
        out.append(text)
        total += len(text) + 2
        if total >= LIMIT:
            break
    if total >= LIMIT:
        break
body = "\n\n".join(out)
with open("Sources/LoZACalibration/Texts/python-docs.txt", "w", encoding="utf-8", newline="") as f:
    f.write(body)
print(len(out), "paragraphs", len(body), "chars")
