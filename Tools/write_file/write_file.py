#!/usr/bin/env python3
"""write_file plugin: {path, content, append?} -> a one-line confirmation."""
import json
import os
import sys


def main():
    args = json.load(sys.stdin)
    path = args["path"]
    content = args["content"]
    if os.path.isdir(path):
        sys.exit(f"{path} is a directory")
    parent = os.path.dirname(path)
    try:
        if parent:
            os.makedirs(parent, exist_ok=True)
        data = content.encode("utf-8")
        with open(path, "ab" if args.get("append") else "wb") as f:
            f.write(data)
    except OSError as e:
        sys.exit(f"cannot write {path}: {e.strerror}")
    verb = "appended" if args.get("append") else "wrote"
    print(f"{verb} {len(data)} bytes to {path}")


if __name__ == "__main__":
    main()
