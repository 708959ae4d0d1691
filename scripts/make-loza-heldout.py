#!/usr/bin/env python3
"""Writes scripts/loza-heldout.txt: held-out natural text for `loza eval nll` in the LoZA quality table
(scripts/loza-quality.py). Same source and filter as scripts/make-loza-corpus.py (prose paragraphs of
CPython's pydoc_data.topics, PSF documentation licence), but only the paragraphs AFTER the ones the
built-in corpus (calibration text) holds, so no calibration paragraph appears in it. Nothing downloaded.
The held-out pydoc prose is ~44K characters (~10K tokens), too short for a 16K context, so the
Debian licence texts in /usr/share/common-licenses (GPL-3, Apache-2.0, MPL-2.0, GFDL-1.3: prose, also never
calibration text) follow it, paragraphs re-wrapped to single lines.
Usage: scripts/make-loza-heldout.py [CORPUS_LIMIT=150000] [HELDOUT_CHARS=120000]"""
import re, sys
from pydoc_data.topics import topics

LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 150_000
WANT = int(sys.argv[2]) if len(sys.argv) > 2 else 120_000
paras, total = [], 0
for key in sorted(topics):
    for para in re.split(r"\n\s*\n", topics[key]):
        lines = para.split("\n")
        if any(l.startswith(" ") for l in lines):
            continue
        if set(lines[-1]) <= set("*=-^~"):
            continue
        text = " ".join(l.strip() for l in lines).strip()
        if len(text) < 120 or '"""' in text or "\\" in text:
            continue
        paras.append(text)
# The corpus took paragraphs until its running total reached LIMIT (make-loza-corpus.py).
used = 0
for i, p in enumerate(paras):
    used += len(p) + 2
    if used >= LIMIT:
        rest = paras[i + 1:]
        break
corpus = set(paras[:i + 1])
out, n = [], 0
for p in rest:
    if p in corpus:          # a paragraph repeated under another topic: not held out
        continue
    out.append(p); n += len(p) + 2
    if n >= WANT:
        break
for lic in ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"]:
    if n >= WANT:
        break
    with open("/usr/share/common-licenses/" + lic) as f:
        for para in re.split(r"\n\s*\n", f.read()):
            text = " ".join(l.strip() for l in para.split("\n")).strip()
            if len(text) < 40:
                continue
            out.append(text); n += len(text) + 2
with open("scripts/loza-heldout.txt", "w") as f:
    f.write("\n\n".join(out) + "\n")
print(len(out), "paragraphs", n, "chars")
