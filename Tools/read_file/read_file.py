#!/usr/bin/env python3
"""read_file plugin: {path, start_line?, end_line?} on stdin -> numbered lines on stdout."""
import json
import sys

MAX_LINES = 2000
MAX_LINE_CHARS = 2000


def main():
    args = json.load(sys.stdin)
    path = args["path"]
    start = int(args.get("start_line") or 1)
    end = args.get("end_line")
    end = int(end) if end is not None else None
    if start < 1 or (end is not None and end < start):
        sys.exit(f"invalid range: start_line={start}, end_line={end}")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        sys.exit(f"no such file: {path}")
    except IsADirectoryError:
        sys.exit(f"{path} is a directory (use list_dir)")
    except PermissionError:
        sys.exit(f"permission denied: {path}")
    if b"\0" in data[:8192]:
        sys.exit(f"{path} looks like a binary file ({len(data)} bytes)")
    lines = data.decode("utf-8", "replace").splitlines()
    total = len(lines)
    if total == 0:
        print(f"({path} is empty)")
        return
    if start > total:
        sys.exit(f"start_line {start} is past the end of {path} ({total} lines)")
    last = min(end if end is not None else total, total, start + MAX_LINES - 1)
    width = len(str(last))
    out = []
    for n in range(start, last + 1):
        line = lines[n - 1]
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f" [... {len(line) - MAX_LINE_CHARS} more characters]"
        out.append(f"{n:>{width}}\t{line}")
    print("\n".join(out))
    if last < total and (end is None or end > last):
        print(f"[lines {start}-{last} of {total}; ask for start_line={last + 1} to read on]")


if __name__ == "__main__":
    main()
