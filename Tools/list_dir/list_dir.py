#!/usr/bin/env python3
"""list_dir plugin: {path?, depth?} -> an indented listing, at most 500 entries."""
import json
import os
import sys

MAX_ENTRIES = 500


def main():
    args = json.load(sys.stdin)
    root = args.get("path") or "."
    depth = max(1, min(int(args.get("depth") or 1), 4))
    if not os.path.isdir(root):
        sys.exit(f"not a directory: {root}")
    shown = 0
    lines = [root.rstrip("/") + "/"]

    def walk(path, level):
        nonlocal shown
        try:
            entries = sorted(os.scandir(path), key=lambda e: (not e.is_dir(follow_symlinks=False), e.name))
        except OSError as e:
            lines.append("  " * level + f"[cannot list: {e.strerror}]")
            return
        for entry in entries:
            if shown >= MAX_ENTRIES:
                return
            shown += 1
            indent = "  " * level
            if entry.is_symlink():
                lines.append(f"{indent}{entry.name} -> {os.readlink(entry.path)}")
            elif entry.is_dir():
                lines.append(f"{indent}{entry.name}/")
                if level < depth:
                    walk(entry.path, level + 1)
            else:
                try:
                    size = entry.stat(follow_symlinks=False).st_size
                except OSError:
                    size = 0
                lines.append(f"{indent}{entry.name}  ({size} bytes)")

    walk(root, 1)
    if shown >= MAX_ENTRIES:
        lines.append(f"[stopped after {MAX_ENTRIES} entries; list a subdirectory]")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
