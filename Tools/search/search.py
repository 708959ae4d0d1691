#!/usr/bin/env python3
"""search plugin: {pattern, path?, glob?, ignore_case?, max_results?} -> file:line:text matches."""
import fnmatch
import json
import os
import re
import sys

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".build", ".venv"}
MAX_LINE_CHARS = 300


def files_under(root, glob):
    if os.path.isfile(root):
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if glob is None or fnmatch.fnmatch(name, glob):
                yield os.path.join(dirpath, name)


def main():
    args = json.load(sys.stdin)
    flags = re.IGNORECASE if args.get("ignore_case") else 0
    try:
        regex = re.compile(args["pattern"], flags)
    except re.error as e:
        sys.exit(f"invalid pattern: {e}")
    root = args.get("path") or "."
    # Small models write "." as ".\\" (a stray JSON escape): a path that does not exist without it is the same path.
    if not os.path.exists(root) and root.rstrip("\\") and os.path.exists(root.rstrip("\\")):
        root = root.rstrip("\\")
    if not os.path.exists(root):
        sys.exit(f"no such file or directory: {root}")
    limit = min(int(args.get("max_results") or 100), 1000)
    found = 0
    # An empty glob (models fill every optional field) means no filter, like an absent one.
    for path in files_under(root, args.get("glob") or None):
        try:
            with open(path, "rb") as f:
                data = f.read(4 << 20)
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue
        shown = os.path.relpath(path) if not os.path.isabs(root) else path
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if regex.search(line):
                if len(line) > MAX_LINE_CHARS:
                    line = line[:MAX_LINE_CHARS] + " [...]"
                print(f"{shown}:{n}:{line}")
                found += 1
                if found >= limit:
                    print(f"[stopped after {limit} matches; narrow the pattern or raise max_results]")
                    return
    if found == 0:
        print("no matches")


if __name__ == "__main__":
    main()
